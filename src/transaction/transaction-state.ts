import { randomUUID } from 'node:crypto'
import type { EntityManager, ObjectLiteral, QueryRunner } from 'typeorm'
import type { ActionChange } from '../scope/action-change'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'
import { insertAudits, type PendingAudit } from './audit-writer'
import { TransactionRollbackOnlyError, type FailedWrite } from './transaction-rollback-only-error'
import type { PendingJob } from './pending-job'
import { jobsCommitted, writeJobs, type WrittenJobs } from './job-writer'

/** Where an after-commit callback came from, for error reports. */
export interface AfterCommitOrigin {
  /** The entity class name of the event whose handler called `ctx.afterCommit`, e.g. `'Order'`. */
  readonly entityName: string
  /** The event type of that handler. */
  readonly type: EventActionType
  /** Pre or Post: when that handler ran. */
  readonly timing: EventActionTiming
}

/** @internal */
export type AfterCommitErrorHandler = (error: unknown, origin: AfterCommitOrigin) => void

interface AfterCommit {
  readonly fn: () => unknown
  readonly origin: AfterCommitOrigin
  readonly onError: AfterCommitErrorHandler
}

/** A change waiting for commit before it reaches its action's list. */
interface PendingChange {
  readonly collector: ActionChange[]
  readonly change: ActionChange
}

/** How much was pending when a savepoint started, and whether the transaction was doomed then. */
interface Mark {
  readonly audits: number
  readonly afterCommit: number
  readonly changes: number
  readonly jobs: number
  readonly failedWrite: FailedWrite | undefined
}

/**
 * What one transaction (one query runner) has pending. Savepoints (nested
 * `transaction()` calls) mark how much was pending when they started, so that
 * rolling one back drops only what was added inside it.
 */
interface TransactionState {
  transactionId: string
  audits: PendingAudit[]
  afterCommit: AfterCommit[]
  changes: PendingChange[]
  /** Jobs (`ctx.enqueue`, durable bindings) to write before COMMIT. */
  jobs: PendingJob[]
  /** The jobs written before COMMIT, for their sinks' after-commit hand-over. */
  writtenJobs: WrittenJobs | undefined
  marks: Map<number, Mark>
  /** A write that failed inside this transaction without rolling it back: COMMIT must not happen. */
  failedWrite: FailedWrite | undefined
}

// The one registry of per-transaction state, per query runner.
const states = new WeakMap<QueryRunner, TransactionState>()

function stateOf(queryRunner: QueryRunner): TransactionState {
  let state = states.get(queryRunner)
  if (!state) {
    const pending = { audits: [], afterCommit: [], changes: [], jobs: [], writtenJobs: undefined }
    state = { transactionId: randomUUID(), ...pending, marks: new Map(), failedWrite: undefined }
    states.set(queryRunner, state)
  }
  return state
}

/**
 * @internal Queues an audit entry for the transaction's commit. Outside a
 * transaction it waits for the write's Post event ({@link flushOutsideTransaction}),
 * so that an entry made in Pre Insert still gets the generated key.
 */
export function recordAudit(manager: EntityManager, audit: PendingAudit): void | Promise<void> {
  const queryRunner = manager.queryRunner
  if (queryRunner) {
    stateOf(queryRunner).audits.push(audit)
    return
  }
  // A manager without a query runner (EventActions on a DataSource, outside any transaction): nothing to wait for.
  return withQueryRunner(manager, (qr) => insertAudits(qr, [audit], randomUUID()))
}

async function withQueryRunner<T>(manager: EntityManager, work: (queryRunner: QueryRunner) => Promise<T>): Promise<T> {
  const queryRunner = manager.connection.createQueryRunner()
  try {
    return await work(queryRunner)
  } finally {
    await queryRunner.release()
  }
}

/**
 * @internal After the Post event of a write that runs outside any transaction
 * (`{ transaction: false }`): that write is done, so the entries its events
 * made are written now. Entries of other writes wait for their own Post.
 */
export function flushOutsideTransaction(queryRunner: QueryRunner, owner: ObjectLiteral): void | Promise<void> {
  if (queryRunner.isTransactionActive) return
  const state = states.get(queryRunner)
  if (!state || (state.audits.length === 0 && state.jobs.length === 0)) return
  const own = state.audits.filter((a) => a.owner === owner)
  const jobs = state.jobs.filter((j) => j.owner === owner)
  if (own.length === 0 && jobs.length === 0) return
  state.audits = state.audits.filter((a) => a.owner !== owner)
  state.jobs = state.jobs.filter((j) => j.owner !== owner)
  return flushOwn(queryRunner, own, jobs)
}

async function flushOwn(queryRunner: QueryRunner, audits: PendingAudit[], jobs: PendingJob[]): Promise<void> {
  const transactionId = randomUUID()
  if (audits.length) await insertAudits(queryRunner, audits, transactionId)
  if (jobs.length) jobsCommitted(queryRunner, await writeJobs(queryRunner, jobs, transactionId))
}

/**
 * @internal Before the Pre event of a write outside any transaction: entries
 * the entity still owns come from an earlier attempt that failed before its
 * Post event (TypeORM's SQLite drivers share one query runner, so they would
 * otherwise linger): that write never happened, so they are dropped.
 */
export function dropStaleOutsideTransaction(queryRunner: QueryRunner, owner: ObjectLiteral): void {
  if (queryRunner.isTransactionActive) return
  const state = states.get(queryRunner)
  if (state && state.audits.length) state.audits = state.audits.filter((a) => a.owner !== owner)
  if (state && state.jobs.length) state.jobs = state.jobs.filter((j) => j.owner !== owner)
}

/**
 * @internal Queues a job for the commit of `queryRunner`'s transaction
 * (dropped if it, or the savepoint it was made in, rolls back). Outside a
 * transaction, the job's `owner` is the entity whose write's Post event
 * writes it (flushOutsideTransaction), as audit entries.
 */
export function recordJob(queryRunner: QueryRunner, job: PendingJob): void {
  stateOf(queryRunner).jobs.push(job)
}

/**
 * @internal A write the running action made: it reaches the action's list
 * when its transaction commits (at once outside a transaction); a rollback
 * drops it.
 */
export function recordChange(queryRunner: QueryRunner, collector: ActionChange[], change: ActionChange): void {
  if (queryRunner.isTransactionActive) stateOf(queryRunner).changes.push({ collector, change })
  else collector.push(change)
}

/** @internal The changes of `collector` still waiting in this transaction (for sync Post-action handlers, before commit). */
export function pendingChanges(queryRunner: QueryRunner | undefined, collector: ActionChange[]): ActionChange[] {
  const state = queryRunner && states.get(queryRunner)
  return state ? state.changes.filter((p) => p.collector === collector).map((p) => p.change) : []
}

/** @internal Runs `fn` once the transaction commits; at once when there is none. */
export function registerAfterCommit(
  manager: EntityManager,
  fn: () => unknown,
  origin: AfterCommitOrigin,
  onError: AfterCommitErrorHandler,
): void | Promise<void> {
  const queryRunner = manager.queryRunner
  if (queryRunner?.isTransactionActive) {
    stateOf(queryRunner).afterCommit.push({ fn, origin, onError })
    return
  }
  return runCallbacks([{ fn, origin, onError }])
}

async function runCallbacks(callbacks: AfterCommit[]): Promise<void> {
  for (const { fn, origin, onError } of callbacks) {
    try {
      await fn()
    } catch (error) {
      // The data is committed: an error here cannot undo it, so it is reported, never thrown or swallowed.
      try {
        onError(error, origin)
      } catch (handlerError) {
        // A failing report must not turn a committed save into a rejected one either.
        console.error('typeorm-event-actions: onAfterCommitError threw while reporting', error, handlerError)
      }
    }
  }
}

/**
 * @internal afterTransactionStart: a savepoint remembers what was pending
 * before it. At the outermost start, anything still pending belongs to
 * non-transactional work that failed before its Post event: it is dropped.
 */
export function transactionStarted(queryRunner: QueryRunner, depth: number): void {
  const state = states.get(queryRunner)
  if (!state) return
  if (depth === 1) states.delete(queryRunner)
  else {
    state.marks.set(depth, {
      audits: state.audits.length,
      afterCommit: state.afterCommit.length,
      changes: state.changes.length,
      jobs: state.jobs.length,
      failedWrite: state.failedWrite,
    })
  }
}

/**
 * @internal A save()/remove() that reaches event actions rejected inside a
 * transaction it did not start: its row, audit entries and after-commit
 * callbacks are still in the transaction. The transaction becomes
 * rollback-only (as in Hibernate): its COMMIT fails with
 * `TransactionRollbackOnlyError`. A savepoint that rolls back (a nested
 * `manager.transaction()` around the write) clears it again.
 */
export function markRollbackOnly(queryRunner: QueryRunner, failure: FailedWrite): void {
  const state = stateOf(queryRunner)
  state.failedWrite ??= failure
}

/** @internal beforeTransactionCommit: the outermost commit writes the audit entries and the jobs, in one batch each. */
export function beforeCommit(queryRunner: QueryRunner, depth: number): Promise<void> | void {
  if (depth !== 1) return
  const state = states.get(queryRunner)
  if (state?.failedWrite) throw new TransactionRollbackOnlyError(state.failedWrite)
  if (!state || (state.audits.length === 0 && state.jobs.length === 0)) return
  return writePending(queryRunner, state)
}

async function writePending(queryRunner: QueryRunner, state: TransactionState): Promise<void> {
  const { audits, jobs } = state
  state.audits = []
  state.jobs = []
  if (audits.length) await insertAudits(queryRunner, audits, state.transactionId)
  if (jobs.length) state.writtenJobs = await writeJobs(queryRunner, jobs, state.transactionId)
}

/**
 * @internal Writes now the audit entries the transaction level `depth` made
 * (those since its savepoint started; all at the outermost level), so that
 * a bulk write of many rows keeps none in memory between its batches. They
 * are written inside that level: its rollback takes them back.
 */
export function flushAuditsOfLevel(queryRunner: QueryRunner, depth: number): Promise<void> | void {
  const state = states.get(queryRunner)
  if (!state) return
  // No mark: nothing was pending when the level started, so everything pending is its own.
  const start = depth <= 1 ? 0 : (state.marks.get(depth)?.audits ?? 0)
  if (state.audits.length <= start) return
  const audits = state.audits.slice(start)
  state.audits.length = start
  return insertAudits(queryRunner, audits, state.transactionId)
}

/** @internal afterTransactionCommit: once nothing is open any more, the after-commit callbacks run. */
export function afterCommit(queryRunner: QueryRunner, depth: number): Promise<void> | void {
  if (depth !== 0) return
  const state = states.get(queryRunner)
  states.delete(queryRunner)
  if (!state) return
  // Committed: the action now sees these writes.
  for (const { collector, change } of state.changes) collector.push(change)
  jobsCommitted(queryRunner, state.writtenJobs)
  if (state.afterCommit.length) return runCallbacks(state.afterCommit)
}

/** @internal afterTransactionRollback: drop what the rolled-back level added (everything, at the outermost). */
export function afterRollback(queryRunner: QueryRunner, depth: number): void {
  const state = states.get(queryRunner)
  if (!state) return
  if (depth === 0) {
    states.delete(queryRunner)
    return
  }
  const mark = state.marks.get(depth + 1)
  state.audits.length = Math.min(state.audits.length, mark?.audits ?? 0)
  state.afterCommit.length = Math.min(state.afterCommit.length, mark?.afterCommit ?? 0)
  state.changes.length = Math.min(state.changes.length, mark?.changes ?? 0)
  state.jobs.length = Math.min(state.jobs.length, mark?.jobs ?? 0)
  state.failedWrite = mark?.failedWrite
  state.marks.delete(depth + 1)
}

import { randomUUID } from 'node:crypto'
import type { EntityManager, ObjectLiteral, QueryRunner } from 'typeorm'
import type { ActionContext } from '../scope/action-context'
import type { ActionChange } from '../scope/action-change'
import { AuditEntry } from '../audit/audit-entry'
import { HardError } from '../basics/errors'
import type { EntityInfo } from '../metadata/entity-info'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'
import { stableJson } from '../basics/stable-json'

/** @internal An audit entry waiting for its transaction to commit. */
export interface PendingAudit {
  readonly info: EntityInfo
  /** Where the key is read at flush time, so a Pre Insert entry gets the generated key. */
  readonly entity: ObjectLiteral
  /** Where the key is read when the entity's was cleared (a removed instance). */
  readonly fallback: ObjectLiteral | undefined
  /** The entity whose event made the entry: outside a transaction, its Post event writes it. */
  readonly owner: ObjectLiteral
  readonly operation: string
  /** The `{ attr: { old, new } }` as JSON, measured when it was recorded. */
  readonly changes: string
  readonly action: ActionContext | undefined
}

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

/**
 * What one transaction (one query runner) has pending. Savepoints (nested
 * `transaction()` calls) mark how much was pending when they started, so that
 * rolling one back drops only what was added inside it.
 */
/** A change waiting for commit before it reaches its action's list. */
interface PendingChange {
  readonly collector: ActionChange[]
  readonly change: ActionChange
}

interface TransactionState {
  transactionId: string
  audits: PendingAudit[]
  afterCommit: AfterCommit[]
  changes: PendingChange[]
  marks: Map<number, readonly [number, number, number]>
}

// The one registry of per-transaction state, per query runner.
const states = new WeakMap<QueryRunner, TransactionState>()

function stateOf(queryRunner: QueryRunner): TransactionState {
  let state = states.get(queryRunner)
  if (!state) {
    state = { transactionId: randomUUID(), audits: [], afterCommit: [], changes: [], marks: new Map() }
    states.set(queryRunner, state)
  }
  return state
}

/** The key as a string; a composite key as JSON with sorted keys, so that it has one string form. */
function idString(info: EntityInfo, entity: ObjectLiteral | undefined): string | undefined {
  if (!entity) return undefined
  const columns = info.metadata.primaryColumns
  const values = columns.map((c) => c.getEntityValue(entity) as unknown)
  if (values.some((v) => v === undefined || v === null)) return undefined
  if (values.length === 1) return String(values[0])
  return stableJson(Object.fromEntries(columns.map((c, i) => [c.propertyPath, values[i]])))
}

// `at` is written, not left to the column default: the database's clock reads in the
// database's time zone, which the drivers would take for Node's and shift by the difference.
const AUDIT_PROPERTIES = ['entityName', 'entityId', 'operation', 'changes', 'userId', 'actionName', 'requestId', 'transactionId', 'at'] as const

function toValues(audit: PendingAudit, transactionId: string, at: unknown): unknown[] {
  const entityId = idString(audit.info, audit.entity) ?? idString(audit.info, audit.fallback)
  if (entityId === undefined) {
    const key = audit.info.metadata.primaryColumns.map((c) => c.propertyPath).join(', ')
    throw new HardError(`cannot audit ${audit.info.name} '${audit.operation}': it has no primary key value (${key})`, {
      entityName: audit.info.name,
      attribute: audit.info.metadata.primaryColumns[0]?.propertyPath,
    })
  }
  const { action } = audit
  return [
    audit.info.name,
    entityId,
    audit.operation,
    audit.changes,
    action?.user === undefined ? null : String(action.user.id),
    action?.name ?? null,
    action?.requestId ?? null,
    transactionId,
    at,
  ]
}

// SQLite builds may allow only 999 bound parameters per statement (9 columns x 100 rows stays under
// it); PostgreSQL allows 65,535 and MySQL/MariaDB are bounded by packet size, so they take larger batches.
function rowsPerInsert(type: string): number {
  return type === 'sqlite' || type === 'better-sqlite3' ? 100 : 1000
}

/**
 * One parameterized multi-row INSERT per batch. Written by hand rather than
 * through TypeORM's InsertQueryBuilder, whose parameter bookkeeping grows
 * faster than the batch (it tripled the cost of an audited save on PostgreSQL).
 */
async function insertAudits(queryRunner: QueryRunner, audits: PendingAudit[], transactionId: string): Promise<void> {
  const { driver } = queryRunner.connection
  const metadata = queryRunner.connection.getMetadata(AuditEntry)
  const columns = AUDIT_PROPERTIES.map((p) => driver.escape(metadata.findColumnWithPropertyName(p)!.databaseName)).join(', ')
  const table = driver.escape(metadata.tableName)
  const numbered = driver.options.type === 'postgres'
  const batch = rowsPerInsert(driver.options.type)
  const at = driver.preparePersistentValue(new Date(), metadata.findColumnWithPropertyName('at')!)
  for (let i = 0; i < audits.length; i += batch) {
    const params: unknown[] = []
    const tuples: string[] = []
    for (const audit of audits.slice(i, i + batch)) {
      const values = toValues(audit, transactionId, at)
      tuples.push(`(${values.map((v) => (params.push(v), numbered ? `$${params.length}` : '?')).join(', ')})`)
    }
    await queryRunner.query(`INSERT INTO ${table} (${columns}) VALUES ${tuples.join(', ')}`, params)
  }
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
  if (!state || state.audits.length === 0) return
  const own = state.audits.filter((a) => a.owner === owner)
  if (own.length === 0) return
  state.audits = state.audits.filter((a) => a.owner !== owner)
  return insertAudits(queryRunner, own, randomUUID())
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
  else state.marks.set(depth, [state.audits.length, state.afterCommit.length, state.changes.length])
}

/** @internal beforeTransactionCommit: the outermost commit writes the audit entries, in one batch. */
export function beforeCommit(queryRunner: QueryRunner, depth: number): Promise<void> | void {
  if (depth !== 1) return
  const state = states.get(queryRunner)
  if (!state || state.audits.length === 0) return
  const audits = state.audits
  state.audits = []
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
  const [audits, callbacks, changes] = state.marks.get(depth + 1) ?? [0, 0, 0]
  state.audits.length = Math.min(state.audits.length, audits)
  state.afterCommit.length = Math.min(state.afterCommit.length, callbacks)
  state.changes.length = Math.min(state.changes.length, changes)
  state.marks.delete(depth + 1)
}

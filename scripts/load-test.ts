/**
 * Load test (issue 7 part 3), not part of `npm test`:
 *
 *   DB=postgres|mariadb [DB_URL=...] node --expose-gc -r ts-node/register/transpile-only scripts/load-test.ts \
 *     [--concurrency 200] [--seconds 60] [--users 50] [--accounts 500] [--pool 40] [--json file]
 *
 * `--concurrency` actions are kept in flight for `--seconds`. Each is a
 * `runAction` with a random user among `--users` and its own request id, in
 * one transaction, bound to action events (a Pre-action veto and an
 * after-commit Post-action handler that counts): it opens an account
 * (insert) or deposits into one (a locked read, then an update through
 * `save()` or `EventActions.update()`), and records one `LtEvent` row
 * (insert). Both entities are `@Audited` and have handlers; a few actions are
 * vetoed or refused by a handler on purpose.
 *
 * Then SQL checks the invariants, and the process exits 1 when one fails:
 * audit entries = committed writes (per entity and operation); every audit
 * entry is attributed to the user of the action that wrote it (the entry's
 * own changes name its request, and that request's row names its user);
 * Post-action handler runs = after-commit callbacks = committed actions; no
 * refused action left a row; no unexpected failure; heap after GC within
 * `--heap-tolerance` (10%) of the heap after the warm-up.
 *
 * It writes the tables lt_account and lt_event and the audit entries of
 * those entities (all emptied first): give it a scratch database.
 */
import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { DataSource, type DataSourceOptions, type EntityManager } from 'typeorm'
import { databaseOptions } from '../ormconfig'
import {
  ActionEvents,
  EventActions,
  EventActionTiming,
  runAction,
  SoftError,
  withEventActions,
  type ActionUser,
  type PostActionEventContext,
} from '../src'
import { LtAccount, LtEvent, probe } from './load-test/entities'
import { LatencyHistogram } from './load-test/latency-histogram'
import { parseOptions, type LoadOptions } from './load-test/options'

/** A full collection; `--expose-gc` gives `gc`, else V8 is asked for it at run time. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed) return exposed
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

async function settledHeap(gc: () => void): Promise<number> {
  // Several rounds: finalizers and weak references free more on the next collection.
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

/** What the run counted on the client side: counters only, nothing per action. */
interface RunStats {
  started: number
  committed: number
  /** Committed actions by name. */
  byName: Map<string, number>
  /** Failures by kind; the expected ones (veto, refused amount) are named so. */
  failures: Map<string, number>
  /** Post-action (after-commit) handler runs, and runs that saw a wrong change list or user. */
  postActions: number
  postMismatches: number
  latency: LatencyHistogram
}

const EXPECTED_VETO = 'expected: Pre-action veto (SoftError)'
const EXPECTED_REFUSAL = 'expected: LtEvent Pre Insert refused amount 0 (SoftError)'

function failureKind(error: unknown): string {
  if (error instanceof SoftError && error.message === 'negative amounts are vetoed') return EXPECTED_VETO
  if (error instanceof SoftError && error.message === 'amount must not be 0') return EXPECTED_REFUSAL
  const e = error as { name?: unknown; message?: unknown }
  // Numbers (ids, ports, durations) would make every failure its own kind.
  return `${String(e?.name ?? typeof error)}: ${String(e?.message ?? error).replace(/\d+/g, '#').slice(0, 120)}`
}

function connectionOptions(options: LoadOptions): DataSourceOptions {
  const base = databaseOptions(options.db)
  // pg reads the pool size from extra.max, mysql2 from poolSize.
  const pool = options.db === 'postgres' ? { extra: { max: options.pool } } : { poolSize: options.pool }
  return withEventActions({ ...base, ...pool, entities: [LtAccount, LtEvent], synchronize: true, logging: false } as DataSourceOptions)
}

function actionEvents(stats: RunStats): ActionEvents {
  const events = new ActionEvents({
    onPostActionError: (error) => {
      const kind = `Post-action handler: ${failureKind(error)}`
      stats.failures.set(kind, (stats.failures.get(kind) ?? 0) + 1)
    },
  })
  events.bind('accounts:*', EventActionTiming.Pre, ({ params }) => {
    if (typeof params.amount === 'number' && params.amount < 0) throw new SoftError('negative amounts are vetoed', { attribute: 'amount' })
  })
  events.bind('accounts:*', EventActionTiming.Post, (ctx: PostActionEventContext) => {
    stats.postActions++
    // Two writes per action; the LtEvent insert names the acting user as the action wrote it.
    const event = ctx.changes.find((c) => c.entityName === 'LtEvent')
    if (ctx.changes.length !== 2 || event?.changes.actingUser?.new !== String(ctx.user?.id) || event?.changes.requestId?.new !== ctx.requestId) {
      stats.postMismatches++
    }
  })
  return events
}

/** One action's work inside its transaction. */
async function work(manager: EntityManager, kind: 'open' | 'save' | 'update', user: string, requestId: string, accountId: number, amount: number): Promise<number> {
  let id = accountId
  if (kind === 'open') {
    const account = manager.create(LtAccount, { owner: `owner of ${requestId}`, balance: amount, updates: 0, lastUser: user, lastRequest: requestId })
    id = (await manager.save(account)).id
  } else {
    const account = await manager.findOne(LtAccount, { where: { id }, lock: { mode: 'pessimistic_write' } })
    if (!account) throw new Error(`account ${id} does not exist`)
    account.balance += amount
    account.updates += 1
    account.lastUser = user
    account.lastRequest = requestId
    if (kind === 'update') await new EventActions(manager).update(account, ['balance', 'updates', 'lastUser', 'lastRequest'])
    else await manager.save(account)
  }
  const event = await manager.save(manager.create(LtEvent, { accountId: id, amount, actingUser: user, requestId }))
  return event.id
}

async function oneAction(ds: DataSource, events: ActionEvents, users: readonly ActionUser[], accountIds: readonly number[], stats: RunStats): Promise<void> {
  const user = users[Math.floor(Math.random() * users.length)]!
  const requestId = randomUUID()
  const r = Math.random()
  // 1% vetoed before any work, 2% refused by a handler after the account was updated, 8% open, the rest deposit.
  const amount = r < 0.01 ? -1 : r < 0.03 ? 0 : 1 + Math.floor(Math.random() * 100)
  const kind = r >= 0.03 && r < 0.11 ? 'open' : Math.random() < 0.5 ? 'save' : 'update'
  const name = kind === 'open' ? 'accounts:open' : 'accounts:deposit'
  const accountId = accountIds[Math.floor(Math.random() * accountIds.length)]!
  stats.started++
  const started = performance.now()
  try {
    await runActionFor(ds, events, name, user, requestId, amount, accountId, kind)
    stats.committed++
    stats.byName.set(name, (stats.byName.get(name) ?? 0) + 1)
  } catch (error) {
    const k = failureKind(error)
    stats.failures.set(k, (stats.failures.get(k) ?? 0) + 1)
  } finally {
    stats.latency.add(performance.now() - started)
  }
}

function runActionFor(
  ds: DataSource,
  events: ActionEvents,
  name: string,
  user: ActionUser,
  requestId: string,
  amount: number,
  accountId: number,
  kind: 'open' | 'save' | 'update',
): Promise<number> {
  return runAction(
    { name, user, requestId, params: { amount, accountId } },
    (manager) => work(manager!, kind, String(user.id), requestId, accountId, amount),
    { events, dataSource: ds, transaction: true },
  )
}

/** `concurrency` workers, each starting its next action when the last one settled, until `until`. */
async function load(concurrency: number, until: number, act: () => Promise<void>): Promise<void> {
  const worker = async () => {
    while (performance.now() < until) await act()
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

interface Verdict {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  const gc = collector()
  const ds = new DataSource(connectionOptions(options))
  await ds.initialize()
  const q = (identifier: string) => ds.driver.escape(identifier)
  const scalar = async (sql: string, params: unknown[] = []): Promise<number> => {
    const rows: Record<string, unknown>[] = await ds.query(sql, params)
    return Number(Object.values(rows[0]!)[0] ?? 0)
  }
  const p = (i: number) => (options.db === 'postgres' ? `$${i}` : '?')
  const ours = ['LtAccount', 'LtEvent']

  await ds.query(`DELETE FROM ${q('lt_event')}`)
  await ds.query(`DELETE FROM ${q('lt_account')}`)
  await ds.query(`DELETE FROM ${q('audit_entry')} WHERE ${q('entityName')} IN (${p(1)}, ${p(2)})`, ours)

  // The seed is one action too, so that its entries are attributed like every other.
  const seedRequest = randomUUID()
  const accountIds = await runAction(
    { name: 'seed', user: { id: 'admin' }, requestId: seedRequest },
    async (manager) => {
      const accounts = Array.from({ length: options.accounts }, (_, i) =>
        manager!.create(LtAccount, { owner: `owner ${i}`, balance: 0, updates: 0, lastUser: 'admin', lastRequest: seedRequest }),
      )
      await manager!.save(accounts, { chunk: 100 })
      await manager!.save(manager!.create(LtEvent, { accountId: accounts[0]!.id, amount: 1, actingUser: 'admin', requestId: seedRequest }))
      return accounts.map((a) => a.id)
    },
    { dataSource: ds, transaction: true },
  )
  const seedWrites = options.accounts + 1
  const users: ActionUser[] = Array.from({ length: options.users }, (_, i) => Object.freeze({ id: `user-${i + 1}`, name: `User ${i + 1}` }))
  const stats: RunStats = {
    started: 0,
    committed: 0,
    byName: new Map(),
    failures: new Map(),
    postActions: 0,
    postMismatches: 0,
    latency: new LatencyHistogram(),
  }
  probe.afterCommits = 0
  probe.userMismatches = 0
  const events = actionEvents(stats)
  const act = () => oneAction(ds, events, users, accountIds, stats)

  console.log(
    `load test: ${options.db}, ${options.concurrency} concurrent actions for ${options.seconds} s, ${options.users} users, ` +
      `${options.accounts} accounts, pool ${options.pool}`,
  )
  // Warm-up (10% of the time, at most 5 s): the pool opens, code is compiled, caches fill. Then the baseline heap.
  const warmup = Math.min(5, options.seconds / 10)
  const t0 = performance.now()
  await load(options.concurrency, t0 + warmup * 1000, act)
  const heapBefore = await settledHeap(gc)
  const tMain = performance.now()
  await load(options.concurrency, t0 + options.seconds * 1000, act)
  const t1 = performance.now()
  const heapAfter = await settledHeap(gc)
  const elapsed = (t1 - t0) / 1000

  // ------------------------------------------------------------ SQL checks
  const accounts = await scalar(`SELECT COUNT(*) FROM ${q('lt_account')}`)
  const updates = await scalar(`SELECT COALESCE(SUM(${q('updates')}), 0) FROM ${q('lt_account')}`)
  const eventRows = await scalar(`SELECT COUNT(*) FROM ${q('lt_event')}`)
  const duplicateRequests = await scalar(`SELECT COUNT(*) - COUNT(DISTINCT ${q('requestId')}) FROM ${q('lt_event')}`)
  const refusedRows = await scalar(`SELECT COUNT(*) FROM ${q('lt_event')} WHERE ${q('amount')} <= 0`)
  const entries = async (entity: string, operation: string) =>
    scalar(`SELECT COUNT(*) FROM ${q('audit_entry')} WHERE ${q('entityName')} = ${p(1)} AND ${q('operation')} = ${p(2)}`, [entity, operation])
  const accountInserts = await entries('LtAccount', 'insert')
  const accountUpdates = await entries('LtAccount', 'update')
  const eventInserts = await entries('LtEvent', 'insert')
  const auditTotal = await scalar(`SELECT COUNT(*) FROM ${q('audit_entry')} WHERE ${q('entityName')} IN (${p(1)}, ${p(2)})`, ours)
  // An entry is attributed when its own changes (the entity's values, written by the action's code) name its
  // request id, and that request's LtEvent row (written by the same code) names the entry's user.
  const attributed = await scalar(
    `SELECT COUNT(*) FROM ${q('audit_entry')} a JOIN ${q('lt_event')} e ON e.${q('requestId')} = a.${q('requestId')} ` +
      `WHERE a.${q('entityName')} IN (${p(1)}, ${p(2)}) AND a.${q('userId')} = e.${q('actingUser')} ` +
      `AND a.${q('changes')} LIKE CONCAT('%"new":"', a.${q('requestId')}, '"%')`,
    ours,
  )
  const committedWrites = accounts + updates + eventRows
  const runWrites = committedWrites - seedWrites
  const runActions = eventRows - 1
  await ds.destroy()

  // -------------------------------------------------------------- verdicts
  const unexpected = [...stats.failures].filter(([kind]) => !kind.startsWith('expected:')).reduce((n, [, c]) => n + c, 0)
  const heapRatio = heapAfter / heapBefore
  const verdicts: Verdict[] = [
    { name: 'audit entries = committed writes', ok: auditTotal === committedWrites, detail: `${auditTotal} entries, ${committedWrites} writes` },
    {
      name: 'per entity and operation',
      ok: accountInserts === accounts && accountUpdates === updates && eventInserts === eventRows,
      detail: `LtAccount insert ${accountInserts}/${accounts}, update ${accountUpdates}/${updates}; LtEvent insert ${eventInserts}/${eventRows}`,
    },
    { name: 'committed writes = 2 x committed actions + seed', ok: committedWrites === 2 * stats.committed + seedWrites, detail: `${committedWrites} = 2 x ${stats.committed} + ${seedWrites}` },
    { name: 'user attribution', ok: attributed === auditTotal && auditTotal > 0, detail: `${attributed}/${auditTotal} (${((100 * attributed) / Math.max(1, auditTotal)).toFixed(2)}%)` },
    { name: 'handlers saw the acting user', ok: probe.userMismatches === 0, detail: `${probe.userMismatches} mismatches` },
    {
      name: 'Post-action runs = committed actions',
      ok: stats.postActions === stats.committed && runActions === stats.committed && stats.postMismatches === 0,
      detail: `${stats.postActions} runs, ${stats.committed} resolved, ${runActions} in the database, ${stats.postMismatches} with wrong changes`,
    },
    { name: 'after-commit callbacks = committed actions', ok: probe.afterCommits === stats.committed, detail: `${probe.afterCommits}` },
    { name: 'refused actions left nothing', ok: refusedRows === 0 && duplicateRequests === 0, detail: `${refusedRows} refused rows, ${duplicateRequests} duplicate requests` },
    { name: 'no unexpected failure', ok: unexpected === 0, detail: `${unexpected}` },
    {
      name: `heap flat (within ${Math.round(options.heapTolerance * 100)}%)`,
      ok: heapRatio <= 1 + options.heapTolerance,
      detail: `${mb(heapBefore)} -> ${mb(heapAfter)} MB (x${heapRatio.toFixed(3)})`,
    },
  ]

  const summary = {
    db: options.db,
    concurrency: options.concurrency,
    seconds: Number(elapsed.toFixed(1)),
    users: options.users,
    pool: options.pool,
    actionsStarted: stats.started,
    actionsCommitted: stats.committed,
    actionsPerSecond: Number((stats.committed / elapsed).toFixed(1)),
    writesCommitted: runWrites,
    writesPerSecond: Number((runWrites / elapsed).toFixed(1)),
    latencyMs: stats.latency.summary(),
    byName: Object.fromEntries(stats.byName),
    failures: Object.fromEntries(stats.failures),
    auditEntries: auditTotal,
    committedWrites,
    attributed,
    postActions: stats.postActions,
    afterCommits: probe.afterCommits,
    heapBeforeMB: mb(heapBefore),
    heapAfterMB: mb(heapAfter),
    heapRatio: Number(heapRatio.toFixed(3)),
    warmupSeconds: warmup,
    mainSeconds: Number(((t1 - tMain) / 1000).toFixed(1)),
    invariants: Object.fromEntries(verdicts.map((v) => [v.name, v.ok])),
  }
  console.log(
    `throughput: ${summary.actionsPerSecond} actions/s, ${summary.writesPerSecond} writes/s ` +
      `(${stats.committed} actions, ${runWrites} writes in ${elapsed.toFixed(1)} s); latency ms ${JSON.stringify(summary.latencyMs)}`,
  )
  console.log(`actions: ${stats.started} started, ${stats.committed} committed ${JSON.stringify(summary.byName)}`)
  console.log('failures by kind:')
  for (const [kind, count] of [...stats.failures].sort((a, b) => b[1] - a[1])) console.log(`  ${String(count).padStart(7)}  ${kind}`)
  if (stats.failures.size === 0) console.log('  none')
  for (const v of verdicts) console.log(`${v.ok ? 'ok  ' : 'FAIL'}  ${v.name}: ${v.detail}`)
  if (options.json) writeFileSync(options.json, `${JSON.stringify(summary, null, 2)}\n`)
  return verdicts.every((v) => v.ok) ? 0 : 1
}

function mb(bytes: number): number {
  return Number((bytes / 1024 / 1024).toFixed(1))
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 2
  },
)

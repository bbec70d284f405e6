import type { DataSource } from 'typeorm'
import type { JobRecord } from '../transaction/pending-job'
import type { RelaySettings } from './bullmq-options'
import type { BullBulkJob } from './bullmq-types'
import { withTimeout } from './outbox-timeouts'
import { outboxSelectList, outboxSql, recordOfRow, type OutboxRow, type OutboxSql } from './outbox-sql'

/** @internal Where the relay hands jobs over: a BullMQ Queue. */
export interface RelayTarget {
  addBulk(jobs: BullBulkJob[]): Promise<unknown>
  waitUntilReady(): Promise<unknown>
}

type Run = (text: string, params: unknown[]) => Promise<unknown>

// Redis that does not answer must not keep the relay's row locks (or a sweep) waiting for ever.
// An add that completes after the timeout is harmless: its row stays unsent, and adding it again
// is a no-op while the job exists.
const REDIS_TIMEOUT_MS = 10_000

function selectUnsent(sql: OutboxSql, escape: (name: string) => string, limit: number): string {
  // Row locks keep two relays (of two processes) off the same rows; SKIP LOCKED lets the second take the next ones.
  const lock = sql.engine === 'sqlite' ? '' : ' FOR UPDATE SKIP LOCKED'
  return `SELECT ${outboxSelectList(sql, escape)} FROM ${sql.table} WHERE ${sql.column('sentAt')} IS NULL ORDER BY ${sql.column('createdAt')} LIMIT ${limit}${lock}`
}

async function sendAndMark(run: Run, target: RelayTarget, settings: RelaySettings, sql: OutboxSql, rows: readonly OutboxRow[]): Promise<void> {
  const records: JobRecord[] = rows.map(recordOfRow)
  const jobs = records.map((record) => ({ name: record.name, data: record, opts: settings.jobOptions(record) }))
  await withTimeout(target.addBulk(jobs), REDIS_TIMEOUT_MS, `adding ${jobs.length} job(s) to BullMQ`)
  const params: unknown[] = [sql.date('sentAt', new Date())]
  const list = records.map((r) => (params.push(r.id), sql.param(params.length))).join(', ')
  await run(`UPDATE ${sql.table} SET ${sql.column('sentAt')} = ${sql.param(1)} WHERE ${sql.column('id')} IN (${list})`, params)
}

/** PostgreSQL, MySQL/MariaDB: one short transaction of its own, on a pooled connection. */
async function relayLocked(dataSource: DataSource, target: RelayTarget, settings: RelaySettings, sql: OutboxSql): Promise<number> {
  const queryRunner = dataSource.createQueryRunner()
  try {
    // READ COMMITTED: InnoDB's default REPEATABLE READ would gap-lock the unsent range, and block the app's inserts into it while Redis answers.
    await queryRunner.startTransaction('READ COMMITTED')
    try {
      const rows = (await queryRunner.query(selectUnsent(sql, (n) => dataSource.driver.escape(n), settings.batchSize))) as OutboxRow[]
      if (rows.length) await sendAndMark((t, p) => queryRunner.query(t, p), target, settings, sql, rows)
      await queryRunner.commitTransaction()
      return rows.length
    } catch (error) {
      if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction().catch(() => undefined)
      throw error
    }
  } finally {
    await queryRunner.release()
  }
}

// SQLite: TypeORM has one connection for everything, so relays of one DataSource take turns.
const IDLE_WAIT_MS = 2000
const IDLE_POLL_MS = 10
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const turns = new WeakMap<DataSource, Promise<unknown>>()

function inTurn<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const next = (turns.get(dataSource) ?? Promise.resolve()).then(work, work)
  turns.set(dataSource, next.catch(() => undefined))
  return next
}

/** SQLite: one process and no row locks; statements of their own, in turn. */
function relayShared(dataSource: DataSource, target: RelayTarget, settings: RelaySettings, sql: OutboxSql): Promise<number> {
  const text = selectUnsent(sql, (n) => dataSource.driver.escape(n), settings.batchSize)
  // The one connection sees the app's uncommitted rows: read only while no transaction is open on it.
  // A connection that stays busy is left to the next sweep.
  return inTurn(dataSource, async () =>
    (await whenIdle(dataSource, async () => {
      const rows = (await dataSource.query(text)) as OutboxRow[]
      if (rows.length) await sendAndMark((t, p) => dataSource.query(t, p), target, settings, sql, rows)
      return rows.length
    })) ?? 0,
  )
}

/**
 * @internal Hands one batch of unsent outbox rows (the oldest) to BullMQ and marks them sent; returns how many. A row is added as
 * job `ob_<id>`: a row sent twice (a relay that died between the add and its
 * UPDATE) is one job.
 */
export async function relayBatch(dataSource: DataSource, target: RelayTarget, settings: RelaySettings): Promise<number> {
  const sql = outboxSql(dataSource, 'the outbox relay')
  // Connected before any row is read: a Redis that is down fails here, holding no lock.
  await withTimeout(target.waitUntilReady(), REDIS_TIMEOUT_MS, 'connecting to Redis')
  return sql.engine === 'sqlite' ? relayShared(dataSource, target, settings, sql) : relayLocked(dataSource, target, settings, sql)
}

/**
 * @internal The hand-over right after a commit: the committing process has
 * the records in memory, so they go to BullMQ without reading the outbox,
 * and one UPDATE marks them sent. No row lock: a worker's sweep that takes
 * the same rows meanwhile adds jobs with the same ids, which BullMQ turns
 * into one job each. On SQLite the UPDATE waits for its turn and for the one
 * connection to be free of the app's transactions (else it would join one).
 */
export async function handOverRecords(dataSource: DataSource, target: RelayTarget, settings: RelaySettings, records: readonly JobRecord[]): Promise<void> {
  const sql = outboxSql(dataSource, 'the outbox relay')
  await withTimeout(target.waitUntilReady(), REDIS_TIMEOUT_MS, 'connecting to Redis')
  for (let i = 0; i < records.length; i += settings.batchSize) {
    const batch = records.slice(i, i + settings.batchSize)
    const jobs = batch.map((record) => ({ name: record.name, data: record, opts: settings.jobOptions(record) }))
    await withTimeout(target.addBulk(jobs), REDIS_TIMEOUT_MS, `adding ${jobs.length} job(s) to BullMQ`)
    const params: unknown[] = [sql.date('sentAt', new Date())]
    const list = batch.map((r) => (params.push(r.id), sql.param(params.length))).join(', ')
    const text = `UPDATE ${sql.table} SET ${sql.column('sentAt')} = ${sql.param(1)} WHERE ${sql.column('id')} IN (${list}) AND ${sql.column('sentAt')} IS NULL`
    if (sql.engine !== 'sqlite') await dataSource.query(text, params)
    else await inTurn(dataSource, () => whenIdle(dataSource, () => dataSource.query(text, params)))
  }
}

/**
 * SQLite: runs `work` once no transaction is open on the one connection,
 * checked in the same tick as `work` issues its first statement; gives up
 * (undefined: the rows are left to a sweep) after IDLE_WAIT_MS.
 */
async function whenIdle<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T | undefined> {
  const connection = dataSource.createQueryRunner()
  for (const end = Date.now() + IDLE_WAIT_MS; connection.isTransactionActive; await sleep(IDLE_POLL_MS)) {
    if (Date.now() > end) return undefined
  }
  return work()
}

/** @internal Relays batches until the outbox has no unsent row left for this relay; returns how many it sent. */
export async function relayPending(dataSource: DataSource, target: RelayTarget, settings: RelaySettings): Promise<number> {
  let total = 0
  for (;;) {
    const sent = await relayBatch(dataSource, target, settings)
    total += sent
    if (sent < settings.batchSize) return total
  }
}

import type { DataSource, QueryRunner } from 'typeorm'
import { describeValue } from '../basics/describe-value'
import { HardError } from '../basics/errors'
import { JobPayloadError } from '../transaction/job-payload-error'
import { runPrepared, type StatementResult } from '../typeorm/prepared-statement'
import type { JobRecord } from '../transaction/pending-job'
import type { ConsumeOptions, FailedJob, JobBackend, JobConsumer, JobCounts, JobRunner } from './job-backend'
import { checkPostgres, pgBossConnection } from './pg-boss-connection'
import { PgBossConsumer } from './pg-boss-consumer'
import { wholeOption } from './check-job-settings'
import { checkPgBossOptions, type PgBossJobsOptions, type PgBossSettings } from './pg-boss-options'
import { insertJobs, pgBossClass, type PgBossConfig, type PgBossDb, type PgBossInstance } from './pg-boss-peer'

export type { PgBossJobsOptions } from './pg-boss-options'

/**
 * PostgreSQL's jsonb has no U+0000: refused by name here rather than by an
 * "unsupported Unicode escape sequence" at COMMIT. The payload, name and key
 * were checked for it when enqueued; the action (its user) was not. JSON
 * writes U+0000 as an escape, so the plain JSON of the action says whether
 * the exact walk is needed.
 */
function checkStorable(record: JobRecord): void {
  if (!JSON.stringify(record.action ?? null).includes('\\u0000')) return
  let nul = false
  JSON.stringify(record, (key: string, value: unknown) => {
    if (key.includes('\0') || (typeof value === 'string' && value.includes('\0'))) nul = true
    return value
  })
  if (!nul) return
  throw new JobPayloadError(`job '${record.name}': its payload or action contains the character U+0000, which PostgreSQL cannot store in jsonb`, record.name, undefined)
}

/** Creates the queue unless it exists; a concurrent creation by another process is fine. */
async function ensureQueue(boss: PgBossInstance, queue: string): Promise<void> {
  if (await boss.getQueue(queue)) return
  try {
    await boss.createQueue(queue)
  } catch (error) {
    if (!(await boss.getQueue(queue))) throw error
  }
}

/** A statement through TypeORM's query(), as runPrepared gives it back. */
async function runPlain(queryRunner: QueryRunner, text: string, values: readonly unknown[]): Promise<StatementResult> {
  const result = await queryRunner.query(text, [...values], true)
  return { rows: result.records ?? [], rowCount: result.affected ?? 0 }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// pg-boss 10 archives failed jobs after 12 hours by default: a failed job should wait for a person longer.
const FAILED_KEPT_SECONDS = 14 * 24 * 3600

/**
 * How often a consuming instance looks for expired jobs: about four times
 * per `lostJobSeconds`, so that a lost job runs again soon after it expired,
 * but never less often than pg-boss's defaults (120 seconds on pg-boss 10,
 * 60 on 11 and 12), which are left alone for the default of 900.
 */
function expiryChecks(lostJobSeconds: number): Pick<PgBossConfig, 'maintenanceIntervalSeconds' | 'superviseIntervalSeconds' | 'monitorIntervalSeconds'> {
  const every = Math.max(1, Math.ceil(lostJobSeconds / 4))
  return {
    ...(every < 120 ? { maintenanceIntervalSeconds: every } : {}),
    ...(every < 60 ? { superviseIntervalSeconds: every, monitorIntervalSeconds: every } : {}),
  }
}

/** The backend {@link pgBossJobs} returns. */
class PgBossJobs implements JobBackend {
  readonly engine = 'pg-boss'
  readonly entities: readonly (new () => object)[] = []
  readonly maxPayloadBytes: number
  /** The one pg-boss instance per DataSource for writing and the jobs command, started on first use. */
  private readonly instances = new WeakMap<DataSource, Promise<PgBossInstance>>()
  /** The consumers running in this process, woken when their DataSource commits jobs. */
  private readonly consumers = new WeakMap<DataSource, Set<PgBossConsumer>>()

  constructor(private readonly settings: PgBossSettings) {
    this.maxPayloadBytes = settings.maxPayloadBytes
  }

  async write(queryRunner: QueryRunner, records: readonly JobRecord[]): Promise<void> {
    if (records.length === 0) return
    const { queue, schema, retryLimit, retryDelay, retryBackoff, lostJobSeconds } = this.settings
    const names = [...new Set(records.map((r) => `'${r.name}'`))].join(', ')
    checkPostgres(queryRunner.connection, `jobs ${names}`)
    for (const record of records) checkStorable(record)
    const boss = await this.instance(queryRunner.connection)
    let written = 0
    // pg-boss's SQL, run on the transaction's own connection: the jobs commit or roll back with the data.
    const execute = this.settings.preparedStatements ? runPrepared : runPlain
    const db: PgBossDb = {
      async executeSql(text, values) {
        const { rows, rowCount } = await execute(queryRunner, text, values ?? [])
        written += rowCount
        return { rows }
      },
    }
    const jobs = records.map((record) => ({ id: record.id, name: queue, data: record, retryLimit, retryDelay, retryBackoff, expireInSeconds: lostJobSeconds }))
    await insertJobs(boss, queue, jobs, db)
    // pg-boss's insert silently skips jobs whose queue it cannot see: committing without them would lose them.
    if (written !== records.length) {
      throw new HardError(
        `pgBossJobs(): pg-boss stored ${written} of ${records.length} jobs (${names}) in queue '${queue}' of schema '${schema}': the queue is missing, or invisible to a REPEATABLE READ/SERIALIZABLE transaction that began before it was created; the transaction is rolled back`,
      )
    }
  }

  committed(queryRunner: QueryRunner): void {
    for (const consumer of this.consumers.get(queryRunner.connection) ?? []) consumer.wake()
  }

  async consume(dataSource: DataSource, run: JobRunner, options: ConsumeOptions): Promise<JobConsumer> {
    checkPostgres(dataSource, 'startWorker')
    // A consumer has an instance of its own: stopping it must not stop the writes of this process.
    const boss = this.create(dataSource, Math.min(options.concurrency, 8) + 2, true)
    boss.on('error', options.onError)
    try {
      await boss.start()
      await ensureQueue(boss, this.settings.queue)
    } catch (error) {
      await boss.stop({ graceful: false }).catch(() => undefined)
      throw error
    }
    const consumer = new PgBossConsumer(boss, this.settings.queue, this.settings.pollMs, run, options)
    let running = this.consumers.get(dataSource)
    if (!running) this.consumers.set(dataSource, (running = new Set()))
    running.add(consumer)
    return {
      stop: async (timeoutMs) => {
        running.delete(consumer)
        await consumer.stop(timeoutMs)
      },
    }
  }

  async counts(dataSource: DataSource): Promise<JobCounts[]> {
    await this.ready(dataSource, 'counts')
    const rows: { name: string; pending: number; active: number; failed: number }[] = await dataSource.query(
      `SELECT COALESCE(data->>'name', '') AS name,
         count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS pending,
         count(*) FILTER (WHERE state = 'active')::int AS active,
         count(*) FILTER (WHERE state = 'failed')::int AS failed
       FROM ${this.settings.schema}.job
       WHERE name = $1 AND state IN ('created', 'retry', 'active', 'failed')
       GROUP BY 1 ORDER BY 1`,
      [this.settings.queue],
    )
    return rows.map(({ name, pending, active, failed }) => ({ name, pending, active, failed }))
  }

  async failed(dataSource: DataSource, name?: string, limit = 100): Promise<FailedJob[]> {
    if (name !== undefined && typeof name !== 'string') throw new HardError(`pgBossJobs failed(): the job name must be a string, got ${describeValue(name)}`)
    wholeOption('pgBossJobs', 'failed() limit', limit, 100, 1)
    await this.ready(dataSource, 'failed')
    const rows: FailedJob[] = await dataSource.query(
      `SELECT id::text AS id, COALESCE(data->>'name', '') AS name, COALESCE(data->>'key', '') AS key, retry_count + 1 AS attempts,
         COALESCE(output->>'message', output->'value'->>'message', output->>'value', output::text, '') AS error
       FROM ${this.settings.schema}.job
       WHERE name = $1 AND state = 'failed' AND ($2::text IS NULL OR data->>'name' = $2::text)
       ORDER BY completed_on DESC NULLS LAST, created_on DESC
       LIMIT $3`,
      [this.settings.queue, name ?? null, limit],
    )
    return rows.map(({ id, name: job, key, attempts, error }) => ({ id, name: job, key, attempts: Number(attempts), error }))
  }

  async retry(dataSource: DataSource, id: string): Promise<boolean> {
    const boss = await this.ready(dataSource, 'retry')
    if (typeof id !== 'string' || !UUID.test(id)) return false
    const { affected } = await boss.retry(this.settings.queue, id)
    return affected > 0
  }

  async discard(dataSource: DataSource, id: string): Promise<boolean> {
    await this.ready(dataSource, 'discard')
    if (typeof id !== 'string' || !UUID.test(id)) return false
    // One statement: a job retried meanwhile (no longer failed) is left alone.
    const rows: { n: number }[] = await dataSource.query(
      `WITH gone AS (DELETE FROM ${this.settings.schema}.job WHERE name = $1 AND id = $2::uuid AND state = 'failed' RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [this.settings.queue, id],
    )
    return (rows[0]?.n ?? 0) > 0
  }

  async close(dataSource: DataSource): Promise<void> {
    const ready = this.instances.get(dataSource)
    this.instances.delete(dataSource)
    const boss = await ready?.catch(() => undefined)
    await boss?.stop({ graceful: true, close: true, timeout: 1000 })
  }

  private ready(dataSource: DataSource, what: string): Promise<PgBossInstance> {
    checkPostgres(dataSource, `pgBossJobs ${what}()`)
    return this.instance(dataSource)
  }

  /** The DataSource's pg-boss instance, started (schema migrated, queue created) on first use. */
  private instance(dataSource: DataSource): Promise<PgBossInstance> {
    let ready = this.instances.get(dataSource)
    if (!ready) {
      const boss = this.create(dataSource, 2, false)
      // Without a listener, a pool error (PostgreSQL restarting) would be thrown by the EventEmitter and end the process.
      boss.on('error', (error) => console.error(`typeorm-event-actions: pg-boss (pgBossJobs) reported: ${(error as Error)?.message ?? String(error)}`))
      ready = boss.start().then(() => ensureQueue(boss, this.settings.queue)).then(() => boss)
      this.instances.set(dataSource, ready)
      // A failed start is not kept: the next use tries again (PostgreSQL may have been down).
      ready.catch(() => this.instances.get(dataSource) === ready && this.instances.delete(dataSource))
    }
    return ready
  }

  private create(dataSource: DataSource, max: number, supervise: boolean): PgBossInstance {
    const PgBoss = pgBossClass()
    const config: PgBossConfig = {
      ...pgBossConnection(dataSource, this.settings.connectionString),
      schema: this.settings.schema,
      max,
      supervise,
      schedule: false,
      archiveFailedAfterSeconds: FAILED_KEPT_SECONDS,
      ...(supervise ? expiryChecks(this.settings.lostJobSeconds) : {}),
    }
    return new PgBoss(config)
  }
}

/**
 * Jobs in the application's own PostgreSQL database, through
 * [pg-boss](https://github.com/timgit/pg-boss) (10 to 12, an optional peer:
 * `npm install pg-boss`): `ctx.enqueue` and durable bindings insert pg-boss
 * jobs through the saving transaction's connection, so a job exists exactly
 * when its transaction committed. Each job carries its name, key, payload
 * and action; a handler that throws is retried `retryLimit` times, `retryDelay`
 * seconds apart (doubling with `retryBackoff`), then stays failed until
 * retried by hand. pg-boss's tables live in `schema`; its own small pool
 * connects like the DataSource unless `connectionString` is given.
 *
 * @example
 * ```ts
 * const dataSource = new DataSource(
 *   withEventActions({ type: 'postgres', url: process.env.DATABASE_URL, entities: [Order] }, { jobs: pgBossJobs({ retryLimit: 3 }) }),
 * )
 * ```
 */
export function pgBossJobs(options: PgBossJobsOptions = {}): JobBackend {
  return new PgBossJobs(checkPgBossOptions(options))
}

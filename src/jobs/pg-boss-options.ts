import { describeValue } from '../basics/describe-value'
import { HardError } from '../basics/errors'
import type { JobSettings } from './job-backend'

/** Options of `pgBossJobs()`: the retry and size settings, and where pg-boss keeps the jobs. */
export interface PgBossJobsOptions extends JobSettings {
  /** The PostgreSQL schema of pg-boss's tables, created on first use. Defaults to `'pgboss'`. */
  schema?: string
  /**
   * Where pg-boss's own pool (for workers, queue setup and the jobs command)
   * connects. Defaults to the DataSource's own `url`, or its host, port,
   * username, password, database and ssl. The jobs themselves are always
   * written through the DataSource's transaction.
   */
  connectionString?: string
  /**
   * The pg-boss queue of all jobs; each job's name travels in its data (pg-boss
   * queue names allow fewer characters than job names). Letters, digits, `_`,
   * `-` and `.`. Defaults to `'typeorm-event-actions'`.
   */
  queue?: string
  /** Seconds a worker waits before it asks again when the queue was empty. Defaults to `2`, at least `0.5`. */
  pollingIntervalSeconds?: number
}

/** @internal The options of `pgBossJobs()`, checked, with the defaults applied. */
export interface PgBossSettings {
  readonly schema: string
  readonly queue: string
  readonly connectionString: string | undefined
  readonly retryLimit: number
  readonly retryDelay: number
  readonly retryBackoff: boolean
  readonly maxPayloadBytes: number
  readonly pollMs: number
  /** Each job's `expireInSeconds`: an active job older than this is failed by pg-boss's maintenance, and retried. */
  readonly lostJobSeconds: number
}

// pg-boss puts the schema into its SQL unquoted, as do the queries here.
const SCHEMA = /^[a-z_][a-z0-9_]{0,49}$/
// The characters every pg-boss version from 10 on accepts in a queue name.
const QUEUE = /^[A-Za-z0-9_.-]{1,100}$/

// pg-boss refuses expirations of 24 hours or more.
const MAX_EXPIRE_SECONDS = 24 * 3600 - 1

/** @internal A whole number option of at least `min` (and at most `max`), or `fallback` when undefined. */
export function whole(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`
    throw new HardError(`pgBossJobs(): ${name} must be a whole number ${range}, got ${describeValue(value)}`)
  }
  return value
}

/** @internal Checks the options of `pgBossJobs()`, naming the bad one. */
export function checkPgBossOptions(options: PgBossJobsOptions): PgBossSettings {
  if (options === null || typeof options !== 'object') throw new HardError(`pgBossJobs(options): options must be an object, got ${describeValue(options)}`)
  const { schema = 'pgboss', queue = 'typeorm-event-actions', connectionString, retryBackoff = true, pollingIntervalSeconds = 2 } = options
  if (typeof schema !== 'string' || !SCHEMA.test(schema)) {
    throw new HardError(`pgBossJobs(): schema must be a lower-case PostgreSQL name (letters, digits, _; at most 50), got ${describeValue(schema)}`)
  }
  if (typeof queue !== 'string' || !QUEUE.test(queue)) {
    throw new HardError(`pgBossJobs(): queue must be 1 to 100 letters, digits, '_', '-' or '.', got ${describeValue(queue)}`)
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw new HardError(`pgBossJobs(): connectionString must be a non-empty string, got ${describeValue(connectionString)}`)
  }
  if (typeof retryBackoff !== 'boolean') throw new HardError(`pgBossJobs(): retryBackoff must be true or false, got ${describeValue(retryBackoff)}`)
  if (typeof pollingIntervalSeconds !== 'number' || !(pollingIntervalSeconds >= 0.5) || !Number.isFinite(pollingIntervalSeconds)) {
    throw new HardError(`pgBossJobs(): pollingIntervalSeconds must be a number of at least 0.5, got ${describeValue(pollingIntervalSeconds)}`)
  }
  return {
    schema,
    queue,
    connectionString,
    retryLimit: whole('retryLimit', options.retryLimit, 5, 0),
    retryDelay: whole('retryDelay', options.retryDelay, 2, 0),
    retryBackoff,
    maxPayloadBytes: whole('maxPayloadBytes', options.maxPayloadBytes, 65536, 1),
    pollMs: pollingIntervalSeconds * 1000,
    lostJobSeconds: whole('lostJobSeconds', options.lostJobSeconds, 900, 1, MAX_EXPIRE_SECONDS),
  }
}

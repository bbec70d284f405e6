import { checkJobSettings, optionError, type CheckedJobSettings } from './check-job-settings'
import type { JobSettings } from './job-backend'

const MAKER = 'pgBossJobs'

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
  /**
   * Whether the job INSERT runs as a named prepared statement, which
   * PostgreSQL need not plan again on each transaction (about 0.4 ms less per
   * transaction that writes jobs). Defaults to `true`. Set it to `false`
   * behind a pooler that does not keep prepared statements across
   * transactions (PgBouncer in transaction mode with
   * `max_prepared_statements = 0`).
   */
  preparedStatements?: boolean
}

/** @internal The options of `pgBossJobs()`, checked, with the defaults applied. */
export interface PgBossSettings extends CheckedJobSettings {
  readonly schema: string
  readonly queue: string
  readonly connectionString: string | undefined
  readonly pollMs: number
  readonly preparedStatements: boolean
}

// pg-boss puts the schema into its SQL unquoted, as do the queries here.
const SCHEMA = /^[a-z_][a-z0-9_]{0,49}$/
// The characters every pg-boss version from 10 on accepts in a queue name.
const QUEUE = /^[A-Za-z0-9_.-]{1,100}$/

// pg-boss refuses expirations of 24 hours or more.
const MAX_EXPIRE_SECONDS = 24 * 3600 - 1

/** @internal Checks the options of `pgBossJobs()`, naming the bad one. */
export function checkPgBossOptions(options: PgBossJobsOptions): PgBossSettings {
  if (options === null || typeof options !== 'object') throw optionError(MAKER, 'options', 'an object', options)
  const { schema = 'pgboss', queue = 'typeorm-event-actions', connectionString, pollingIntervalSeconds = 2, preparedStatements = true } = options
  if (typeof schema !== 'string' || !SCHEMA.test(schema)) throw optionError(MAKER, 'schema', 'a lower-case PostgreSQL name (letters, digits, _; at most 50)', schema)
  if (typeof queue !== 'string' || !QUEUE.test(queue)) throw optionError(MAKER, 'queue', "1 to 100 letters, digits, '_', '-' or '.'", queue)
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw optionError(MAKER, 'connectionString', 'a non-empty string', connectionString)
  }
  if (typeof preparedStatements !== 'boolean') throw optionError(MAKER, 'preparedStatements', 'true or false', preparedStatements)
  if (typeof pollingIntervalSeconds !== 'number' || !(pollingIntervalSeconds >= 0.5) || !Number.isFinite(pollingIntervalSeconds)) {
    throw optionError(MAKER, 'pollingIntervalSeconds', 'a number of at least 0.5', pollingIntervalSeconds)
  }
  return {
    ...checkJobSettings(MAKER, options, { lostJob: { fallback: 900, max: MAX_EXPIRE_SECONDS }, wholeRetryDelay: true }),
    schema,
    queue,
    connectionString,
    pollMs: pollingIntervalSeconds * 1000,
    preparedStatements,
  }
}

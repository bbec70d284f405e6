import type { JobRecord } from '../transaction/pending-job'
import type { JobSettings } from './job-backend'
import { checkConnection } from './bullmq-connection'
import { checkJobSettings, optionError, wholeOption } from './check-job-settings'
import type { BullConnection, BullJobOptions } from './bullmq-types'

/**
 * Where BullMQ's Redis is: ioredis connection options (BullMQ 5 also reads
 * `url`). The backend opens its own connections from them, with the settings
 * BullMQ needs for each (no offline queue for the producer, no per-request
 * retry limit for workers).
 */
export interface BullMqConnectionOptions {
  /** Defaults to `'127.0.0.1'`. */
  host?: string
  /** Defaults to `6379`. */
  port?: number
  /** The Redis ACL user. */
  username?: string
  /** The Redis password. */
  password?: string
  /** The Redis database number. */
  db?: number
  /** A `redis://` or `rediss://` URL (user, password, host, port, database number), instead of those options. */
  url?: string
  /** TLS options (as `tls.connect` takes them); `{}` for TLS with the defaults. */
  tls?: object
  /** Any other ioredis option (`connectTimeout`, `family`, `sentinels`...). */
  readonly [option: string]: unknown
}

/** Options of {@link bullMqJobs}. */
export interface BullMqJobsOptions extends JobSettings {
  /** The Redis BullMQ uses: connection options, or a `redis://` / `rediss://` URL (`rediss` for TLS). */
  connection: string | BullMqConnectionOptions
  /** The prefix of BullMQ's Redis keys. Defaults to `'bull'` (BullMQ's own default). */
  prefix?: string
  /** The BullMQ queue all jobs go to (by job name). Defaults to `'event-actions'`. */
  queueName?: string
  /** How often a worker sends what the outbox still holds (jobs whose app died before handing them over). Defaults to `1000` ms. */
  relayIntervalMs?: number
  /** Outbox rows sent to Redis per statement. Defaults to `100` (at most `500`). */
  relayBatchSize?: number
  /**
   * Where the hand-over right after a commit reports an error (Redis down,
   * say): the jobs are safe in the outbox and a worker's sweep sends them
   * later. Defaults to `console.error`.
   */
  onRelayError?: (error: unknown) => void
}

/** @internal What the relay needs of the settings. */
export interface RelaySettings {
  /** Rows per SELECT ... LIMIT. */
  readonly batchSize: number
  /** The BullMQ options of the job made from `record`. */
  jobOptions(record: JobRecord): BullJobOptions
}

/** @internal The options with their defaults, checked. */
export interface BullMqSettings {
  readonly connection: BullConnection
  readonly prefix: string
  readonly queueName: string
  readonly relayIntervalMs: number
  /** The workers' lockDuration and stalledInterval: a job whose worker stopped renewing its lock this long runs again. */
  readonly lostJobMs: number
  readonly maxPayloadBytes: number
  readonly onRelayError: (error: unknown) => void
  readonly relay: RelaySettings
}

// A job stays in Redis this long after it finished: a relay that died after
// `addBulk` but before its UPDATE committed leaves the row unsent, and the
// next sweep adds it again, which BullMQ ignores only while a job with that id
// still exists. A day outlasts a transaction a lost connection leaves open
// (TCP keepalive gives up after about two hours); failed jobs stay a week, for
// the jobs command.
const KEEP_COMPLETED_SECONDS = 24 * 3600
const KEEP_FAILED_SECONDS = 7 * 24 * 3600
// The hand-over after commit binds one parameter per row (`id IN (...)`): SQLite builds may allow only 999.
const MAX_BATCH = 500

const MAKER = 'bullMqJobs'

function checkName(option: string, value: unknown, fallback: string, colon: boolean): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100 || (!colon && value.includes(':'))) {
    throw optionError(MAKER, option, `a non-empty string of at most 100 characters${colon ? '' : " without ':'"}`, value)
  }
  return value
}

/** @internal Checks the options of bullMqJobs and fills in the defaults. */
export function resolveBullMqOptions(options: BullMqJobsOptions): BullMqSettings {
  if (options === null || typeof options !== 'object') throw optionError(MAKER, 'options', 'an object with at least { connection }', options)
  const { onRelayError = (error: unknown) => console.error('typeorm-event-actions: the outbox relay failed (a worker will send the jobs later)', error) } = options
  const { retryLimit, retryDelay, retryBackoff, maxPayloadBytes, lostJobSeconds } = checkJobSettings(MAKER, options, { lostJob: { fallback: 30 }, wholeRetryDelay: false })
  if (typeof onRelayError !== 'function') throw optionError(MAKER, 'onRelayError', 'a function', onRelayError)
  const relayIntervalMs = options.relayIntervalMs ?? 1000
  if (typeof relayIntervalMs !== 'number' || !Number.isFinite(relayIntervalMs) || relayIntervalMs < 10) {
    throw optionError(MAKER, 'relayIntervalMs', 'a number of milliseconds, at least 10', relayIntervalMs)
  }
  const backoff = { type: retryBackoff ? ('exponential' as const) : ('fixed' as const), delay: Math.round(retryDelay * 1000) }
  return {
    connection: checkConnection(options.connection),
    prefix: checkName('prefix', options.prefix, 'bull', true),
    queueName: checkName('queueName', options.queueName, 'event-actions', false),
    relayIntervalMs,
    lostJobMs: lostJobSeconds * 1000,
    maxPayloadBytes,
    onRelayError,
    relay: {
      batchSize: wholeOption(MAKER, 'relayBatchSize', options.relayBatchSize, 100, 1, MAX_BATCH),
      jobOptions: (record) => ({
        // BullMQ refuses custom ids that are all digits or contain ':'; a UUID with a prefix is neither.
        jobId: `${OUTBOX_JOB_PREFIX}${record.id}`,
        attempts: retryLimit + 1,
        backoff,
        removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
        removeOnFail: { age: KEEP_FAILED_SECONDS },
      }),
    },
  }
}

/** @internal What an outbox row's id gets in front of it as a BullMQ job id. */
export const OUTBOX_JOB_PREFIX = 'ob_'

import type { DataSource } from 'typeorm'
import type { JobRecord, JobSink } from '../transaction/pending-job'

/** How a job was delivered this time. */
export interface JobDelivery {
  /** 1 on the first delivery, 2 on the first retry, ... */
  readonly attempt: number
}

/** @internal What a backend calls for each job it fetched; a rejection fails (and later retries) the job. */
export type JobRunner = (record: JobRecord, delivery: JobDelivery) => Promise<void>

/** @internal Options of {@link JobBackend.consume}. */
export interface ConsumeOptions {
  /** Jobs handled at once by this process. */
  readonly concurrency: number
  /** Where the backend reports what it cannot throw (a lost connection it retries, a relay sweep that failed). */
  readonly onError: (error: unknown) => void
}

/** @internal A running consumer. */
export interface JobConsumer {
  /** Stops fetching, waits for the jobs in flight to finish (at most `timeoutMs`), closes the connections. */
  stop(timeoutMs: number): Promise<void>
}

/** The jobs of one name, by state: what `npx typeorm-event-actions jobs` shows. */
export interface JobCounts {
  /** The job's name (a durable binding's job, or the name given to `ctx.enqueue`). */
  readonly name: string
  /** Waiting to run: new, delayed for a retry, or (BullMQ) still in the outbox. */
  readonly pending: number
  /** Running in a worker now. */
  readonly active: number
  /** Out of retries: failed for good until retried by hand. */
  readonly failed: number
}

/** A job in the failed state, with its last error. */
export interface FailedJob {
  /** The job's id (its outbox id on BullMQ), for retry and discard. */
  readonly id: string
  /** The job's name. */
  readonly name: string
  /** The job's stable key, as its handler saw it in `ctx.job.key`. */
  readonly key: string
  /** How many times it ran. */
  readonly attempts: number
  /** The message of its last error. */
  readonly error: string
}

/** Retry and size settings shared by both engines. */
export interface JobSettings {
  /** Retries after the first attempt before a job is failed for good, at most 1000. Defaults to `5`. */
  retryLimit?: number
  /** Seconds before the first retry (whole seconds on pg-boss; BullMQ takes fractions). Defaults to `2`. */
  retryDelay?: number
  /** Double the delay at each retry (exponential backoff). Defaults to `true`. */
  retryBackoff?: boolean
  /** The largest payload, in bytes of JSON, that `ctx.enqueue` takes. Defaults to `65536`. */
  maxPayloadBytes?: number
  /**
   * Seconds after which a running job whose worker died (or, on pg-boss,
   * that still runs) counts as lost and runs again. pg-boss: the job's
   * `expireInSeconds` (default `900`); BullMQ: the worker's `lockDuration`
   * (default `30`).
   */
  lostJobSeconds?: number
}

/**
 * A durable engine for jobs: what `withEventActions(options, { jobs })` is
 * given, made by `pgBossJobs()` or `bullMqJobs()`. The library writes jobs
 * through it inside the action's transaction; workers consume through it.
 * Its methods other than those of the jobs command are internal.
 */
export interface JobBackend extends JobSink {
  /** `'pg-boss'` or `'bullmq'`. */
  readonly engine: string
  /** @internal Entities the backend keeps in the application's database (the outbox); withEventActions adds them. */
  readonly entities: readonly (new () => object)[]
  /** @internal Starts fetching jobs of `dataSource` and hands each to `run`. */
  consume(dataSource: DataSource, run: JobRunner, options: ConsumeOptions): Promise<JobConsumer>
  /** Pending, active and failed counts per job name. */
  counts(dataSource: DataSource): Promise<JobCounts[]>
  /** The failed jobs (of `name`, or all), newest first, at most `limit`. */
  failed(dataSource: DataSource, name?: string, limit?: number): Promise<FailedJob[]>
  /** Puts a failed job back to run again; false when no failed job has that id. */
  retry(dataSource: DataSource, id: string): Promise<boolean>
  /** Deletes a failed job; false when no failed job has that id. */
  discard(dataSource: DataSource, id: string): Promise<boolean>
  /** Closes what the backend opened for `dataSource` outside a consumer (the relay's queue, pg-boss's pool). */
  close(dataSource: DataSource): Promise<void>
}

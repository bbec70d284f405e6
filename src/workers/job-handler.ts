import type { DataSource } from 'typeorm'
import type { JobInfo } from '../actions/action-events'
import type { ActionUser } from '../scope/action-context'

/** What a job handler learns besides the payload: the job, and the action that enqueued it. */
export interface JobContext {
  /** The job's name, as given to `ctx.enqueue`. */
  readonly name: string
  /** The job: its id, its stable key (check it to handle a job once) and the attempt (1 first). */
  readonly job: JobInfo
  /** The action the job was enqueued in (the handler runs inside an action of that name), or undefined. */
  readonly action: string | undefined
  /** The user of that action: the handler's own writes are audited as theirs. */
  readonly user: ActionUser | undefined
  /** The request id of that action, or undefined. */
  readonly requestId: string | undefined
  /** The end user's language of that action, or undefined. */
  readonly locale: string | undefined
  /** The worker's DataSource, for the handler's own reads and writes. */
  readonly dataSource: DataSource
}

/**
 * Runs a job enqueued with `ctx.enqueue(name, payload)`, in a worker. It may
 * run more than once for one job (at least once: a worker that dies mid-job
 * leaves it to another): make it idempotent by `ctx.job.key`. Throwing fails
 * this attempt; the engine retries with backoff, then marks the job failed.
 *
 * @example
 * ```ts
 * const handlers: Record<string, JobHandler> = {
 *   'mail:welcome': async (payload, { job }) => mailer.sendOnce(job.key, payload),
 * }
 * ```
 */
export type JobHandler = (payload: unknown, ctx: JobContext) => unknown

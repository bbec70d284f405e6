import { loadOptionalPeer } from '../basics/optional-peer'

// The few parts of BullMQ 5 the backend uses, written out structurally: the
// package's .d.ts must compile where bullmq (and ioredis) are not installed.

/** @internal Options of one BullMQ job, as the relay sets them. */
export interface BullJobOptions {
  readonly jobId: string
  readonly attempts: number
  readonly backoff: { readonly type: 'exponential' | 'fixed'; readonly delay: number }
  readonly removeOnComplete: { readonly age: number }
  readonly removeOnFail: { readonly age: number }
}

/** @internal One entry of `Queue.addBulk`. */
export interface BullBulkJob {
  readonly name: string
  readonly data: unknown
  readonly opts: BullJobOptions
}

/** @internal A job as BullMQ hands it to a processor or returns it from a getter. */
export interface BullJob {
  readonly id?: string
  readonly name: string
  readonly data: unknown
  /** Attempts that finished (failed) so far: 0 while the first one runs. */
  readonly attemptsMade: number
  readonly failedReason?: string | null
  isFailed(): Promise<boolean>
  retry(state: 'failed', options: { resetAttemptsMade: boolean; resetAttemptsStarted: boolean }): Promise<void>
  remove(): Promise<void>
}

/** @internal The job states the backend reads. */
export type BullJobState = 'wait' | 'paused' | 'delayed' | 'prioritized' | 'waiting-children' | 'active' | 'failed'

/** @internal A BullMQ Queue: the producer, and the getters of the jobs command. */
export interface BullQueue {
  addBulk(jobs: BullBulkJob[]): Promise<unknown>
  getJob(id: string): Promise<BullJob | undefined>
  getJobs(types: BullJobState[], start: number, end: number, asc: boolean): Promise<(BullJob | undefined)[]>
  waitUntilReady(): Promise<unknown>
  close(): Promise<void>
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** @internal A BullMQ Worker. */
export interface BullWorker {
  pause(doNotWaitActive?: boolean): Promise<void>
  close(force?: boolean): Promise<void>
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** @internal Redis connection options as BullMQ passes them to ioredis. */
export type BullConnection = Readonly<Record<string, unknown>>

/** @internal Options of a Queue or Worker. */
export interface BullOptions {
  readonly connection: BullConnection
  readonly prefix: string
  readonly concurrency?: number
  /** Worker: milliseconds a job's lock lasts unless renewed (the worker renews it at half that). */
  readonly lockDuration?: number
  /** Worker: milliseconds between its checks for jobs whose lock expired (stalled), which go back to wait. */
  readonly stalledInterval?: number
}

/** @internal What `require('bullmq')` gives the backend. */
export interface BullMqModule {
  Queue: new (name: string, options: BullOptions) => BullQueue
  Worker: new (name: string, processor: (job: BullJob) => Promise<void>, options: BullOptions) => BullWorker
}

/** @internal Loads bullmq (an optional peer) the first time a backend is made. */
export function loadBullMq(): BullMqModule {
  return loadOptionalPeer<BullMqModule>('bullmq', 'bullMqJobs')
}

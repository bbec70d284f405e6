import type { DataSource } from 'typeorm'
import { describeValue } from '../basics/describe-value'
import { HardError } from '../basics/errors'
import type { JobRecord } from '../transaction/pending-job'
import type { ConsumeOptions, JobConsumer, JobRunner } from './job-backend'
import type { BullMqSettings } from './bullmq-options'
import { producerOptions } from './bullmq-producers'
import type { BullJob, BullMqModule, BullWorker } from './bullmq-types'
import { relayPending, type RelayTarget } from './outbox-relay'
import { settleWithin } from './outbox-timeouts'

const SWEEP_GRACE_MS = 1000

/** The job record a BullMQ job carries, checked: a job some other producer put on the queue fails with a clear reason. */
function recordOf(job: BullJob): JobRecord {
  const data = job.data as Partial<JobRecord> | null
  if (data === null || typeof data !== 'object' || typeof data.id !== 'string' || typeof data.name !== 'string' || typeof data.key !== 'string') {
    throw new HardError(`BullMQ job '${String(job.id)}' (${job.name}) carries no job record (${describeValue(data)}): it was not added by bullMqJobs`)
  }
  return data as JobRecord
}

function processor(run: JobRunner): (job: BullJob) => Promise<void> {
  return async (job) => {
    try {
      await run(recordOf(job), { attempt: job.attemptsMade + 1 })
    } catch (error) {
      // BullMQ keeps error.message as the failed reason: a thrown non-Error would leave it empty.
      throw error instanceof Error ? error : new HardError(`job '${job.name}' threw ${describeValue(error)}, which is not an Error`, { cause: error })
    }
  }
}

interface Sweep {
  /** No sweep starts any more; returns the one running, if any. */
  stop(): Promise<void>
}

/** Relays what the outbox holds now, then every `intervalMs`, one sweep at a time, until stopped. */
function startSweep(sweep: () => Promise<unknown>, intervalMs: number, onError: (error: unknown) => void): Sweep {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const tick = (): void => {
    running = sweep()
      .then(() => undefined, onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs)
      })
  }
  tick()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
      return running
    },
  }
}

/** Stops fetching, gives running jobs `timeoutMs` to finish, then closes the worker (by force if they did not). */
async function closeWorker(worker: BullWorker, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const finished = await Promise.race([
    // A pause that fails (Redis gone) counts as not finished: the close is forced rather than left waiting.
    worker.pause(false).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]).finally(() => clearTimeout(timer))
  // A forced close abandons the running jobs: their locks expire and BullMQ runs them again (at least once).
  await worker.close(!finished)
}

/**
 * @internal A BullMQ Worker on the queue, plus a sweep of the outbox in this
 * process, so that rows an app left unsent when it died reach Redis.
 */
export function startConsumer(bullmq: BullMqModule, settings: BullMqSettings, dataSource: DataSource, run: JobRunner, options: ConsumeOptions): JobConsumer {
  const { concurrency, onError } = options
  // The sweep's own Queue, closed by stop(); the app's hand-overs after commit use the producer Queue.
  const queue = new bullmq.Queue(settings.queueName, producerOptions(settings))
  queue.on('error', onError)
  const target: RelayTarget = queue
  const worker = new bullmq.Worker(settings.queueName, processor(run), {
    // No per-request retry limit: a blocking fetch waits out a Redis restart and reconnects.
    connection: { ...settings.connection, maxRetriesPerRequest: null },
    prefix: settings.prefix,
    concurrency,
    // A worker that died stops renewing its jobs' locks: another worker's check finds them stalled and runs them again.
    lockDuration: settings.lostJobMs,
    stalledInterval: settings.lostJobMs,
  })
  worker.on('error', onError)
  const sweep = startSweep(() => relayPending(dataSource, target, settings.relay), settings.relayIntervalMs, onError)
  let stopping: Promise<void> | undefined
  return {
    stop(timeoutMs: number) {
      stopping ??= (async () => {
        const sweeping = sweep.stop()
        try {
          await closeWorker(worker, timeoutMs)
        } finally {
          // A sweep still waiting for Redis fails once its Queue is closed; one inside its transaction gets to finish.
          await settleWithin([sweeping], SWEEP_GRACE_MS)
          await queue.close()
          await settleWithin([sweeping], SWEEP_GRACE_MS)
        }
      })()
      return stopping
    },
  }
}

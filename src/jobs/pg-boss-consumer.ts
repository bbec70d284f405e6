import { describeValue } from '../basics/describe-value'
import { HardError } from '../basics/errors'
import type { JobRecord } from '../transaction/pending-job'
import type { ConsumeOptions, JobConsumer, JobRunner } from './job-backend'
import type { PgBossFetchedJob, PgBossInstance } from './pg-boss-peer'

/** An interruptible pause: `stop()` and new jobs end it early. */
class Pause {
  private end: (() => void) | undefined

  wait(ms: number, until?: Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.end = done
      void until?.then(done)
    }).finally(() => (this.end = undefined))
  }

  interrupt(): void {
    this.end?.()
  }
}

const KINDS: readonly unknown[] = ['enqueue', 'durable']

/** The JobRecord a pg-boss job carries as its data, checked: anything else in the queue fails instead of reaching a handler. */
function recordOf(job: PgBossFetchedJob, queue: string): JobRecord {
  const data = job.data as Partial<Record<keyof JobRecord, unknown>> | null
  const ok = typeof data === 'object' && data !== null && ['id', 'name', 'key'].every((k) => typeof data[k as keyof JobRecord] === 'string')
  if (!ok || !KINDS.includes(data.kind)) {
    throw new HardError(`pg-boss job ${job.id} in queue '${queue}' does not carry a typeorm-event-actions job (its data is ${describeValue(job.data)})`)
  }
  return data as JobRecord
}

/** What pg-boss stores as the failed job's output: the message first, for `failed()` and for pg-boss's own tools. */
function failureOutput(error: unknown): object {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack }
  return { message: typeof error === 'string' ? error : describeValue(error) }
}

/**
 * @internal Fetches jobs of one queue with its own pg-boss instance, at most
 * `concurrency` at a time, and completes or fails each by its runner's
 * outcome. It polls itself rather than using pg-boss's `work()`: `work()`
 * completes or fails a fetched batch as a whole and waits a polling
 * interval after every batch, where each job here has its own outcome and a
 * freed slot fetches at once while the queue has jobs.
 */
export class PgBossConsumer implements JobConsumer {
  private stopping: Promise<void> | undefined
  private readonly inFlight = new Map<string, Promise<void>>()
  /** Jobs given up on at stop (failed, so they run again): their late outcome must not complete the next attempt. */
  private readonly abandoned = new Set<string>()
  private readonly pause = new Pause()
  /** Jobs were committed while a fetch ran: poll again at once. */
  private woken = false
  private readonly loop: Promise<void>

  constructor(
    private readonly boss: PgBossInstance,
    private readonly queue: string,
    private readonly pollMs: number,
    private readonly run: JobRunner,
    private readonly options: ConsumeOptions,
  ) {
    this.loop = this.fetchLoop()
  }

  /** New jobs were committed in this process: fetch now rather than after the polling interval. */
  wake(): void {
    this.woken = true
    this.pause.interrupt()
  }

  stop(timeoutMs: number): Promise<void> {
    return (this.stopping ??= this.shutdown(timeoutMs))
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping) {
      const free = this.options.concurrency - this.inFlight.size
      if (free <= 0) {
        // Long-poll on our own slots: the first job to finish frees one.
        await this.pause.wait(this.pollMs, Promise.race(this.inFlight.values()))
        continue
      }
      this.woken = false
      const jobs = await this.fetch(free)
      for (const job of jobs) this.start(job)
      if (jobs.length < free && !this.stopping && !this.woken) await this.pause.wait(this.pollMs)
    }
  }

  private async fetch(batchSize: number): Promise<PgBossFetchedJob[]> {
    try {
      return (await this.boss.fetch(this.queue, { batchSize, includeMetadata: true })) ?? []
    } catch (error) {
      // A lost connection: pg-boss's pool reconnects, the next poll tries again.
      this.options.onError(error)
      return []
    }
  }

  private start(job: PgBossFetchedJob): void {
    const work = this.runOne(job).finally(() => this.inFlight.delete(job.id))
    this.inFlight.set(job.id, work)
  }

  private async runOne(job: PgBossFetchedJob): Promise<void> {
    let failure: { error: unknown } | undefined
    try {
      await this.run(recordOf(job, this.queue), { attempt: (job.retryCount ?? 0) + 1 })
    } catch (error) {
      failure = { error }
    }
    if (this.abandoned.delete(job.id)) return
    try {
      if (failure) await this.boss.fail(this.queue, job.id, failureOutput(failure.error))
      else await this.boss.complete(this.queue, job.id)
    } catch (error) {
      // The job stays active until pg-boss expires it, then runs again: at least once, never lost.
      this.options.onError(error)
    }
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.pause.interrupt()
    await this.loop
    const started = Date.now()
    if (this.inFlight.size) await new Pause().wait(timeoutMs, Promise.allSettled(this.inFlight.values()))
    const left = [...this.inFlight.keys()]
    for (const id of left) {
      this.abandoned.add(id)
      const error = new Error(`the worker stopped after waiting ${timeoutMs} ms for the job to finish`)
      await this.boss.fail(this.queue, id, failureOutput(error)).catch(this.options.onError)
    }
    const remaining = Math.max(1000, timeoutMs - (Date.now() - started))
    await this.boss.stop({ graceful: true, close: true, timeout: remaining })
  }
}

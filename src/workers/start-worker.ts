import type { DataSource } from 'typeorm'
import type { ActionEvents, DurablePostActionContext } from '../actions/action-events'
import { runAction } from '../actions/run-action'
import { HardError } from '../basics/errors'
import type { JobRecord } from '../transaction/pending-job'
import type { JobBackend, JobConsumer, JobDelivery } from '../jobs/job-backend'
import { jobBackendOf } from '../jobs/job-backend-of'
import type { ActionContext } from '../scope/action-context'
import { guardConnectionErrors } from './connection-error-guard'
import type { JobContext, JobHandler } from './job-handler'

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** The registry whose `{ mode: 'durable' }` Post-action bindings this worker runs (the app's own). */
  events?: ActionEvents
  /** Handlers of `ctx.enqueue` jobs, by job name. */
  handlers?: Readonly<Record<string, JobHandler>>
  /** Jobs run at once in this process. Defaults to `4`. */
  concurrency?: number
  /** How long `stop()` waits for running jobs before it gives up on them (they run again elsewhere). Defaults to `30000` ms. */
  shutdownTimeoutMs?: number
  /** Signals that stop the worker gracefully; `[]` for none. Defaults to `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[]
  /** Where failed attempts and engine errors are reported. Defaults to `console`. */
  logger?: {
    /** A failed attempt (the engine retries it): one line. */
    warn(message: string): unknown
    /** An engine error the worker survives (a lost connection it retries). */
    error(message: string): unknown
  }
}

/** A running worker. */
export interface JobWorker {
  /** Stops fetching, lets running jobs finish (up to `shutdownTimeoutMs`), closes the engine's connections. */
  stop(): Promise<void>
  /** Settles once the worker stopped (by `stop()` or a signal). */
  readonly stopped: Promise<void>
}

function checkOptions(options: WorkerOptions): Required<Pick<WorkerOptions, 'concurrency' | 'shutdownTimeoutMs' | 'signals'>> {
  const { concurrency = 4, shutdownTimeoutMs = 30_000, signals = ['SIGTERM', 'SIGINT'], handlers = {}, events } = options
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new HardError(`startWorker: concurrency must be a whole number of at least 1, got ${String(concurrency)}`)
  if (!Number.isFinite(shutdownTimeoutMs) || shutdownTimeoutMs < 0) throw new HardError(`startWorker: shutdownTimeoutMs must be a number of milliseconds, got ${String(shutdownTimeoutMs)}`)
  for (const [name, handler] of Object.entries(handlers)) {
    if (typeof handler !== 'function') throw new HardError(`startWorker: the handler of job '${name}' must be a function, got ${typeof handler}`)
  }
  if (events !== undefined && typeof events.durableHandler !== 'function') throw new HardError('startWorker: events must be an ActionEvents registry')
  if (!events && Object.keys(handlers).length === 0) throw new HardError('startWorker needs handlers (by job name) or events (with durable bindings) to run')
  return { concurrency, shutdownTimeoutMs, signals }
}

/** The action a job's handler runs in: the one that made the job, with the job's id as request id if it had none. */
function actionOf(record: JobRecord, params: Readonly<Record<string, unknown>> | undefined): ActionContext {
  const made = record.action
  const base = { name: made?.name ?? `job:${record.name}`, user: made?.user, requestId: made?.requestId ?? `job:${record.id}`, locale: made?.locale }
  return params ? { ...base, params } : base
}

/** @internal Runs one delivered job: the durable binding's or the named handler, inside the job's action. */
export function jobRunner(dataSource: DataSource, options: WorkerOptions): (record: JobRecord, delivery: JobDelivery) => Promise<void> {
  const handlers = options.handlers ?? {}
  return async (record, delivery) => {
    const job = { id: record.id, key: record.key, attempt: delivery.attempt }
    if (record.kind === 'durable') {
      const handler = options.events?.durableHandler(record.name)
      if (!handler) throw new HardError(`worker: no durable binding for job '${record.name}' in the worker's events (bind it with { mode: 'durable' } in the worker too)`)
      const ctx = Object.freeze({ ...(record.payload as Omit<DurablePostActionContext, 'job'>), job })
      await runAction(actionOf(record, ctx.params), () => handler(ctx))
      return
    }
    const handler = Object.hasOwn(handlers, record.name) ? handlers[record.name] : undefined
    if (!handler) throw new HardError(`worker: no handler for job '${record.name}' (startWorker({ handlers: { '${record.name}': fn } }))`)
    const made = record.action
    const ctx: JobContext = Object.freeze({
      name: record.name,
      job,
      action: made?.name,
      user: made?.user,
      requestId: made?.requestId,
      locale: made?.locale,
      dataSource,
    })
    await runAction(actionOf(record, undefined), () => handler(record.payload, ctx))
  }
}

/**
 * Starts a worker in this process: it fetches the jobs of `dataSource`'s
 * `jobs` backend and runs each inside `runAction` with the job's action and
 * user, so that the handler's own writes are audited and attributed. A
 * handler that throws fails that attempt (retried with backoff, then
 * failed). SIGTERM/SIGINT stop it gracefully: no new jobs, running ones
 * finish. `npx typeorm-event-actions worker` runs one from the command line.
 *
 * @example
 * ```ts
 * const worker = await startWorker(dataSource, {
 *   events, // the app's ActionEvents, with its { mode: 'durable' } bindings
 *   handlers: { 'mail:welcome': (payload, { job }) => sendWelcome(payload, job.key) },
 *   concurrency: 8,
 * })
 * await worker.stopped
 * ```
 */
export async function startWorker(dataSource: DataSource, options: WorkerOptions): Promise<JobWorker> {
  const settings = checkOptions(options)
  if (!dataSource.isInitialized) throw new HardError('startWorker needs an initialized DataSource (await dataSource.initialize())')
  const backend: JobBackend = jobBackendOf(dataSource, 'startWorker')
  const logger = options.logger ?? console
  const run = jobRunner(dataSource, options)
  const runLogged = async (record: JobRecord, delivery: JobDelivery): Promise<void> => {
    try {
      await run(record, delivery)
    } catch (error) {
      logger.warn(`typeorm-event-actions worker: job '${record.name}' (key ${record.key}) failed on attempt ${delivery.attempt}: ${String((error as Error)?.message ?? error)}`)
      throw error
    }
  }
  const onError = (error: unknown): void => void logger.error(`typeorm-event-actions worker: ${String((error as Error)?.stack ?? error)}`)
  const unguard = guardConnectionErrors(dataSource, (message) => void logger.error(`typeorm-event-actions worker: ${message}`))
  let consumer: JobConsumer
  try {
    consumer = await backend.consume(dataSource, runLogged, { concurrency: settings.concurrency, onError })
  } catch (error) {
    unguard()
    throw error
  }
  let stopping: Promise<void> | undefined
  let settle!: () => void
  const stopped = new Promise<void>((resolve) => (settle = resolve))
  const onSignal = (): void => void stop()
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const signal of settings.signals) process.off(signal, onSignal)
      try {
        await consumer.stop(settings.shutdownTimeoutMs)
      } finally {
        unguard()
        settle()
      }
    })())
  for (const signal of settings.signals) process.on(signal, onSignal)
  return { stop, stopped }
}

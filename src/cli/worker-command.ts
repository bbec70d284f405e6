import type { DataSource } from 'typeorm'
import type { JobBackend } from '../jobs/job-backend'
import type { JobWorker } from '../workers/start-worker'
import { CliError, oneLine } from './cli-error'
import type { CommandIo, WorkerCommandOptions } from './command-io'
import type { LibraryApi } from './library-instance'
import { loadDataSource } from './load-data-source'
import { loadHandlers, type LoadedHandlers } from './load-handlers'
import { openDataSource } from './open-data-source'
import { withJobBackend } from './with-job-backend'

/** Jobs run at once when `--concurrency` is not given (startWorker's default, stated in the help). */
export const DEFAULT_CONCURRENCY = 4

/** The signals that stop the worker, as process managers (systemd, Docker, Kubernetes) and Ctrl-C send them. */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']

const PREFIX = 'typeorm-event-actions worker'

type StartWorker = NonNullable<LibraryApi['startWorker']>

/** The job names the worker runs, for the started line. */
function jobNames(loaded: LoadedHandlers): string {
  const names = Object.keys(loaded.handlers ?? {})
  if (loaded.durableJobs) names.push(...loaded.durableJobs.map((job) => `${job} (durable)`))
  else names.push("the durable bindings of 'events'")
  return names.join(', ')
}

/**
 * Calls `stop` on the first SIGTERM or SIGINT. The listeners go at once: a
 * second signal then ends the process the default way, for an operator who
 * will not wait for the running jobs (the engine runs them again later).
 * The tool listens itself (startWorker gets `signals: []`) to say on stdout
 * what it is doing, which a process manager's log keeps, and to listen
 * before the worker starts: a signal while it starts stops it once started.
 */
function onStopSignal(io: CommandIo, stop: () => void): () => void {
  const remove = (): void => {
    for (const signal of SIGNALS) process.off(signal, onSignal)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    remove()
    io.out(`${PREFIX}: ${signal}: stopping, the running jobs finish first (send it again to exit at once)\n`)
    stop()
  }
  for (const signal of SIGNALS) process.on(signal, onSignal)
  return remove
}

/** Starts the application's startWorker, waits until a signal stopped it, and says so. */
async function runWorker(ds: DataSource, startWorker: StartWorker, backend: JobBackend, loaded: LoadedHandlers, options: WorkerCommandOptions, io: CommandIo): Promise<void> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  // Failed attempts and engine errors are the worker's log: stderr, one line each.
  const logger = { warn: (message: string) => io.err(`${message}\n`), error: (message: string) => io.err(`${message}\n`) }
  let worker: JobWorker | undefined
  let stopRequested = false
  let stopError: { error: unknown } | undefined
  // stop() rejecting would otherwise be an unhandled rejection, which ends the process with a stack trace.
  const stop = (): void => void worker?.stop().catch((error: unknown) => (stopError = { error }))
  const removeListeners = onStopSignal(io, () => ((stopRequested = true), stop()))
  try {
    try {
      worker = await startWorker(ds, { handlers: loaded.handlers, events: loaded.events, concurrency, signals: [], logger })
    } catch (error) {
      throw new CliError(`cannot start the worker: ${oneLine(error)}`, { cause: error })
    }
    io.out(`${PREFIX} started (pid ${process.pid}): engine ${backend.engine}, concurrency ${concurrency}, jobs ${jobNames(loaded)}\n`)
    if (stopRequested) stop()
    await worker.stopped
  } finally {
    removeListeners()
  }
  if (stopError) throw new CliError(`stopping the worker failed: ${oneLine(stopError.error)}`, { cause: stopError.error })
  io.out(`${PREFIX} stopped\n`)
}

/**
 * `worker -d <file> --handlers <module>`: runs the DataSource's durable jobs
 * in this process until SIGTERM or SIGINT, then stops gracefully (running
 * jobs finish), closes the jobs backend and destroys the DataSource. The
 * handlers are loaded before the database is opened, so that a wrong module
 * fails at once.
 */
export async function workerCommand(options: WorkerCommandOptions, io: CommandIo): Promise<void> {
  const { dataSource } = await loadDataSource(options.dataSourceFile)
  const loaded = await loadHandlers(options.handlersFile)
  await openDataSource(dataSource, options.verbose, (ds) =>
    withJobBackend(ds, io, async (backend, library) => {
      const startWorker = library.api.startWorker
      if (typeof startWorker !== 'function') {
        throw new CliError("the data source's copy of typeorm-event-actions has no startWorker: update it to a version with durable jobs")
      }
      await runWorker(ds, startWorker, backend, loaded, options, io)
    }),
  )
}

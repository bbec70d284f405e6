import type { DataSource } from 'typeorm'
import type { JobBackend } from '../jobs/job-backend'
import { CliError, oneLine } from './cli-error'
import type { CommandIo } from './command-io'
import { libraryOf, type EventActionsLibrary } from './library-instance'

/**
 * Runs `work` with the `jobs` backend of `dataSource` (through the library
 * copy the DataSource uses: its backend and its startWorker, not this
 * tool's), and closes the backend afterwards, whatever `work` did: pg-boss
 * keeps a pool and BullMQ a Redis connection that would hold the process.
 */
export async function withJobBackend<T>(
  dataSource: DataSource,
  io: CommandIo,
  work: (backend: JobBackend, library: EventActionsLibrary) => Promise<T>,
): Promise<T> {
  const library = libraryOf(dataSource)
  if (library.warning) io.err(`typeorm-event-actions: note: ${library.warning}\n`)
  const backend = library.jobs
  if (!backend) {
    const how = library.subscribed ? 'its withEventActions() has no jobs backend' : 'it is not made with withEventActions()'
    throw new CliError(`the data source has no jobs backend (${how}): configure withEventActions(options, { jobs: pgBossJobs() | bullMqJobs({ connection }) })`)
  }
  let result: T
  try {
    result = await work(backend, library)
  } catch (error) {
    try {
      await backend.close(dataSource)
    } catch (closing) {
      // Both failed: the work's error is the one to act on, but the second one is not dropped.
      const kind = error instanceof CliError ? error.kind : 'failure'
      throw new CliError(`${oneLine(error)} (closing the jobs backend failed too: ${oneLine(closing)})`, { kind, cause: error })
    }
    throw error
  }
  try {
    await backend.close(dataSource)
  } catch (error) {
    throw new CliError(`cannot close the jobs backend (${backend.engine}): ${oneLine(error)}`, { cause: error })
  }
  return result
}

/** Runs a call of the backend, its failure as one line saying what was being done. */
export async function backendCall<T>(backend: JobBackend, doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new CliError(`cannot ${doing} (${backend.engine}): ${oneLine(error)}`, { cause: error })
  }
}

import type { DataSource } from 'typeorm'
import type { JobBackend } from '../jobs/job-backend'
import { CliError } from './cli-error'
import type { CommandIo, CommandOptions } from './command-io'
import { loadDataSource } from './load-data-source'
import { openDataSource } from './open-data-source'
import { jobsJson, renderJobs } from './render-jobs'
import { backendCall, withJobBackend } from './with-job-backend'

/** What `jobs` was asked: the overview, or to retry or discard one failed job. */
export type JobsAction = { readonly kind: 'list' } | { readonly kind: 'retry' | 'discard'; readonly id: string }

/** The most failed jobs the overview lists: enough to see what goes wrong, short enough to read. */
export const FAILED_SHOWN = 20

async function overview(ds: DataSource, backend: JobBackend, json: boolean): Promise<string> {
  const counts = await backendCall(backend, 'count the jobs', () => backend.counts(ds))
  const failed = await backendCall(backend, 'read the failed jobs', () => backend.failed(ds, undefined, FAILED_SHOWN))
  const report = { engine: backend.engine, counts, failed: failed.slice(0, FAILED_SHOWN), limit: FAILED_SHOWN }
  return json ? jobsJson(report) : renderJobs(report)
}

async function change(ds: DataSource, backend: JobBackend, action: { kind: 'retry' | 'discard'; id: string }, options: CommandOptions): Promise<string> {
  const { kind, id } = action
  const done =
    kind === 'retry'
      ? await backendCall(backend, `retry job ${id}`, () => backend.retry(ds, id))
      : await backendCall(backend, `discard job ${id}`, () => backend.discard(ds, id))
  // Only failed jobs can be retried or discarded: a pending or running one, or a mistyped id, is refused alike.
  if (!done) throw new CliError(`no failed job has the id '${id}' (typeorm-event-actions jobs -d ${options.dataSourceFile} lists them)`)
  if (options.json) return `${JSON.stringify({ id, [kind === 'retry' ? 'retried' : 'discarded']: true })}\n`
  return kind === 'retry' ? `job ${id} is pending again: a worker runs it\n` : `job ${id} discarded\n`
}

/**
 * `jobs -d <file>`: pending, active and failed counts per job name and the
 * newest failed jobs with their last error; `jobs retry <id>` puts a failed
 * job back, `jobs discard <id>` deletes it. Everything goes through the
 * engine the DataSource was configured with, so it reads what its workers see.
 */
export async function jobsCommand(action: JobsAction, options: CommandOptions, io: CommandIo): Promise<void> {
  const { dataSource } = await loadDataSource(options.dataSourceFile)
  const text = await openDataSource(dataSource, options.verbose, (ds) =>
    withJobBackend(ds, io, (backend) => (action.kind === 'list' ? overview(ds, backend, options.json) : change(ds, backend, action, options))),
  )
  io.out(text)
}

import type { ActionEvents } from '../actions/action-events'
import type { JobHandler } from '../workers/job-handler'
import { CliError, oneLine } from './cli-error'
import { loadModule } from './load-module'

/** What a `--handlers` module gives the worker. */
export interface LoadedHandlers {
  /** The absolute path of the module. */
  readonly file: string
  /** Handlers of `ctx.enqueue` jobs, by job name. */
  readonly handlers: Readonly<Record<string, JobHandler>> | undefined
  /** The application's registry, for its `{ mode: 'durable' }` bindings. */
  readonly events: ActionEvents | undefined
  /** The job names of the durable bindings of `events`, or undefined when that registry does not tell. */
  readonly durableJobs: readonly string[] | undefined
}

const WHAT = "export 'handlers' (job handlers by job name, { 'mail:welcome': fn }) and/or 'events' (the ActionEvents with the { mode: 'durable' } bindings)"

/** `name` of the module: a named export first, else a property of the default export. Awaited, as -d's exports are. */
async function exportOf(exported: unknown, name: string, file: string): Promise<unknown> {
  const named = typeof exported === 'object' && exported !== null ? (exported as Record<string, unknown>) : {}
  const byDefault = typeof named.default === 'object' && named.default !== null ? (named.default as Record<string, unknown>) : {}
  try {
    return await (named[name] ?? byDefault[name])
  } catch (error) {
    throw new CliError(`export '${name}' of ${file} failed: ${oneLine(error)}`, { cause: error })
  }
}

function checkHandlers(value: unknown, file: string): Readonly<Record<string, JobHandler>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${file}: export 'handlers' must be an object of job handlers by job name ({ 'mail:welcome': fn }), got ${Array.isArray(value) ? 'an array' : typeof value}`)
  }
  for (const [name, handler] of Object.entries(value)) {
    if (typeof handler !== 'function') throw new CliError(`${file}: the handler of job '${name}' must be a function, got ${typeof handler}`)
  }
  return value as Record<string, JobHandler>
}

/** The job names of the registry's durable bindings; undefined from a copy of the library that has none. */
function durableJobsOf(events: ActionEvents): string[] | undefined {
  const list = (events as { durableJobs?: unknown }).durableJobs
  return typeof list === 'function' ? (list as () => string[]).call(events) : undefined
}

/**
 * Loads the `--handlers` module of `worker`: a .js or .ts file exporting
 * `handlers` and/or `events`, by name or on its default export. A module
 * with neither, or with nothing to run, is refused here, before the
 * database is opened: a worker that can run no job would only fail them.
 */
export async function loadHandlers(path: string, cwd: string = process.cwd()): Promise<LoadedHandlers> {
  const { file, exported } = loadModule(path, 'handlers module', cwd)
  const rawHandlers = await exportOf(exported, 'handlers', file)
  const rawEvents = await exportOf(exported, 'events', file)
  if (rawHandlers === undefined && rawEvents === undefined) {
    const names = typeof exported === 'object' && exported !== null ? Object.keys(exported) : []
    throw new CliError(`${file} exports no job handlers (${names.length ? `its exports: ${names.join(', ')}` : 'it exports nothing'}); ${WHAT}`)
  }
  const handlers = rawHandlers === undefined ? undefined : checkHandlers(rawHandlers, file)
  // Duck-typed like startWorker does: the registry is the application's copy's ActionEvents, not this tool's.
  if (rawEvents !== undefined && typeof (rawEvents as { durableHandler?: unknown } | null)?.durableHandler !== 'function') {
    throw new CliError(`${file}: export 'events' must be an ActionEvents registry (new ActionEvents()), got ${rawEvents === null ? 'null' : typeof rawEvents}`)
  }
  const events = rawEvents as ActionEvents | undefined
  const durableJobs = events ? durableJobsOf(events) : []
  if (Object.keys(handlers ?? {}).length === 0 && durableJobs?.length === 0) {
    throw new CliError(`${file} has no job to run: ${handlers ? "its 'handlers' is empty" : "it exports no 'handlers'"} and ${events ? "its 'events' has no { mode: 'durable' } binding" : "it exports no 'events'"}`)
  }
  return { file, handlers, events, durableJobs }
}

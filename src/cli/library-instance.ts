import { createRequire } from 'node:module'
import { basename } from 'node:path'
import type { DataSource } from 'typeorm'
import type { JobBackend } from '../jobs/job-backend'

type Index = typeof import('../index')

/**
 * The parts of the library's public surface the tool uses. `startWorker`
 * is optional: a copy from before durable jobs has none, and only `worker`
 * needs it.
 */
export type LibraryApi = Pick<Index, 'auditTrail' | 'describeEventActions'> & Partial<Pick<Index, 'startWorker'>>

/** `@EventActionOptions` settings of one entity, as far as they can be read. */
export interface EntitySettings {
  readonly validate?: boolean
  readonly bulkWrites?: 'events' | 'allow' | 'forbid'
}

/**
 * The copy of typeorm-event-actions that a DataSource works with.
 *
 * Decorators (`@OnEventAction`, `@Audited`, `@Automatic`,
 * `@EventActionOptions`) record their settings in module-level maps of the
 * copy the entity file imported, and `auditTrail` queries the `AuditEntry`
 * class of that copy. This tool can be another copy: `npx` from another
 * project, a global install, or `dist/` next to entities that import `src/`.
 * Asking its own copy would then find no handlers and no audit table. So the
 * tool starts from the DataSource: its event-action subscriber is an instance
 * of the application's copy, whose modules are found in `require.cache` by
 * that class. This also shows exactly what the running application would see.
 */
export interface EventActionsLibrary {
  readonly api: LibraryApi
  /** True when the DataSource has the event-action subscriber (made with `withEventActions`). */
  readonly subscribed: boolean
  /** Why the tool fell back to its own copy, when it did. */
  readonly warning: string | undefined
  /** The `jobs` backend of `withEventActions(options, { jobs })`, or undefined when the DataSource has none. */
  readonly jobs: JobBackend | undefined
  /** The DataSource-wide `validate` setting, or undefined when it cannot be read. */
  readonly validate: boolean | undefined
  /** The entity's `@EventActionOptions`, or undefined when this copy does not say. */
  entitySettings(target: Function): EntitySettings | undefined
  /** The attributes with class-validator constraints, or undefined when class-validator is not installed. */
  validatedAttributes(target: Function): string[] | undefined
}

type Require = (id: string) => unknown

/** True when `request` itself is missing (not a module it requires). */
function isModuleNotFound(error: unknown, request: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && error.message.includes(`'${request}'`)
}

/** The class in `instance`'s prototype chain named `name`, if any. */
function classNamed(instance: object, name: string): Function | undefined {
  for (let proto: unknown = Object.getPrototypeOf(instance); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const ctor = (proto as { constructor?: unknown }).constructor
    if (typeof ctor === 'function' && ctor.name === name) return ctor
  }
  return undefined
}

/** The loaded root modules (`index`) of every copy of the library in this process. */
function loadedCopies(): NodeJS.Module[] {
  return Object.values(require.cache).filter(
    (mod): mod is NodeJS.Module =>
      mod !== undefined &&
      /^index\.[cm]?[jt]s$/.test(basename(mod.filename)) &&
      typeof (mod.exports as Record<string, unknown> | undefined)?.EventActionSubscriber === 'function',
  )
}

/** Where a copy keeps `@EventActionOptions`, relative to its root. */
const ENTITY_OPTIONS_MODULE = './metadata/event-action-options'

/**
 * Reads what the library keeps private, where the public API has nothing
 * yet. Every read is checked, so a copy that moved things only loses that
 * line of `explain`, never the command.
 */
function privateReaders(libRequire: Require, subscriber: object | undefined) {
  let entityOptionsOf: ((target: Function) => EntitySettings) | undefined
  try {
    const mod = libRequire(ENTITY_OPTIONS_MODULE) as { entityOptionsOf?: unknown }
    if (typeof mod.entityOptionsOf === 'function') entityOptionsOf = mod.entityOptionsOf as typeof entityOptionsOf
  } catch (error) {
    if (!isModuleNotFound(error, ENTITY_OPTIONS_MODULE)) throw error
  }
  const config = (subscriber as { dispatcher?: { config?: { validate?: unknown } } } | undefined)?.dispatcher?.config
  const validate = typeof config?.validate === 'boolean' ? config.validate : undefined

  let storage: { getTargetValidationMetadatas(target: Function, schema: string, always: boolean, strictGroups: boolean): { propertyName: string }[] } | null
  try {
    storage = (libRequire('class-validator') as { getMetadataStorage(): NonNullable<typeof storage> }).getMetadataStorage()
  } catch (error) {
    // class-validator is an optional peer: without it nothing is validated.
    if (!isModuleNotFound(error, 'class-validator')) throw error
    storage = null
  }
  return {
    validate,
    entitySettings: (target: Function): EntitySettings | undefined => entityOptionsOf?.(target),
    validatedAttributes: (target: Function): string[] | undefined =>
      storage ? [...new Set(storage.getTargetValidationMetadatas(target, '', true, false).map((m) => m.propertyName))] : undefined,
  }
}

/** How the subscriber's copy names the symbol it keeps the `jobs` backend under (typeorm/our-subscriber.ts). */
const JOB_BACKEND_SYMBOL = 'typeorm-event-actions.jobs'
const BACKEND_METHODS = ['consume', 'counts', 'failed', 'retry', 'discard', 'close'] as const

/**
 * The subscriber's `jobs` backend. The symbol it is kept under belongs to
 * the subscriber's copy, which may not be the tool's, so it is found by its
 * description; this works even when that copy's modules cannot be found
 * (bundled). Something there that is no backend the tool can drive counts as none.
 */
function subscriberJobs(subscriber: object | undefined): JobBackend | undefined {
  if (!subscriber) return undefined
  const key = Object.getOwnPropertySymbols(subscriber).find((s) => s.description === JOB_BACKEND_SYMBOL)
  const backend = key === undefined ? undefined : (subscriber as Record<symbol, unknown>)[key]
  if (typeof backend !== 'object' || backend === null) return undefined
  const methods = backend as Record<string, unknown>
  return BACKEND_METHODS.every((m) => typeof methods[m] === 'function') ? (backend as JobBackend) : undefined
}

/** The copy of the library `dataSource` works with (see {@link EventActionsLibrary}). */
export function libraryOf(dataSource: DataSource): EventActionsLibrary {
  const subscriber = dataSource.subscribers.find((s) => classNamed(s, 'EventActionSubscriber') !== undefined)
  const base = subscriber ? classNamed(subscriber, 'EventActionSubscriber') : undefined
  const copies = loadedCopies()
  // The subscriber's copy; without a subscriber, the one copy the data source file loaded, if it is one.
  const copy = base ? copies.find((mod) => (mod.exports as Record<string, unknown>).EventActionSubscriber === base) : copies.length === 1 ? copies[0] : undefined

  let warning: string | undefined
  let libRequire: Require
  if (copy) {
    libRequire = createRequire(copy.filename)
  } else {
    // Relative to the library's root, like a copy found above.
    libRequire = createRequire(require.resolve('../index'))
    if (base) warning = "the data source uses a copy of typeorm-event-actions this tool cannot find (bundled?): handlers and settings are read from the tool's own copy"
  }
  const api = libRequire('./index') as LibraryApi
  return { api, subscribed: subscriber !== undefined, warning, jobs: subscriberJobs(subscriber), ...privateReaders(libRequire, subscriber) }
}

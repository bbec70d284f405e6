import { HardError } from '../basics/errors'
import type { AfterCommitErrorHandler, AfterCommitOrigin } from '../transaction/transaction-state'
import type { Translator } from '../basics/translator'
import { setTranslator } from '../i18n/set-translator'
import { inspect } from 'node:util'
import type { JobBackend } from '../jobs/job-backend'

/** Library-wide settings, given to {@link withEventActions} or `new EventActionSubscriber(config)`. */
export interface EventActionsConfig {
  /**
   * Validate entities that carry class-validator decorators after their Pre
   * Insert/Pre Update handler. Per entity: `@EventActionOptions({ validate })`.
   * Defaults to `true`.
   */
  validate?: boolean
  /**
   * `'guard'` skips an event type for an instance while that instance's
   * handler for the same type is running (the write itself still happens);
   * `'allow'` dispatches it again. The depth limit applies either way.
   * Defaults to `'guard'`.
   */
  recursion?: 'guard' | 'allow'
  /**
   * The deepest chain of nested events before `EventActionRecursionError`.
   * Defaults to `32`.
   */
  maxDepth?: number
  /**
   * Receives errors thrown by `ctx.afterCommit` callbacks. The transaction
   * has committed by then, so the error is reported here instead of thrown.
   * Defaults to logging with `console.error`, naming entity and event.
   */
  onAfterCommitError?: (error: unknown, origin: AfterCommitOrigin) => void
  /**
   * Translates message keys (`SoftError.of`, `validation.<constraint>`) into
   * the end user's language. It is process-wide, as {@link setTranslator}:
   * the texts belong to the application, not to one DataSource.
   */
  translate?: Translator
  /**
   * Whether {@link withEventActions} adds the `AuditEntry` entity (the
   * `audit_entry` table) to the DataSource. `false` for an application that
   * audits nothing (its migrations then see no audit table), or that lists
   * `AuditEntry` itself, e.g. in another DataSource. An audit entry written
   * without the entity fails with a `HardError` that says so.
   * Defaults to `true`.
   */
  auditTable?: boolean
  /**
   * Let `repository.clear()` / `manager.clear()` (TRUNCATE) empty the table of
   * an entity with event actions, without events or audit entries. Meant for
   * test set-up; otherwise such a clear() is refused with `BulkWriteError`.
   * Defaults to `false`.
   */
  allowClear?: boolean
  /**
   * What TypeORM's set-based writes (`update(criteria, values)`,
   * `delete(criteria)`, `increment()`, `softDelete()`, `upsert()`,
   * QueryBuilder writes, plain-object inserts and saves) do on entities with
   * event actions: `'events'` fires each matching row's events with set-based
   * SQL; `'forbid'` refuses them with `BulkWriteError`. An entity's own
   * `@EventActionOptions({ bulkWrites })` wins.
   * Defaults to `'events'`.
   */
  bulkWrites?: 'events' | 'forbid'
  /**
   * How many rows one batch of a bulk write reads, locks and writes at a
   * time: memory stays bounded however many rows match.
   * Defaults to `1000`.
   */
  bulkBatchSize?: number
  /**
   * Where the library logs what it reports instead of throwing: `console` by
   * default; a pino or winston logger fits as it is. Each entry is one call
   * with one string. Used by the default `onAfterCommitError` and by
   * `EventActionsModule` (unless it has a `logger` of its own);
   * `expressEventActions` and `koaEventActions` given this DataSource log
   * there unless they have a `logger` option of their own, of the
   * same shape.
   */
  logger?: {
    /** Informational entries. */
    info(message: string): unknown
    /** Client errors (HTTP 4xx answers): one line each. */
    warn(message: string): unknown
    /** Failures: the message, then the error with its stack. */
    error(message: string): unknown
  }
  /**
   * The durable engine for `ctx.enqueue` and `{ mode: 'durable' }` action
   * bindings: `pgBossJobs()` (PostgreSQL) or `bullMqJobs({ connection })`
   * (Redis, any database). Without it, both throw a `HardError` saying so.
   */
  jobs?: JobBackend
}

/** @internal The settings with every default applied. */
export interface ResolvedConfig {
  readonly validate: boolean
  readonly recursionGuard: boolean
  readonly maxDepth: number
  readonly onAfterCommitError: AfterCommitErrorHandler
  readonly allowClear: boolean
  readonly bulkWrites: 'events' | 'forbid'
  readonly bulkBatchSize: number
  readonly jobs: JobBackend | undefined
}

const afterCommitFailed = (origin: AfterCommitOrigin): string =>
  `typeorm-event-actions: an afterCommit callback of ${origin.entityName} ${origin.timing} ${origin.type} failed`

const logAfterCommitError: AfterCommitErrorHandler = (error, origin) => {
  console.error(afterCommitFailed(origin), error)
}

/** @internal Refuses a `logger` that lacks `info`, `warn` or `error`, naming `where` it was given. */
export function checkLogger(logger: unknown, where: string): asserts logger is NonNullable<EventActionsConfig['logger']> {
  const missing = (['info', 'warn', 'error'] as const).filter((m) => typeof (logger as Record<string, unknown> | null)?.[m] !== 'function')
  if (missing.length) {
    throw new HardError(`${where} must have info, warn and error methods (console, pino and winston do), got ${typeof logger} without ${missing.join(', ')}`)
  }
}

function checkJobs(jobs: unknown): JobBackend | undefined {
  if (jobs === undefined) return undefined
  const backend = jobs as Partial<JobBackend> | null
  if (typeof backend?.write !== 'function' || typeof backend.consume !== 'function' || typeof backend.engine !== 'string') {
    throw new HardError(`EventActionsConfig.jobs must be a backend made by pgBossJobs() or bullMqJobs(), got ${inspect(jobs, { depth: 0 })}`)
  }
  return backend as JobBackend
}

/** @internal */
export function resolveConfig(config: EventActionsConfig = {}): ResolvedConfig {
  const { logger } = config
  if (logger !== undefined) checkLogger(logger, 'EventActionsConfig.logger')
  const logTo: AfterCommitErrorHandler | undefined = logger && ((error, origin) => logger.error(`${afterCommitFailed(origin)}\n${inspect(error)}`))
  const { validate = true, recursion = 'guard', maxDepth = 32, onAfterCommitError = logTo ?? logAfterCommitError, translate } = config
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new HardError(`EventActionsConfig.maxDepth must be a whole number of at least 1, got ${String(maxDepth)}`)
  }
  if (recursion !== 'guard' && recursion !== 'allow') {
    throw new HardError(`EventActionsConfig.recursion must be 'guard' or 'allow', got ${String(recursion)}`)
  }
  if (config.allowClear !== undefined && typeof config.allowClear !== 'boolean') {
    throw new HardError(`EventActionsConfig.allowClear must be true or false, got ${String(config.allowClear)}`)
  }
  const { bulkWrites = 'events', bulkBatchSize = 1000 } = config
  if (bulkWrites !== 'events' && bulkWrites !== 'forbid') {
    throw new HardError(`EventActionsConfig.bulkWrites must be 'events' or 'forbid', got ${String(bulkWrites)}`)
  }
  if (!Number.isInteger(bulkBatchSize) || bulkBatchSize < 1) {
    throw new HardError(`EventActionsConfig.bulkBatchSize must be a whole number of at least 1, got ${String(bulkBatchSize)}`)
  }
  if (config.auditTable !== undefined && typeof config.auditTable !== 'boolean') {
    throw new HardError(`EventActionsConfig.auditTable must be true or false, got ${String(config.auditTable)}`)
  }
  if (typeof validate !== 'boolean') {
    throw new HardError(`EventActionsConfig.validate must be true or false, got ${String(validate)}`)
  }
  if (typeof onAfterCommitError !== 'function') {
    throw new HardError(`EventActionsConfig.onAfterCommitError must be a function, got ${String(onAfterCommitError)}`)
  }
  if (translate !== undefined) {
    if (typeof translate !== 'function') {
      throw new HardError(`EventActionsConfig.translate must be a function (key, params, locale) => string | undefined, got ${String(translate)}`)
    }
    setTranslator(translate)
  }
  return Object.freeze({
    validate,
    recursionGuard: recursion === 'guard',
    maxDepth,
    onAfterCommitError,
    allowClear: config.allowClear === true,
    bulkWrites,
    bulkBatchSize,
    jobs: checkJobs(config.jobs),
  })
}

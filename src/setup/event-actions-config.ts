import { HardError } from '../basics/errors'
import type { AfterCommitErrorHandler, AfterCommitOrigin } from '../transaction/transaction-state'
import type { Translator } from '../basics/translator'
import { setTranslator } from '../i18n/set-translator'

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
}

/** @internal The settings with every default applied. */
export interface ResolvedConfig {
  readonly validate: boolean
  readonly recursionGuard: boolean
  readonly maxDepth: number
  readonly onAfterCommitError: AfterCommitErrorHandler
}

const logAfterCommitError: AfterCommitErrorHandler = (error, origin) => {
  console.error(`typeorm-event-actions: an afterCommit callback of ${origin.entityName} ${origin.timing} ${origin.type} failed`, error)
}

/** @internal */
export function resolveConfig(config: EventActionsConfig = {}): ResolvedConfig {
  const { validate = true, recursion = 'guard', maxDepth = 32, onAfterCommitError = logAfterCommitError, translate } = config
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new HardError(`EventActionsConfig.maxDepth must be a whole number of at least 1, got ${String(maxDepth)}`)
  }
  if (recursion !== 'guard' && recursion !== 'allow') {
    throw new HardError(`EventActionsConfig.recursion must be 'guard' or 'allow', got ${String(recursion)}`)
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
  return Object.freeze({ validate, recursionGuard: recursion === 'guard', maxDepth, onAfterCommitError })
}

import type { EventActionTiming } from './event-action-timing'
import type { EventActionType } from './event-action-type'

/** What an error can say about where it happened. */
export interface EventActionErrorOptions {
  /** The attribute the error is about, when there is one. */
  attribute?: string
  /** The entity class name; filled in by the dispatcher when a handler leaves it out. */
  entityName?: string
  /** The event that failed; filled in by the dispatcher when a handler leaves it out. */
  type?: EventActionType
  /** Pre or Post; filled in by the dispatcher when a handler leaves it out. */
  timing?: EventActionTiming
  /** The underlying error. */
  cause?: unknown
}

/**
 * Base class of every error this library throws. It carries the entity,
 * attribute and event that failed; a handler may throw one without them and
 * the dispatcher fills them in before the error reaches the caller of
 * `save()`/`remove()`/`find()`.
 */
export class EventActionError extends Error {
  override name = 'EventActionError'
  /** The entity class name, e.g. `'Account'`. */
  entityName: string | undefined
  /** The event type that failed. */
  type: EventActionType | undefined
  /** Pre or Post. */
  timing: EventActionTiming | undefined
  /** The attribute the error is about, if any. */
  readonly attribute: string | undefined

  constructor(message: string, options: EventActionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.entityName = options.entityName
    this.type = options.type
    this.timing = options.timing
    this.attribute = options.attribute
  }
}

/**
 * An expected, user-facing refusal: a business rule said no. Throw it from a
 * Pre handler to stop the write; the transaction is rolled back and nothing
 * is written.
 *
 * @example
 * ```ts
 * if (await ctx.manager.exists(Account, { where: { name: this.name } }))
 *   throw new SoftError('Account with this name already exists', { attribute: 'name' })
 * ```
 */
export class SoftError extends EventActionError {
  override name = 'SoftError'
}

/** A programming or system fault (a typo in a rule, a broken invariant). */
export class HardError extends EventActionError {
  override name = 'HardError'

  /** A rule named an attribute the entity does not have. */
  static unknownAttribute(entityName: string, attribute: string, where: string): HardError {
    return new HardError(
      `${entityName} has no attribute '${attribute}' (used in ${where}); check the spelling against the entity's columns and relations`,
      { entityName, attribute },
    )
  }
}

/** One link of an event chain, as shown by {@link EventActionRecursionError}. */
export interface EventChainLink {
  readonly entityName: string
  readonly id: string
  readonly timing: EventActionTiming
  readonly type: EventActionType
}

/**
 * An event chain grew deeper than `maxDepth` (default 32): handlers that keep
 * writing each other. The message lists the chain, outermost first.
 */
export class EventActionRecursionError extends HardError {
  override name = 'EventActionRecursionError'
  /** The chain of events, outermost first, ending with the one that was refused. */
  readonly chain: readonly EventChainLink[]

  constructor(maxDepth: number, chain: readonly EventChainLink[]) {
    const last = chain[chain.length - 1]
    super(
      `event chain deeper than maxDepth (${maxDepth}): ${chain
        .map((l) => `${l.entityName}#${l.id} ${l.timing} ${l.type}`)
        .join(' -> ')}`,
      { entityName: last?.entityName, type: last?.type, timing: last?.timing },
    )
    this.chain = chain
  }
}

/** One attribute that failed validation, with class-validator's messages. */
export interface ValidationFailure {
  readonly attribute: string
  /** The value that was judged. */
  readonly value: unknown
  /** The human-readable messages, one per failed constraint. */
  readonly constraints: string[]
}

/**
 * class-validator rejected the entity after its Pre Insert/Pre Update handler
 * ran. Lists every failed attribute; nothing was written.
 */
export class EntityValidationError extends SoftError {
  override name = 'EntityValidationError'
  readonly failures: readonly ValidationFailure[]

  constructor(
    entityName: string,
    type: EventActionType,
    timing: EventActionTiming,
    failures: readonly ValidationFailure[],
  ) {
    super(
      `${entityName} failed validation on ${timing} ${type}: ${failures
        .map((f) => `${f.attribute} (${f.constraints.join('; ')})`)
        .join(', ')}`,
      { entityName, type, timing, attribute: failures[0]?.attribute },
    )
    this.failures = failures
  }
}

/**
 * A write would bypass an entity's event actions: a bulk `update()`/`delete()`
 * by criteria, a QueryBuilder write, or an insert/save of a plain object
 * instead of an entity instance.
 */
export class BulkWriteError extends HardError {
  override name = 'BulkWriteError'
  /** What was attempted, e.g. `'update(criteria, values)'`. */
  readonly operation: string

  constructor(entityName: string, operation: string, advice: string) {
    super(
      `${entityName} has event actions, and ${operation} would bypass them. ${advice} ` +
        `To bypass them on purpose, pass { listeners: false } to save()/remove(), or run the write through a QueryBuilder ` +
        `with .callListeners(false) (repository update()/delete()/insert() have no such option), ` +
        `or let the entity opt in with @EventActionOptions({ bulkWrites: 'allow' }).`,
      { entityName },
    )
    this.operation = operation
  }

  /** A bulk write through the repository, manager or QueryBuilder. */
  static bulk(entityName: string, operation: string): BulkWriteError {
    return new BulkWriteError(
      entityName,
      operation,
      'Load the rows and save()/remove() the instances so that each row fires its events.',
    )
  }

  /** A plain object where an entity instance was needed. */
  static plainObject(entityName: string, operation: string): BulkWriteError {
    return new BulkWriteError(
      entityName,
      operation,
      `Event actions run on ${entityName} instances: build it with repository.create(...) or new ${entityName}().`,
    )
  }
}

/** Fills in the event an error happened in, where the thrower left it out. */
export function decorateError(
  error: unknown,
  entityName: string,
  type: EventActionType,
  timing: EventActionTiming,
): unknown {
  if (error instanceof EventActionError) {
    error.entityName ??= entityName
    error.type ??= type
    error.timing ??= timing
  }
  return error
}

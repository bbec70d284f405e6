import { isNativeError } from 'node:util/types'
import type { EventActionTiming } from './event-action-timing'
import type { EventActionType } from './event-action-type'
import { DEFAULT_LOCALE, translate, type MessageParams } from './translator'
import { describeKey, describeValue } from './describe-value'

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
  /** Always 'EventActionError': stable across versions, for checks that cannot use instanceof. */
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

/** What a {@link SoftError} can carry besides {@link EventActionErrorOptions}: a message key to translate. */
export interface SoftErrorOptions extends EventActionErrorOptions {
  /** The message key, e.g. `'account.nameTaken'`; `localize(locale)` looks it up with the translator. */
  key?: string
  /** The values the key's text is filled in with. */
  params?: MessageParams
}

/** Options of {@link SoftError.of}. */
export interface SoftErrorOfOptions extends EventActionErrorOptions {
  /**
   * The English text used when the translator has none for the key, with
   * `{param}` placeholders. Without it, the key itself is the fallback.
   */
  defaultMessage?: string
}

/** One user-facing message of an error, in one locale: what an HTTP 400 lists. */
export interface LocalizedErrorEntry {
  /** The attribute the message is about, or null. */
  readonly attribute: string | null
  /** The message key (`'account.nameTaken'`, `'validation.isEmail'`), or null for an error made from plain text. */
  readonly key: string | null
  /** The text in the requested locale. */
  readonly message: string
}

/**
 * An expected, user-facing refusal: a business rule said no. Throw it from a
 * Pre handler to stop the write; the transaction is rolled back and nothing
 * is written. Made with {@link SoftError.of}, it carries a message key that
 * {@link SoftError.localize} translates into the end user's language.
 *
 * @example
 * ```ts
 * if (await ctx.manager.exists(Account, { where: { name: this.name } }))
 *   throw SoftError.of('account.nameTaken', { name: this.name }, {
 *     attribute: 'name',
 *     defaultMessage: 'Account {name} already exists',
 *   })
 * ```
 */
export class SoftError extends EventActionError {
  /** Always 'SoftError': stable across versions, for checks that cannot use instanceof. */
  override name = 'SoftError'
  /** The message key, or undefined for an error made from plain text. */
  readonly key: string | undefined
  /** The values the key's text is filled in with (`{}` when there are none). */
  readonly params: MessageParams
  private readonly fallbackText: string | undefined

  constructor(message: string, options: SoftErrorOptions = {}) {
    super(message, options)
    this.key = options.key
    this.params = Object.freeze({ ...options.params })
    // The constructor's message is the English text a missing translation falls back to.
    this.fallbackText = options.key === undefined ? undefined : message
    Object.defineProperty(this, 'fallbackText', { enumerable: false })
  }

  /**
   * A SoftError with a message key: `message` is its text in the default
   * locale (`'en'`) from the translator, else `options.defaultMessage`, else
   * the key.
   */
  static of(key: string, params: MessageParams = {}, options: SoftErrorOfOptions = {}): SoftError {
    if (typeof key !== 'string' || key.trim() === '') {
      throw new HardError(`SoftError.of needs a non-empty message key, got ${JSON.stringify(key)}`)
    }
    if (params === null || typeof params !== 'object') {
      throw new HardError(`SoftError.of('${key}'): params must be an object, got ${String(params)}`)
    }
    const { defaultMessage, ...rest } = options
    const error = new SoftError(defaultMessage ?? key, { ...rest, key, params })
    error.message = translate(key, error.params, DEFAULT_LOCALE, defaultMessage)
    return error
  }

  /**
   * The message in `locale` (a BCP 47 tag such as `'ru'` or `'fr-CA'`): the
   * translator's text for the locale, then for its language, then the
   * built-in English text. An error made from plain text has no key and
   * always answers its `message`.
   */
  localize(locale: string): string {
    if (this.key === undefined) return this.message
    return translate(this.key, this.params, locale, this.fallbackText)
  }

  /** The user-facing messages in `locale`, one per attribute and rule that failed. */
  localizedEntries(locale: string): LocalizedErrorEntry[] {
    return [{ attribute: this.attribute ?? null, key: this.key ?? null, message: this.localize(locale) }]
  }
}

/** A programming or system fault (a typo in a rule, a broken invariant). */
export class HardError extends EventActionError {
  /** Always 'HardError': stable across versions, for checks that cannot use instanceof. */
  override name = 'HardError'

  /** A rule named an attribute the entity does not have. */
  static unknownAttribute(entityName: string, attribute: string, where: string): HardError {
    return new HardError(
      `${entityName} has no attribute '${describeKey(attribute)}' (used in ${where}); check the spelling against the entity's columns and relations`,
      { entityName, attribute },
    )
  }
}

/** One link of an event chain, as shown by {@link EventActionRecursionError}. */
export interface EventChainLink {
  /** The entity class name, e.g. `'Order'`. */
  readonly entityName: string
  /** The primary key as a string (composite keys as JSON), or `'new'` before it has one. */
  readonly id: string
  /** Pre or Post. */
  readonly timing: EventActionTiming
  /** The event type the handler ran for. */
  readonly type: EventActionType
}

/**
 * An event chain grew deeper than `maxDepth` (default 32): handlers that keep
 * writing each other. The message lists the chain, outermost first.
 */
export class EventActionRecursionError extends HardError {
  /** Always 'EventActionRecursionError': stable across versions, for checks that cannot use instanceof. */
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

/**
 * A write would bypass an entity's event actions: a bulk `update()`/`delete()`
 * by criteria, a QueryBuilder write, or an insert/save of a plain object
 * instead of an entity instance.
 */
export class BulkWriteError extends HardError {
  /** Always 'BulkWriteError': stable across versions, for checks that cannot use instanceof. */
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

/**
 * Fills in the event an error happened in, where the thrower left it out. A
 * thrown value that is no Error (a string, `undefined`, `null`, a plain
 * object) has no stack and nowhere to say which event failed: it becomes a
 * {@link HardError} with the value as its `cause`.
 */
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
    return error
  }
  if (error instanceof Error || isNativeError(error)) return error
  const wrapped = new HardError(`the ${timing} ${type} handler of ${entityName} threw ${describeValue(error)}, which is not an Error`, {
    entityName,
    type,
    timing,
    cause: error,
  })
  // `throw undefined` too: the cause is there, and says what was thrown.
  if (!Object.prototype.hasOwnProperty.call(wrapped, 'cause')) {
    Object.defineProperty(wrapped, 'cause', { value: error, writable: true, configurable: true, enumerable: false })
  }
  return wrapped
}

import type { ObjectLiteral } from 'typeorm'
import type { AttributeGroup } from '../basics/attribute-group'
import { declaredAutomatics } from '../metadata/declared-automatics'
import { declaredHandlers } from '../metadata/declared-handlers'
import { auditedOptionsOf } from '../audit/audited'
import type { EventActionContext } from './event-action-context'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import { HardError } from '../basics/errors'

/** When a declarative handler runs. */
export interface OnEventActionOptions {
  /** Pre or Post. */
  timing: EventActionTiming
  /** The event types it runs for. */
  types: EventActionType[]
  /**
   * Run only when the group contains at least one of these attributes (like
   * a trigger's `UPDATE OF column`; an embedded's name stands for any of its
   * columns). Leave out to run for every group (including `null`).
   */
  when?: string[]
}

/** A declarative handler method: `(group, ctx)`. */
export type DeclarativeHandler = (group: AttributeGroup | null, ctx: EventActionContext) => unknown

const TIMINGS = new Set<unknown>(Object.values(EventActionTiming))
const TYPES = new Set<unknown>(Object.values(EventActionType))

/**
 * Method decorator: the method runs for the given events, after
 * `_eventAction`, in declaration order, with `(group, ctx)`. An entity may use
 * `_eventAction`, declarative handlers, or both.
 *
 * @example
 * ```ts
 * @OnEventAction({ timing: EventActionTiming.Pre, types: [EventActionType.Insert, EventActionType.Update], when: ['postcode'] })
 * formatPostcode() { this.postcode = format(this.postcode) }
 * ```
 */
export function OnEventAction(options: OnEventActionOptions): MethodDecorator {
  if (!options || !TIMINGS.has(options.timing)) {
    throw new HardError(`@OnEventAction needs timing Pre or Post, got ${JSON.stringify(options?.timing)}`)
  }
  if (!Array.isArray(options.types) || options.types.length === 0 || options.types.some((t) => !TYPES.has(t))) {
    throw new HardError(`@OnEventAction needs types from EventActionType, got ${JSON.stringify(options.types)}`)
  }
  if (options.when !== undefined && (!Array.isArray(options.when) || options.when.some((w) => typeof w !== 'string'))) {
    throw new HardError(`@OnEventAction 'when' must be a list of attribute names, got ${JSON.stringify(options.when)}`)
  }
  return (prototype, method) => {
    if (typeof method !== 'string') throw new HardError('@OnEventAction works on string-named methods')
    declaredHandlers.add(prototype.constructor, {
      method,
      timing: options.timing,
      types: new Set(options.types),
      when: options.when ? [...options.when] : undefined,
    })
  }
}

/** What {@link describeEventActions} says about an entity. */
export interface EventActionDescription {
  /** The entity class's name (`entity.name`), e.g. `'Account'`. */
  readonly entityName: string
  /** True when the class (or an ancestor) has an `_eventAction` method. */
  readonly eventAction: boolean
  /** Declarative handlers per `'Pre Insert'`-style key, in the order they run. */
  readonly handlers: Readonly<
    Record<
      string,
      readonly {
        /** The name of the `@OnEventAction` method. */
        method: string
        /** Its `when` attributes, or null when it runs for every group. */
        when: readonly string[] | null
      }[]
    >
  >
  /** The `@Automatic` attributes. */
  readonly automatics: readonly string[]
  /** `@Audited` options, or null when not audited. */
  readonly audited: {
    /** The attributes left out of the audit's `changes`, when given. */
    exclude?: string[]
    /** The only attributes in the audit's `changes`, when given. */
    only?: string[]
  } | null
}

/**
 * Lists the handlers an entity has, per timing and type (for debugging and
 * docs).
 *
 * @example
 * ```ts
 * describeEventActions(Account).handlers['Pre Insert'] // [{ method: 'formatPostcode', when: ['postcode'] }]
 * ```
 */
export function describeEventActions(entity: Function): EventActionDescription {
  if (typeof entity !== 'function') throw new HardError(`describeEventActions needs an entity class, got ${String(entity)}`)
  const handlers: Record<string, { method: string; when: readonly string[] | null }[]> = {}
  for (const h of declaredHandlers.of(entity)) {
    for (const type of h.types) (handlers[`${h.timing} ${type}`] ??= []).push({ method: h.method, when: h.when ?? null })
  }
  const audited = auditedOptionsOf(entity)
  return {
    entityName: entity.name,
    eventAction: typeof (entity.prototype as ObjectLiteral)?._eventAction === 'function',
    handlers,
    automatics: declaredAutomatics.of(entity).map((a) => a.attribute),
    audited: audited ? { ...audited } : null,
  }
}

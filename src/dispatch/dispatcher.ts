import type { DataSource, EntityManager, ObjectLiteral } from 'typeorm'
import type { AsyncScope } from '../scope/async-scope'
import { AttributeGroup } from '../basics/attribute-group'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import type { EntityInfo } from '../metadata/entity-info'
import { decorateError, EventActionRecursionError, HardError } from '../basics/errors'
import { currentFrame, currentScope, runInFrame } from '../scope/async-scope'
import { chainOf, type EventFrame } from '../scope/event-frame'
import { isThenable } from '../basics/is-thenable'
import { enter, isRunning, leave } from './recursion-guard'
import { validateEntity } from '../validation/validate-entity'

/** @internal Where a subscriber keeps its dispatcher, for EventActions to find. */
export const DISPATCHER: unique symbol = Symbol('typeorm-event-actions.dispatcher')

/** @internal The settings the dispatcher acts on (the resolved EventActionsConfig). */
export interface DispatchSettings {
  readonly validate: boolean
  readonly recursionGuard: boolean
  readonly maxDepth: number
}

/**
 * @internal Builds the context a handler receives, which is also its frame in
 * the chain. Passed in by whoever creates the dispatcher: the context offers
 * operations, audit and after-commit, which sit above the dispatch layer.
 */
export type ContextFactory = (
  info: EntityInfo,
  entity: ObjectLiteral,
  timing: EventActionTiming,
  type: EventActionType,
  group: AttributeGroup | null,
  manager: EntityManager,
  depth: number,
  parent: EventFrame | undefined,
  soft: boolean,
  previousSource: ObjectLiteral | undefined,
  source: unknown,
) => EventFrame

/**
 * @internal Runs one event: recursion guard and depth limit, the entity's
 * handler inside its frame, then (Pre Insert/Update) validation.
 *
 * This is the hot path (two calls per loaded row), so it takes positional
 * arguments, allocates only the context (which is also the frame) and the
 * async scope that carries it, and returns undefined when everything ran
 * synchronously: a synchronous handler costs a call and no promise.
 */
export class Dispatcher {
  constructor(
    private readonly config: DispatchSettings,
    private readonly makeContext: ContextFactory,
  ) {}

  run(
    info: EntityInfo,
    entity: ObjectLiteral,
    timing: EventActionTiming,
    type: EventActionType,
    group: AttributeGroup | null,
    manager: EntityManager,
    soft: boolean,
    previousSource: ObjectLiteral | undefined,
    source?: unknown,
    // A caller that has read the async scope already passes it (Load: one read per row, not three).
    scope: AsyncScope | undefined = currentScope(),
  ): void | Promise<void> {
    const validates = this.validates(info, timing, type)
    // No handler observes this type (none at all, or `handles` leaves it out): only validation runs.
    if (!info.handler || !info.handles[type]) return validates ? this.validate(info, entity, type, timing, group, undefined) : undefined
    const parent = scope?.frame
    if (this.config.recursionGuard && (isRunning(entity, type) || isEnclosedBy(parent, entity, type))) return

    const ctx = this.frameFor(info, entity, timing, type, group, manager, parent, soft, previousSource, source)
    const before = validates && type === EventActionType.Update ? info.snapshot(entity) : undefined
    const ran = this.invoke(ctx, scope)
    if (!validates) return ran
    return ran ? ran.then(() => this.validate(info, entity, type, timing, group, before)) : this.validate(info, entity, type, timing, group, before)
  }

  /**
   * Pre and Post Load of one row with one context: it is the row's frame for
   * both, its `timing` turned to Post in between (a handler that kept the
   * Pre context sees Post). Nothing runs when no handler observes Load.
   */
  load(info: EntityInfo, entity: ObjectLiteral, group: AttributeGroup, manager: EntityManager, scope: AsyncScope | undefined): void | Promise<void> {
    if (!info.handler || !info.handles[EventActionType.Load]) return
    const parent = scope?.frame
    if (this.config.recursionGuard && (isRunning(entity, EventActionType.Load) || isEnclosedBy(parent, entity, EventActionType.Load))) return
    const ctx = this.frameFor(info, entity, EventActionTiming.Pre, EventActionType.Load, group, manager, parent, false, undefined, undefined)
    const post = (): void | Promise<void> => {
      ;(ctx as { timing: EventActionTiming }).timing = EventActionTiming.Post
      return this.invoke(ctx, scope)
    }
    const pre = this.invoke(ctx, scope)
    return pre ? pre.then(post) : post()
  }

  /** The handler's context, which is also its frame, within the depth limit. */
  private frameFor(
    info: EntityInfo,
    entity: ObjectLiteral,
    timing: EventActionTiming,
    type: EventActionType,
    group: AttributeGroup | null,
    manager: EntityManager,
    parent: EventFrame | undefined,
    soft: boolean,
    previousSource: ObjectLiteral | undefined,
    source: unknown,
  ): EventFrame {
    const depth = parent ? parent.depth + 1 : 1
    const ctx = this.makeContext(info, entity, timing, type, group, manager, depth, parent, soft, previousSource, source)
    if (depth > this.config.maxDepth) throw new EventActionRecursionError(this.config.maxDepth, chainOf(ctx))
    return ctx
  }

  /** Calls the handler in its frame; undefined when it ran synchronously. */
  private invoke(ctx: EventFrame, scope: AsyncScope | undefined): void | Promise<void> {
    const { info, entity, type } = ctx
    let result: unknown
    try {
      result = runInFrame(scope, ctx, callHandler)
    } catch (error) {
      throw decorateError(error, info.name, type, ctx.timing)
    }
    if (!isThenable(result)) return undefined
    // The flag marks a pending handler on the instance itself; while the handler
    // runs synchronously, the frame chain (isEnclosedBy) already covers it.
    enter(entity, type)
    // Promise.resolve also adopts foreign thenables, so that their rejection is seen.
    return Promise.resolve(result).then(
      () => leave(entity, type),
      (error: unknown) => {
        leave(entity, type)
        throw decorateError(error, info.name, type, ctx.timing)
      },
    )
  }

  /**
   * A context for code that runs as part of an event without being its
   * handler (an `@Automatic` function), with this DataSource's settings and
   * the depth of the calling frame.
   */
  contextFor(
    info: EntityInfo,
    entity: ObjectLiteral,
    timing: EventActionTiming,
    type: EventActionType,
    group: AttributeGroup | null,
    manager: EntityManager,
  ): EventFrame {
    const parent = currentFrame()
    return this.makeContext(info, entity, timing, type, group, manager, parent ? parent.depth + 1 : 1, parent, false, undefined, undefined)
  }

  private validates(info: EntityInfo, timing: EventActionTiming, type: EventActionType): boolean {
    return (
      timing === EventActionTiming.Pre &&
      (type === EventActionType.Insert || type === EventActionType.Update) &&
      (info.validate ?? this.config.validate) &&
      info.target !== undefined
    )
  }

  private validate(
    info: EntityInfo,
    entity: ObjectLiteral,
    type: EventActionType,
    timing: EventActionTiming,
    group: AttributeGroup | null,
    before: unknown[] | undefined,
  ): void | Promise<void> {
    let judged: AttributeGroup | null = null
    if (type === EventActionType.Update) {
      // Judge what the event writes: TypeORM's changed attributes plus whatever the Pre handler changed.
      const changed = before ? info.changedSince(entity, before) : []
      judged = changed.length ? new AttributeGroup([...(group ?? []), ...changed]) : group
    }
    return validateEntity(entity, info.target!, info.name, type, timing, judged)
  }
}

/**
 * True when a handler of `entity` for `type` encloses this call: it runs
 * synchronously inside that handler, or in its async continuation. The
 * instance flag covers a pending handler; this covers the synchronous part,
 * where `ctx.actions` operations dispatch before the handler has returned.
 */
function isEnclosedBy(frame: EventFrame | undefined, entity: ObjectLiteral, type: EventActionType): boolean {
  for (let f = frame; f; f = f.parent) if (f.entity === entity && f.type === type) return true
  return false
}

/** Called only when the entity has a handler (checked by `run`). */
function callHandler(ctx: EventFrame): unknown {
  return ctx.info.handler!.call(ctx.entity, ctx.timing, ctx.type, ctx.group, ctx)
}

// Where each DataSource's dispatcher was found (the subscriber holds it), so the search runs once.
const dispatchers = new WeakMap<DataSource, Dispatcher>()

/** @internal The dispatcher of `connection`'s event-action subscriber, for code that dispatches its own events. */
export function dispatcherOf(connection: DataSource): Dispatcher {
  let dispatcher = dispatchers.get(connection)
  if (!dispatcher) {
    const subscriber = connection.subscribers.find((s) => (s as unknown as Record<symbol, unknown>)[DISPATCHER] !== undefined)
    if (!subscriber) {
      throw new HardError('EventActions needs a DataSource with event actions: create it with withEventActions(options)')
    }
    dispatcher = (subscriber as unknown as Record<symbol, Dispatcher>)[DISPATCHER]!
    dispatchers.set(connection, dispatcher)
  }
  return dispatcher
}

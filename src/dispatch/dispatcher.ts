import type { DataSource, EntityManager, ObjectLiteral } from 'typeorm'
import type { AsyncScope } from '../scope/async-scope'
import { AttributeGroup } from '../basics/attribute-group'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import type { EntityInfo } from '../metadata/entity-info'
import { decorateError, EventActionRecursionError, HardError } from '../basics/errors'
import { currentScope, runInFrame } from '../scope/async-scope'
import { EventSite } from './event-site'
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

/** @internal A handler's context: its frame in the chain of running handlers, and the async scope of its call. */
export type HandlerFrame = EventFrame & AsyncScope

/**
 * @internal Builds the context a handler receives, which is also its frame
 * and the scope of its call. Passed in by whoever creates the dispatcher:
 * the context offers operations, audit and after-commit, which sit above the
 * dispatch layer. What the calls of one broadcast share is in the site.
 */
export type ContextFactory = (
  site: EventSite,
  entity: ObjectLiteral,
  timing: EventActionTiming,
  group: AttributeGroup | null,
  previousSource: ObjectLiteral | undefined,
  source: unknown,
) => HandlerFrame

const { Pre, Post } = EventActionTiming
const { Load } = EventActionType

/**
 * @internal Runs one event: recursion guard and depth limit, the entity's
 * handler inside its frame, then (Pre Insert/Update) validation.
 *
 * This is the hot path (two calls per loaded row), so it takes positional
 * arguments, allocates only the context (which is also the frame and the
 * async scope of the call; what the calls of one broadcast share is one
 * site), and returns undefined when everything ran synchronously: a
 * synchronous handler costs a call and no promise.
 */
export class Dispatcher {
  // The last event's site: the events of one broadcast (N rows of a find, N
  // entities of a save) come one after another, in one synchronous loop, and share it.
  private site: EventSite | undefined

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
  ): void | Promise<void> {
    const validates = this.validates(info, timing, type)
    // No handler observes this type (none at all, or `handles` leaves it out): only validation runs.
    if (!info.handler || !info.handles[type]) return validates ? this.validate(info, entity, type, timing, group, undefined) : undefined
    const scope = currentScope()
    if (this.config.recursionGuard && (isRunning(entity, type) || isEnclosedBy(scope?.frame, entity, type))) return

    const ctx = this.makeContext(this.siteFor(info, type, manager, soft, scope), entity, timing, group, previousSource, source)
    this.checkDepth(ctx)
    const before = validates && type === EventActionType.Update ? info.snapshot(entity) : undefined
    const ran = this.call(ctx, callHandler)
    if (!validates) return ran
    return ran ? ran.then(() => this.validate(info, entity, type, timing, group, before)) : this.validate(info, entity, type, timing, group, before)
  }

  /**
   * The context of one loaded row of an entity whose handler observes Load
   * (the caller has checked). Built when TypeORM announces the row, and run
   * by {@link loadRow} (perhaps later, after the handlers of earlier rows settled).
   */
  loadContext(info: EntityInfo, entity: ObjectLiteral, group: AttributeGroup, manager: EntityManager, scope: AsyncScope | undefined): HandlerFrame {
    return this.makeContext(this.siteFor(info, Load, manager, false, scope), entity, Pre, group, undefined, undefined)
  }

  /**
   * Pre and Post Load of one row with one context: it is the row's frame for
   * both, its `timing` turned to Post in between (a handler that kept the
   * Pre context sees Post). Both calls run in one scope when Pre returns
   * synchronously.
   */
  readonly loadRow = (ctx: HandlerFrame): void | Promise<void> => {
    const { entity } = ctx
    if (this.config.recursionGuard && (isRunning(entity, Load) || isEnclosedBy(ctx.parent, entity, Load))) return
    this.checkDepth(ctx)
    const ran = this.call(ctx, callPreAndPost)
    // Pending: Post's handler (done when it settles), or Pre's (then Post runs after it).
    if (!ran || ctx.timing === Post) return ran
    return ran.then(() => this.call(turnToPost(ctx), callHandler))
  }

  private siteFor(info: EntityInfo, type: EventActionType, manager: EntityManager, soft: boolean, scope: AsyncScope | undefined): EventSite {
    const last = this.site
    if (last !== undefined && last.serves(info, type, manager, soft, scope)) return last
    const site = new EventSite(info, type, manager, soft, scope)
    this.site = site
    // Forgotten once the synchronous broadcast that made it is over, so that an
    // idle DataSource keeps no scope, action or manager alive.
    queueMicrotask(() => {
      if (this.site === site) this.site = undefined
    })
    return site
  }

  private checkDepth(ctx: HandlerFrame): void {
    if (ctx.depth > this.config.maxDepth) throw new EventActionRecursionError(this.config.maxDepth, chainOf(ctx))
  }

  /** Calls `fn` (the handler) in the context's scope; undefined when it ran synchronously. */
  private call(ctx: HandlerFrame, fn: (ctx: HandlerFrame) => unknown): void | Promise<void> {
    let result: unknown
    try {
      result = runInFrame(ctx, fn)
    } catch (error) {
      throw decorateError(error, ctx.info.name, ctx.type, ctx.timing)
    }
    if (!isThenable(result)) return undefined
    const { info, entity, type } = ctx
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
  ): HandlerFrame {
    return this.makeContext(this.siteFor(info, type, manager, false, currentScope()), entity, timing, group, undefined, undefined)
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
function callHandler(ctx: HandlerFrame): unknown {
  return ctx.info.handler!.call(ctx.entity, ctx.timing, ctx.type, ctx.group, ctx)
}

/** A row's Pre Load, then (when Pre returned synchronously) its Post Load, in one scope. */
function callPreAndPost(ctx: HandlerFrame): unknown {
  const pre = callHandler(ctx)
  if (isThenable(pre)) return pre
  return callHandler(turnToPost(ctx))
}

function turnToPost(ctx: HandlerFrame): HandlerFrame {
  ;(ctx as { timing: EventActionTiming }).timing = Post
  return ctx
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

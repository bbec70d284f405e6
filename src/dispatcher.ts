import type { EntityManager, ObjectLiteral } from 'typeorm'
import { AttributeGroup } from './attribute-group'
import type { ResolvedConfig } from './event-actions-config'
import { EventActionTiming } from './event-action-timing'
import { EventActionType } from './event-action-type'
import type { EntityInfo } from './entity-info'
import { decorateError, EventActionRecursionError, type EventChainLink } from './errors'
import { chainOf, frames, type EventFrame } from './event-frame'
import { HandlerContext } from './handler-context'
import { enter, isRunning, leave } from './recursion-guard'
import { validateEntity } from './validation'

/** @internal One event for one entity, as the subscriber hands it over. */
export interface EventRequest {
  readonly info: EntityInfo
  readonly entity: ObjectLiteral
  readonly timing: EventActionTiming
  readonly type: EventActionType
  readonly group: AttributeGroup | null
  readonly manager: EntityManager
  readonly data: ObjectLiteral
  readonly soft: boolean
  /** Where `ctx.previous()` reads from: the database copy for Update/Delete. */
  readonly previousSource: ObjectLiteral | undefined
}

const EMPTY_DATA: ObjectLiteral = Object.freeze({})

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
}

/**
 * @internal Runs one event: recursion guard and depth limit, the entity's
 * handler inside its frame, then (Pre Insert/Update) validation. Returns
 * undefined when everything ran synchronously, so that a synchronous handler
 * costs a call and no promise.
 */
export class Dispatcher {
  constructor(private readonly config: ResolvedConfig) {}

  run(req: EventRequest): void | Promise<void> {
    const { info, entity, type, timing } = req
    const handler = info.handler
    if (!handler) return
    if (this.config.recursionGuard && isRunning(entity, type)) return

    const parent = frames.getStore()
    const depth = parent ? parent.depth + 1 : 1
    const link: EventChainLink = { entityName: info.name, id: info.idOf(entity), timing, type }
    if (depth > this.config.maxDepth) throw new EventActionRecursionError(this.config.maxDepth, chainOf(parent, link))

    const validates = this.validates(req)
    const before = validates && type === EventActionType.Update ? info.snapshot(entity) : undefined
    const ctx = new HandlerContext(
      info,
      entity,
      timing,
      type,
      req.group,
      req.manager,
      depth,
      req.data ?? EMPTY_DATA,
      req.soft,
      req.previousSource,
    )
    const frame: EventFrame = { link, depth, parent }

    enter(entity, type)
    let result: unknown
    try {
      result = frames.run(frame, () => handler.call(entity, timing, type, req.group, ctx))
    } catch (error) {
      leave(entity, type)
      throw decorateError(error, info.name, type, timing)
    }
    if (isThenable(result)) {
      // Promise.resolve also adopts foreign thenables, so that their rejection is seen.
      return Promise.resolve(result).then(
        () => {
          leave(entity, type)
          return validates ? this.validate(req, before) : undefined
        },
        (error: unknown) => {
          leave(entity, type)
          throw decorateError(error, info.name, type, timing)
        },
      )
    }
    leave(entity, type)
    return validates ? this.validate(req, before) : undefined
  }

  private validates(req: EventRequest): boolean {
    return (
      req.timing === EventActionTiming.Pre &&
      (req.type === EventActionType.Insert || req.type === EventActionType.Update) &&
      (req.info.validate ?? this.config.validate) &&
      req.info.target !== undefined
    )
  }

  private validate(req: EventRequest, before: unknown[] | undefined): void | Promise<void> {
    const { info, entity, type, timing } = req
    let group: AttributeGroup | null = null
    if (type === EventActionType.Update) {
      // Judge what the event writes: TypeORM's changed attributes plus whatever the Pre handler changed.
      const changed = before ? info.changedSince(entity, before) : []
      group = changed.length ? new AttributeGroup([...(req.group ?? []), ...changed]) : req.group
    }
    return validateEntity(entity, info.target!, info.name, type, timing, group)
  }
}

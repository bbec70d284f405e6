import type { EntityManager } from 'typeorm'
import type { ActionChange } from '../scope/action-change'
import type { ActionContext } from '../scope/action-context'
import type { AsyncScope } from '../scope/async-scope'
import type { EventActionType } from '../basics/event-action-type'
import type { EntityInfo } from '../metadata/entity-info'
import type { EventFrame } from '../scope/event-frame'

/**
 * @internal What the handler calls of one broadcast have in common: the
 * entity class, the event type, the manager, and where they run (the
 * enclosing handler and action, read from the scope they were dispatched
 * in). A find() of N rows, or a save() of N entities of one class, builds
 * one site and N contexts that hold only what differs per call (the
 * instance, the timing, the group): on the Load path every byte allocated
 * per row is paid again by the garbage collector, which copies the rows
 * TypeORM is still building.
 */
export class EventSite {
  /** The enclosing handler's frame. */
  readonly parent: EventFrame | undefined
  /** 1 for an event dispatched outside any handler. */
  readonly depth: number
  readonly runningAction: ActionContext | undefined
  readonly changeLists: readonly ActionChange[][] | undefined

  constructor(
    readonly info: EntityInfo,
    readonly type: EventActionType,
    readonly manager: EntityManager,
    readonly soft: boolean,
    /** The scope the events were dispatched in; scopes are never changed, so the fields above stay true. */
    readonly outer: AsyncScope | undefined,
  ) {
    this.parent = outer?.frame
    this.depth = this.parent ? this.parent.depth + 1 : 1
    this.runningAction = outer?.runningAction
    this.changeLists = outer?.changeLists
  }

  /** True when an event with these inputs can share this site. */
  serves(info: EntityInfo, type: EventActionType, manager: EntityManager, soft: boolean, outer: AsyncScope | undefined): boolean {
    return this.info === info && this.type === type && this.manager === manager && this.soft === soft && this.outer === outer
  }
}

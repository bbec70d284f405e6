import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'
import { classRegistry } from './class-registry'

/** @internal One `@OnEventAction` method. */
export interface DeclaredHandler {
  readonly method: string
  readonly timing: EventActionTiming
  readonly types: ReadonlySet<EventActionType>
  readonly when: readonly string[] | undefined
}

/**
 * @internal The one registry of `@OnEventAction` methods: the decorator
 * (entity/on-event-action.ts) checks its options and adds here; entity-info
 * reads it when it compiles an entity.
 */
export const declaredHandlers = classRegistry<DeclaredHandler>()

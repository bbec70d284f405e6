import type { ObjectLiteral } from 'typeorm'
import type { AttributeGroup } from '../basics/attribute-group'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'

/**
 * @internal The `_eventAction` method, as the dispatcher calls it. The
 * context is only an object here: its public type (EventActionContext, in
 * entity/) sits above the layers that compile and dispatch events.
 */
export type EventActionHandler = (
  this: ObjectLiteral,
  timing: EventActionTiming,
  type: EventActionType,
  group: AttributeGroup | null,
  ctx: object,
) => unknown

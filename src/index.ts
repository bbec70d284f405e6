/**
 * typeorm-event-actions: CaseMaster-style event actions for TypeORM entities.
 * This file is the whole public surface.
 */
export { AttributeGroup } from './attribute-group'
export type { AttributeChange, EventActionContext } from './event-action-context'
export type { EventActionEntity } from './event-action-entity'
export { EventActionOptions, type EntityEventActionOptions } from './event-action-options'
export { EventActionSubscriber } from './event-action-subscriber'
export { EventActionTiming } from './event-action-timing'
export { EventActionType } from './event-action-type'
export type { EventActionsConfig } from './event-actions-config'
export {
  BulkWriteError,
  EntityValidationError,
  EventActionError,
  EventActionRecursionError,
  HardError,
  SoftError,
  type EventActionErrorOptions,
  type EventChainLink,
  type ValidationFailure,
} from './errors'
export { anyInGroup, inGroup } from './in-group'
export { withEventActions } from './with-event-actions'

/**
 * typeorm-event-actions: CaseMaster-style event actions for TypeORM entities.
 * This file is the whole public surface.
 */
export { currentAction, runAction, type ActionContext, type ActionUser, type RunActionOptions } from './action-context'
export {
  ActionEvents,
  type ActionChange,
  type ActionEventContext,
  type ActionEventsOptions,
  type BindOptions,
  type PostActionEventContext,
  type PostActionHandler,
  type PreActionHandler,
} from './action-events'
export { AttributeGroup } from './attribute-group'
export { Automatic, type AutomaticFn } from './automatic'
export { AuditEntry, type AuditChange } from './audit/audit-entry'
export { auditTrail } from './audit/audit-trail'
export { Audited, type AuditedOptions } from './audit/audited'
export { CreateAuditEntryTable, CreateAuditEntryTable1763769600000 } from './audit/create-audit-entry-table'
export type { AttributeChange, EventActionContext } from './event-action-context'
export type { EventActionEntity } from './event-action-entity'
export { EventActionOptions, type EntityEventActionOptions } from './event-action-options'
export { EventActions, type EntityClass, type FromRecordSetOptions, type SetAutomaticsOptions } from './event-actions'
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
  type ConstraintViolation,
  type EventActionErrorOptions,
  type EventChainLink,
  type LocalizedErrorEntry,
  type SoftErrorOfOptions,
  type SoftErrorOptions,
  type ValidationFailure,
} from './errors'
export {
  expressEventActions,
  type ExpressEventActions,
  type ExpressEventActionsOptions,
  type ExpressNext,
  type ExpressRequestLike,
  type ExpressResponseLike,
} from './http/express-event-actions'
export type { HttpErrorEntry } from './http/http-action'
export { koaEventActions, type KoaContextLike, type KoaEventActionsOptions } from './http/koa-event-actions'
export { i18nextTranslator, type I18nextLike } from './i18next-translator'
export { anyInGroup, inGroup } from './in-group'
export { EventActionsExceptionFilter, type EventActionsExceptionFilterOptions } from './nestjs/event-actions-exception-filter'
export { EventActionsInterceptor, type EventActionsInterceptorOptions } from './nestjs/event-actions-interceptor'
export { EventActionsModule, type EventActionsDynamicModule } from './nestjs/event-actions-module'
export type {
  EventActionsModuleAsyncOptions,
  EventActionsModuleOptions,
  EventActionsModuleRegistration,
  EventActionsModuleSettings,
  EventActionsRequestOptions,
} from './nestjs/event-actions-module-options'
export type {
  NestArgumentsHostLike,
  NestCallHandlerLike,
  NestHttpAdapterHostLike,
  NestHttpAdapterLike,
  NestObservableLike,
  NestObserverLike,
  NestRequestLike,
  NestSubscriptionLike,
} from './nestjs/nest-types'
export {
  describeEventActions,
  OnEventAction,
  type DeclarativeHandler,
  type EventActionDescription,
  type OnEventActionOptions,
} from './on-event-action'
export type { AfterCommitOrigin } from './transaction-state'
export { setTranslator, type MessageParams, type Translator } from './translator'
export { withEventActions } from './with-event-actions'

/**
 * typeorm-event-actions: CaseMaster-style event actions for TypeORM entities.
 * This file is the whole public surface, grouped by the folder each name
 * lives in (docs/contributing.md lists what each folder owns).
 */

// basics: the vocabulary of events and errors
export type { AttributeChange } from './basics/attribute-change'
export { AttributeGroup } from './basics/attribute-group'
export {
  BulkWriteError,
  EventActionError,
  EventActionRecursionError,
  HardError,
  SoftError,
  type EventActionErrorOptions,
  type EventChainLink,
  type LocalizedErrorEntry,
  type SoftErrorOfOptions,
  type SoftErrorOptions,
} from './basics/errors'
export { EventActionTiming } from './basics/event-action-timing'
export { EventActionType } from './basics/event-action-type'
export { anyInGroup, inGroup } from './basics/in-group'
export type { MessageParams, Translator } from './basics/translator'

// validation: class-validator after Pre Insert/Update
export { EntityValidationError, type ConstraintViolation, type ValidationFailure } from './validation/entity-validation-error'

// i18n: translating user-facing messages
export { i18nextTranslator, type I18nextLike } from './i18n/i18next-translator'
export { setTranslator } from './i18n/set-translator'

// audit: the audit table and @Audited
export { AuditEntry, type AuditChange } from './audit/audit-entry'
export { auditTrail } from './audit/audit-trail'
export { Audited, type AuditedOptions } from './audit/audited'
export { CreateAuditEntryTable, CreateAuditEntryTable1763769600000 } from './audit/create-audit-entry-table'

// metadata: per-entity options
export { EventActionOptions, type EntityEventActionOptions } from './metadata/event-action-options'

// scope: the running action
export type { ActionChange } from './scope/action-change'
export type { ActionContext, ActionUser } from './scope/action-context'
export { currentAction } from './scope/async-scope'

// transaction: what waits for commit
export { TransactionRollbackOnlyError } from './transaction/transaction-rollback-only-error'
export { JobPayloadError } from './transaction/job-payload-error'
export type { JobAction, JobRecord } from './transaction/pending-job'
export type { AfterCommitOrigin } from './transaction/transaction-state'

// operations and actions: business-object operations, action-bound events
export { EventActions } from './operations/event-actions'
export type { EntityClass, FromRecordSetOptions, SetAutomaticsOptions } from './operations/operation-options'
export {
  ActionEvents,
  type ActionEventContext,
  type ActionEventsOptions,
  type BindOptions,
  type DurablePostActionContext,
  type DurablePostActionHandler,
  type JobInfo,
  type PostActionEventContext,
  type PostActionHandler,
  type PreActionHandler,
} from './actions/action-events'
export { runAction, type RunActionOptions } from './actions/run-action'

// jobs: the durable engines behind ctx.enqueue and durable bindings
export type { FailedJob, JobBackend, JobCounts, JobDelivery, JobSettings } from './jobs/job-backend'
export { pgBossJobs, type PgBossJobsOptions } from './jobs/pg-boss-jobs'
export { bullMqJobs, type BullMqConnectionOptions, type BullMqJobsOptions } from './jobs/bullmq-jobs'
export { JobOutboxEntry } from './jobs/job-outbox-entry'
export { CreateJobOutboxTable, CreateJobOutboxTable1767225600000 } from './jobs/create-job-outbox-table'

// entity: what an entity class declares and what its handlers receive
export { Automatic, type AutomaticFn } from './entity/automatic'
export type { EnqueueOptions, EventActionContext } from './entity/event-action-context'
export type { EventActionEntity } from './entity/event-action-entity'
export {
  describeEventActions,
  OnEventAction,
  type DeclarativeHandler,
  type EventActionDescription,
  type OnEventActionOptions,
} from './entity/on-event-action'

// workers: running durable jobs
export type { JobContext, JobHandler } from './workers/job-handler'
export { startWorker, type JobWorker, type WorkerOptions } from './workers/start-worker'

// setup: switching the library on for a DataSource
export { EventActionSubscriber } from './setup/event-action-subscriber'
export type { EventActionsConfig } from './setup/event-actions-config'
export { withEventActions } from './setup/with-event-actions'

// integrations: HTTP middleware and the NestJS module
export {
  expressEventActions,
  type ExpressEventActions,
  type ExpressEventActionsOptions,
  type ExpressNext,
  type ExpressRequestLike,
  type ExpressResponseLike,
} from './integrations/http/express-event-actions'
export type { HttpErrorEntry } from './integrations/http/http-action'
export { koaEventActions, type KoaContextLike, type KoaEventActionsOptions } from './integrations/http/koa-event-actions'
export { EventActionsExceptionFilter, type EventActionsExceptionFilterOptions } from './integrations/nestjs/event-actions-exception-filter'
export { EventActionsInterceptor, type EventActionsInterceptorOptions } from './integrations/nestjs/event-actions-interceptor'
export { EventActionsModule, type EventActionsDynamicModule } from './integrations/nestjs/event-actions-module'
export type {
  EventActionsModuleAsyncOptions,
  EventActionsModuleOptions,
  EventActionsModuleRegistration,
  EventActionsModuleSettings,
  EventActionsRequestOptions,
} from './integrations/nestjs/event-actions-module-options'
export type {
  NestArgumentsHostLike,
  NestCallHandlerLike,
  NestHttpAdapterHostLike,
  NestHttpAdapterLike,
  NestObservableLike,
  NestObserverLike,
  NestRequestLike,
  NestSubscriptionLike,
} from './integrations/nestjs/nest-types'

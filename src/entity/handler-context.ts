import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { ActionContext, ActionUser } from '../scope/action-context'
import type { ActionChange } from '../scope/action-change'
import type { AsyncScope } from '../scope/async-scope'
import type { EventSite } from '../dispatch/event-site'
import { currentAction } from '../scope/async-scope'
import type { AttributeGroup } from '../basics/attribute-group'
import { auditChanges, operationOf, operationWordProblem, writeAuditEntry } from '../transaction/audit-record'
import type { AttributeChange } from '../basics/attribute-change'
import type { EventActionContext } from './event-action-context'
import type { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import type { EventFrame } from '../scope/event-frame'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { HardError } from '../basics/errors'
import { recordJob, registerAfterCommit, type AfterCommitErrorHandler } from '../transaction/transaction-state'
import type { JobSink } from '../transaction/pending-job'
import { checkJobKey, checkJobName, checkJobPayload } from '../transaction/job-payload'
import type { EnqueueOptions } from './event-action-context'
import { EventActions } from '../operations/event-actions'

const EMPTY_DATA: ObjectLiteral = Object.freeze({})
const WRITES: ReadonlySet<EventActionType> = new Set([EventActionType.Insert, EventActionType.Update, EventActionType.Delete])

/** @internal What the configuration gives every context of one DataSource. */
export interface HandlerServices {
  readonly onAfterCommitError: AfterCommitErrorHandler
  /** Where `ctx.enqueue` puts jobs: the configured `jobs` backend, if any. */
  readonly jobs: JobSink | undefined
}

/**
 * @internal The context object handed to `_eventAction`, and at the same time
 * the handler's frame in the chain of running handlers and the async scope of
 * its call (one allocation per call instead of three). It holds only what
 * differs per call; what the calls of one broadcast share (entity class,
 * type, manager, depth, the enclosing frame and action) it reads from its
 * site. A class rather than an object literal so that the methods and getters
 * live once on the prototype: a Load of N rows allocates N small objects.
 * The action fields are getters, read only when a handler asks.
 *
 * Each DataSource's configuration subclasses it ({@link HandlerContext.withServices})
 * so that its services sit on the prototype, not in every context.
 */
export class HandlerContext<E extends ObjectLiteral = ObjectLiteral> implements EventActionContext<E>, EventFrame, AsyncScope {
  /** @internal What this DataSource's configuration gives every context (on the subclass's prototype). */
  declare protected readonly services: HandlerServices

  constructor(
    /** @internal */
    readonly site: EventSite,
    readonly entity: E,
    // Not readonly: a row's Pre and Post Load share one context (Dispatcher.loadRow turns it to Post).
    public timing: EventActionTiming,
    readonly group: AttributeGroup | null,
    private readonly previousSource: ObjectLiteral | undefined,
    readonly source: unknown,
  ) {}

  /** @internal The context class of one configuration: `services` on its prototype. */
  static withServices(services: HandlerServices): typeof HandlerContext {
    class ConfiguredContext<E extends ObjectLiteral = ObjectLiteral> extends HandlerContext<E> {}
    Object.defineProperty(ConfiguredContext.prototype, 'services', { value: services })
    return ConfiguredContext
  }

  /** @internal */
  get info(): EntityInfo {
    return this.site.info
  }

  get type(): EventActionType {
    return this.site.type
  }

  get manager(): EntityManager {
    return this.site.manager
  }

  get depth(): number {
    return this.site.depth
  }

  /** @internal The enclosing handler's frame. */
  get parent(): EventFrame | undefined {
    return this.site.parent
  }

  get soft(): boolean {
    return this.site.soft
  }

  // The async scope of the handler's call (see async-scope.ts): this context is the running frame.

  /** @internal */
  get frame(): EventFrame {
    return this
  }

  /** @internal */
  get runningAction(): ActionContext | undefined {
    return this.site.runningAction
  }

  /** @internal */
  get internal(): boolean {
    return false
  }

  /** @internal */
  get changeLists(): readonly ActionChange[][] | undefined {
    return this.site.changeLists
  }

  get entityName(): string {
    return this.info.name
  }

  get data(): ObjectLiteral {
    return this.manager.queryRunner?.data ?? EMPTY_DATA
  }

  get actions(): EventActions {
    return new EventActions(this.manager)
  }

  get action(): string | undefined {
    return currentAction()?.name
  }

  get user(): ActionUser | undefined {
    return currentAction()?.user
  }

  get requestId(): string | undefined {
    return currentAction()?.requestId
  }

  get locale(): string | undefined {
    return currentAction()?.locale
  }

  previous<K extends keyof E & string>(attr: K): E[K] | undefined {
    if (!this.info.attributes.has(attr)) throw HardError.unknownAttribute(this.info.name, attr, 'ctx.previous')
    return this.previousSource === undefined ? undefined : (this.info.read(this.previousSource, attr) as E[K])
  }

  changes(): Record<string, AttributeChange> {
    const out: Record<string, AttributeChange> = {}
    if (!this.group) return out
    for (const attr of this.group) {
      out[attr] = {
        old: this.previousSource === undefined ? undefined : this.info.read(this.previousSource, attr),
        new: this.info.read(this.entity, attr),
      }
    }
    return out
  }

  afterCommit(fn: () => unknown): void {
    if (typeof fn !== 'function') throw new HardError(`ctx.afterCommit needs a function, got ${String(fn)}`, this.origin())
    void registerAfterCommit(this.manager, fn, this.origin(), this.services.onAfterCommitError)
  }

  enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): void {
    const where = `${this.info.name}'s ${this.timing} ${this.type} handler`
    const origin = this.origin()
    checkJobName(name, `ctx.enqueue in ${where}`, origin)
    const sink = this.services.jobs
    if (!sink) {
      throw new HardError(`ctx.enqueue('${name}') in ${where}: no jobs backend is configured (withEventActions(options, { jobs: pgBossJobs() | bullMqJobs(...) }))`, origin)
    }
    if (options.key !== undefined) checkJobKey(options.key, `ctx.enqueue('${name}') in ${where}`, origin)
    const json = checkJobPayload(payload, sink.maxPayloadBytes, { jobName: name, where, entityName: this.info.name })
    const queryRunner = this.manager.queryRunner
    const inTransaction = queryRunner?.isTransactionActive === true
    // Outside a transaction a write's jobs wait for its Post event, as its audit entries do; other events have no write to wait for.
    if (!queryRunner || (!inTransaction && !WRITES.has(this.type))) {
      throw new HardError(
        `ctx.enqueue('${name}') in ${where} runs outside any transaction, so the job would commit with nothing: read in a transaction (dataSource.transaction(...)), or enqueue from a write's handler or an action`,
        origin,
      )
    }
    const action = currentAction()
    const job = {
      sink,
      name,
      kind: 'enqueue' as const,
      key: options.key,
      // A copy: what the handler changes afterwards is not what was enqueued.
      payload: JSON.parse(json) as unknown,
      action: action && { name: action.name, user: action.user, requestId: action.requestId, locale: action.locale },
      owner: inTransaction ? undefined : this.entity,
    }
    recordJob(queryRunner, job)
  }

  writeAudit(entity: ObjectLiteral = this.entity, operation?: string): Promise<void> {
    const problem = operation === undefined ? undefined : operationWordProblem(operation)
    if (problem) return Promise.reject(new HardError(`ctx.writeAudit ${problem}`, this.origin()))
    const own = entity === this.entity
    let info: EntityInfo
    try {
      info = own ? this.info : entityInfo(this.manager.connection.getMetadata(entity.constructor))
    } catch (error) {
      return Promise.reject(new HardError(`ctx.writeAudit: ${String(entity?.constructor?.name)} is not an entity of this DataSource`, { ...this.origin(), cause: error }))
    }
    const changes = own
      ? auditChanges(info, entity, this.type, this.group, this.previousSource)
      : auditChanges(info, entity, this.type, null, undefined)
    const fallback = own ? this.previousSource : undefined
    return Promise.resolve(writeAuditEntry(this.manager, info, entity, operation ?? operationOf(this.type), changes, fallback, this.entity))
  }

  private origin(): { entityName: string; type: EventActionType; timing: EventActionTiming } {
    return { entityName: this.info.name, type: this.type, timing: this.timing }
  }
}

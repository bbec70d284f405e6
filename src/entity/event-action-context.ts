import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { ActionUser } from '../scope/action-context'
import type { EventActions } from '../operations/event-actions'
import type { AttributeChange } from '../basics/attribute-change'
import type { AttributeGroup } from '../basics/attribute-group'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'

/**
 * Everything a handler may want to know about the event it runs for, in one
 * read-only object (the fourth argument of `_eventAction`).
 *
 * Each event has a context of its own (a row's Pre and Post Load share one,
 * its `timing` turning to Post), so a handler may keep it. Read its fields by
 * name: most are getters over what the events of one query share, so a
 * spread copy or `Object.keys` does not show them.
 */
export interface EventActionContext<E extends ObjectLiteral = ObjectLiteral> {
  /** Whether the handler runs before (Pre) or after (Post) the event's work. */
  readonly timing: EventActionTiming
  /** The event the handler runs for (Insert, Update, Delete, Load, ...). */
  readonly type: EventActionType
  /** The attributes the event touches; `null` for Delete. */
  readonly group: AttributeGroup | null
  /** The entity the event is for. */
  readonly entity: E
  /** The entity class name, e.g. `'Order'`. */
  readonly entityName: string
  /**
   * The EntityManager of the running transaction: writes through it are part
   * of the same transaction and fire their own (nested) events.
   */
  readonly manager: EntityManager
  /** 1 for a top-level event, +1 for each event nested inside a handler. */
  readonly depth: number
  /** TypeORM `SaveOptions.data` / `RemoveOptions.data` of the running write (`{}` when none). */
  readonly data: ObjectLiteral
  /** True for `softRemove()` (a Delete that sets the delete-date column). */
  readonly soft: boolean
  /**
   * The attribute's value before this event: the database value for Update
   * and Delete (relations as their id), `undefined` for Insert and Load.
   * Throws a `HardError` for a name the entity does not have.
   */
  previous<K extends keyof E & string>(attr: K): E[K] | undefined
  /** `{ attr: { old, new } }` for every attribute in the group (`{}` for Delete). */
  changes(): Record<string, AttributeChange>
  /** The name of the action this event runs in (`runAction`), or undefined. */
  readonly action: string | undefined
  /** The user of that action, or undefined. */
  readonly user: ActionUser | undefined
  /** The request id of that action, or undefined. */
  readonly requestId: string | undefined
  /**
   * The end user's language of that action (`runAction({ locale })`, or
   * `Accept-Language` through the HTTP middleware), or undefined. A
   * `SoftError.of(...)` needs no locale: it is translated where it is shown.
   */
  readonly locale: string | undefined
  /**
   * Runs `fn` once after the transaction commits; never if it rolls back.
   * An error in `fn` cannot undo the commit: it goes to the configured
   * `onAfterCommitError` (default: logged with entity and event).
   */
  afterCommit(fn: () => unknown): void
  /**
   * Writes an audit entry for `entity` (default: this event's entity) in
   * this transaction: the CaseMaster `bo.writeAudit`. `operation` defaults to
   * the event's (`insert`, `update`, `delete`, or the type in lower case).
   * Called in Pre Insert, the entry still gets the generated key.
   */
  writeAudit(entity?: ObjectLiteral, operation?: string): Promise<void>
  /**
   * Puts a job into the configured durable engine (`withEventActions(options,
   * { jobs })`) through this event's transaction: it is stored when the
   * transaction commits and dropped when it (or the savepoint it was made
   * in) rolls back. A worker runs the handler registered for `name` later,
   * at least once, with `payload` (as JSON) and `ctx.job.key` (`options.key`,
   * else derived from the transaction and position) for idempotence.
   * A payload that is not JSON, or is over the backend's `maxPayloadBytes`,
   * throws `JobPayloadError` at once.
   *
   * @example
   * ```ts
   * if (type === EventActionType.Insert && timing === EventActionTiming.Post) {
   *   ctx.enqueue('mail:welcome', { userId: this.id }, { key: `welcome:${this.id}` })
   * }
   * ```
   */
  enqueue(name: string, payload: unknown, options?: EnqueueOptions): void
  /** The other object of a BO2BO (the source entity) or RS2BO (the raw row); undefined otherwise. */
  readonly source: unknown
  /** `EventActions` bound to this event's transaction. */
  readonly actions: EventActions
}

/** Options of {@link EventActionContext.enqueue}. */
export interface EnqueueOptions {
  /**
   * The job's stable key, as the handler sees it in `ctx.job.key` (e.g.
   * `'welcome:42'`): what an idempotent handler checks. Not a de-duplication:
   * two enqueues with one key are two jobs. Defaults to
   * `<transaction id>:<position>`.
   */
  key?: string
}


import {
  type EntityMetadata,
  type EntitySubscriberInterface,
  type InsertEvent,
  type LoadEvent,
  type ObjectLiteral,
  type QueryRunner,
  type RecoverEvent,
  type RemoveEvent,
  type SoftRemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm'
import { auditChanges, operationOf, writeAuditEntry } from '../transaction/audit-record'
import { AttributeGroup } from '../basics/attribute-group'
import { collectChange, isCollecting } from '../transaction/collect-change'
import { DISPATCHER, type Dispatcher } from '../dispatch/dispatcher'
import { forgetState, rememberState } from '../dispatch/entity-state'
import { applyAutomatics } from '../dispatch/apply-automatics'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { BulkWriteError } from '../basics/errors'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import { runInOrder } from '../dispatch/transaction-queue'
import { writeColumns } from './write-columns'
import { postUpdateGroup, unwrittenTouched, updateGroup, withTouched } from './write-groups'
import {
  afterCommit,
  afterRollback,
  beforeCommit,
  dropStaleOutsideTransaction,
  flushOutsideTransaction,
  transactionStarted,
} from '../transaction/transaction-state'
import { insertedRelations } from './inserted-values'
import { junctionRelationsOf } from './junction-changes'
import { rowMetadata, selectionOf } from './load-selection'
import { isInternalLoad } from './internal-work'
import { BULK_SETTINGS, CLEAR_ALLOWED, JUNCTION_UPDATE, SUBSCRIBER_MARK, type BulkSettings, type JunctionUpdate } from './our-subscriber'
import { transactionDepthOf } from './transaction-depth'
import { installTypeOrmPatches } from './typeorm-internals'
import { currentScope } from '../scope/async-scope'

const { Pre, Post } = EventActionTiming

/** What an Update or Delete needs of TypeORM's event (its own UpdateEvent, RemoveEvent, RecoverEvent, or a junction change). */
interface WriteEvent {
  readonly metadata: EntityMetadata
  readonly queryRunner: QueryRunner
  readonly entity?: ObjectLiteral
  readonly databaseEntity?: ObjectLiteral
}

/**
 * @internal The TypeORM side of the library: turns TypeORM's entity and
 * transaction events into event actions, through the dispatcher it is given.
 * The public `EventActionSubscriber` (setup/) builds that dispatcher from the
 * configuration; this class knows neither the configuration nor the handler
 * context, which sit above it.
 */
export class EventActionSubscriberBase implements EntitySubscriberInterface<ObjectLiteral> {
  /** @internal Whether clear() may empty this DataSource's tables of entities with event actions. */
  readonly [CLEAR_ALLOWED]: boolean
  /** @internal How bulk writes run on this DataSource. */
  readonly [BULK_SETTINGS]: BulkSettings
  /** @internal */
  static readonly [SUBSCRIBER_MARK] = true
  /** @internal */
  readonly [SUBSCRIBER_MARK] = true

  constructor(
    private readonly dispatcher: Dispatcher,
    options: { readonly allowClear: boolean } & BulkSettings,
  ) {
    installTypeOrmPatches()
    this[CLEAR_ALLOWED] = options.allowClear
    this[BULK_SETTINGS] = { bulkWrites: options.bulkWrites, bulkBatchSize: options.bulkBatchSize }
  }

  /** @internal For EventActions, which dispatches its own events. */
  get [DISPATCHER](): Dispatcher {
    return this.dispatcher
  }

  beforeInsert(event: InsertEvent<ObjectLiteral>): void | Promise<void> {
    return this.insertEvent(Pre, event)
  }

  afterInsert(event: InsertEvent<ObjectLiteral>): void | Promise<void> {
    return this.insertEvent(Post, event)
  }

  beforeUpdate(event: UpdateEvent<ObjectLiteral>): void | Promise<void> {
    return this.updateEvent(Pre, event)
  }

  afterUpdate(event: UpdateEvent<ObjectLiteral>): void | Promise<void> {
    return this.updateEvent(Post, event)
  }

  beforeRemove(event: RemoveEvent<ObjectLiteral>): void | Promise<void> {
    return this.deleteEvent(Pre, event, false)
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>): void | Promise<void> {
    return this.deleteEvent(Post, event, false)
  }

  beforeSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): void | Promise<void> {
    return this.deleteEvent(Pre, event, true)
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): void | Promise<void> {
    return this.deleteEvent(Post, event, true)
  }

  beforeRecover(event: RecoverEvent<ObjectLiteral>): void | Promise<void> {
    return this.recoverEvent(Pre, event)
  }

  afterRecover(event: RecoverEvent<ObjectLiteral>): void | Promise<void> {
    return this.recoverEvent(Post, event)
  }

  afterTransactionStart(event: TransactionStartEvent): void {
    transactionStarted(event.queryRunner, transactionDepthOf(event.queryRunner))
  }

  beforeTransactionCommit(event: TransactionCommitEvent): void | Promise<void> {
    return beforeCommit(event.queryRunner, transactionDepthOf(event.queryRunner))
  }

  afterTransactionCommit(event: TransactionCommitEvent): void | Promise<void> {
    return afterCommit(event.queryRunner, transactionDepthOf(event.queryRunner))
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    afterRollback(event.queryRunner, transactionDepthOf(event.queryRunner))
  }

  afterLoad(entity: ObjectLiteral, event?: LoadEvent<ObjectLiteral>): void | Promise<void> {
    if (!event) return
    // A single-table-inheritance row loaded through its parent is of its own class: its handlers, its attributes.
    const metadata = event.metadata.childEntityMetadatas.length ? rowMetadata(event.metadata, entity) : event.metadata
    const info = entityInfo(metadata)
    // Nothing observes a Load of this entity (no Load handler, no reset snapshot): the row costs nothing more.
    const dispatches = info.handler !== undefined && info.handles.Load
    if (!dispatches && !info.keepsState) return
    // Non-instances are TypeORM's own plain-object reads (generated values after an INSERT).
    if (!info.isInstance(entity)) return
    // Read once per row and handed down: each read costs an async-hooks lookup.
    const scope = currentScope()
    // TypeORM's own reloads of database copies for a save/remove are not Loads.
    if (isInternalLoad(scope)) return
    // The loaded state is what reset() goes back to (for entities that keep it in memory).
    if (info.keepsState) rememberState(info, entity)
    if (!dispatches) return
    // The selection is what the query that is broadcasting right now selected:
    // read it now, not when a deferred unit runs and another query has replaced it.
    // It was noted for the query's entity; a child class's row falls back to its defined attributes.
    const selection = metadata === event.metadata ? selectionOf(metadata) : null
    const group = selection == null ? info.definedGroup(entity) : info.loadGroup(entity, selection)
    return runInOrder(event.queryRunner, this.dispatcher.loadRow, this.dispatcher.loadContext(info, entity, group, event.manager, scope))
  }

  /** One write event: (Post, audited entities) the automatic audit entry, then the handler. */
  private write(
    info: EntityInfo,
    entity: ObjectLiteral,
    timing: EventActionTiming,
    type: EventActionType,
    group: AttributeGroup | null,
    queryRunner: QueryRunner,
    soft: boolean,
    previous: ObjectLiteral | undefined,
    // Reads as `entity` plus what TypeORM wrote that the instance does not hold (cascaded foreign keys).
    written: ObjectLiteral = entity,
  ): void | Promise<void> {
    const manager = queryRunner.manager
    if (timing === Pre) {
      dropStaleOutsideTransaction(queryRunner, entity)
      return this.dispatcher.run(info, entity, timing, type, withTouched(entity, group, type), manager, soft, previous)
    }
    const touchedUnwritten = type === EventActionType.Update ? unwrittenTouched(info, entity, group) : undefined
    const finalGroup = withTouched(entity, group, type, true)
    const post = (): void | Promise<void> => {
      // The entry is recorded before the Post handler runs: the row was written
      // then, so the trail stays in the order of the writes, and writes the
      // handler makes come after it. A failing handler rolls the entry back too.
      // One change map serves the audit entry and the running action's list.
      const changes = info.audit || (written !== entity && isCollecting()) ? auditChanges(info, written, type, finalGroup, previous) : undefined
      if (changes && info.audit) void writeAuditEntry(manager, info, entity, operationOf(type), changes, previous, entity)
      collectChange(info, entity, type, finalGroup, previous, queryRunner, changes)
      // The saved state is what reset() goes back to.
      if (type !== EventActionType.Delete) {
        if (info.keepsState) rememberState(info, entity)
        else forgetState(entity)
      }
      const ran = this.dispatcher.run(info, entity, timing, type, finalGroup, manager, soft, previous)
      // Outside a transaction this write is done now: the entries its events made are written.
      return ran ? ran.then(() => flushOutsideTransaction(queryRunner, entity)) : flushOutsideTransaction(queryRunner, entity)
    }
    if (!touchedUnwritten) return post()
    // TypeORM wrote only changed columns; touched ones are written too, in the same transaction.
    return writeColumns(manager, info, entity, touchedUnwritten).then(post)
  }

  private insertEvent(timing: EventActionTiming, event: InsertEvent<ObjectLiteral>): void | Promise<void> {
    const info = entityInfo(event.metadata)
    if (!info.active) {
      if (timing === Post && event.entity && isCollecting()) collectChange(info, event.entity, EventActionType.Insert, info.definedGroup(event.entity), undefined, event.queryRunner)
      return
    }
    const entity = event.entity
    if (!this.isDispatchable(info, entity, 'save()/insert() of a plain object')) return
    const insert = () => {
      const inserted = timing === Post ? insertedRelations(info, entity) : undefined
      if (!inserted) return this.write(info, entity, timing, EventActionType.Insert, info.definedGroup(entity), event.queryRunner, false, undefined)
      const group = new AttributeGroup([...info.definedGroup(entity), ...inserted.names])
      return this.write(info, entity, timing, EventActionType.Insert, group, event.queryRunner, false, undefined, inserted.view)
    }
    // Automatic attributes still unset are set (SetAutomatics) before Pre Insert.
    const due = timing === Pre && info.automatics.some((a) => info.read(entity, a.attribute) === undefined)
    return runInOrder(event.queryRunner, due ? () => applyAutomatics(this.dispatcher, info, entity, event.manager, false).then(insert) : insert)
  }

  private updateEvent(timing: EventActionTiming, event: UpdateEvent<ObjectLiteral>): void | Promise<void> {
    // Read now: the save's many-to-many changes are noted for the length of its broadcast.
    const junction = event.entity ? junctionRelationsOf(event.entity as ObjectLiteral) : undefined
    return this.changeEvent(timing, event, EventActionType.Update, () => {
      const group = timing === Pre ? updateGroup(event) : postUpdateGroup(event)
      return junction ? new AttributeGroup([...group, ...junction]) : group
    })
  }

  /** @internal The Update of an owner whose only change in a save is a many-to-many relation (junction-changes.ts). */
  [JUNCTION_UPDATE](timing: EventActionTiming, update: JunctionUpdate): void | Promise<void> {
    return this.changeEvent(timing, update, EventActionType.Update, () => new AttributeGroup(update.relations))
  }

  private deleteEvent(timing: EventActionTiming, event: RemoveEvent<ObjectLiteral>, soft: boolean): void | Promise<void> {
    return this.changeEvent(timing, event, EventActionType.Delete, () => null, soft)
  }

  private recoverEvent(timing: EventActionTiming, event: RecoverEvent<ObjectLiteral>): void | Promise<void> {
    return this.changeEvent(timing, event, EventActionType.Update, (info) => info.deleteDateGroup)
  }

  /** An Update or Delete of a loaded row; `groupOf` is asked only when someone reads the group. */
  private changeEvent(
    timing: EventActionTiming,
    event: WriteEvent,
    type: EventActionType,
    groupOf: (info: EntityInfo) => AttributeGroup | null,
    soft = false,
  ): void | Promise<void> {
    const info = entityInfo(event.metadata)
    if (!info.active) {
      if (timing === Post && event.entity && event.databaseEntity && isCollecting()) {
        collectChange(info, event.entity as ObjectLiteral, type, groupOf(info), event.databaseEntity, event.queryRunner)
      }
      return
    }
    if (!this.isSavePath(info, event)) return
    const entity = event.entity as ObjectLiteral
    // The database copy is `previous`: TypeORM clears the primary key on the instance before Post Delete, the copy keeps it.
    return runInOrder(event.queryRunner, () => this.write(info, entity, timing, type, groupOf(info), event.queryRunner, soft, event.databaseEntity))
  }

  /**
   * Update/remove events without an entity or database copy come from
   * QueryBuilder writes (refused earlier unless the entity allows bulk writes)
   * or from TypeORM unlinking orphaned rows, for which no instance exists.
   */
  private isSavePath(info: EntityInfo, event: WriteEvent): boolean {
    if (event.entity === undefined || event.databaseEntity === undefined) return false
    return this.isDispatchable(info, event.entity, 'save()/remove() of a plain object')
  }

  private isDispatchable(info: EntityInfo, entity: unknown, operation: string): entity is ObjectLiteral {
    if (info.isInstance(entity)) return true
    if (info.bulkWritesAllowed) return false
    throw BulkWriteError.plainObject(info.name, operation)
  }
}

import {
  EventSubscriber,
  type EntityManager,
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
import { auditChanges, operationOf, writeAuditEntry } from './audit/audit-record'
import { AttributeGroup } from './attribute-group'
import { collectChange } from './collect-change'
import { Dispatcher, DISPATCHER } from './dispatcher'
import { rememberState, touchedOf } from './entity-state'
import { applyAutomatics } from './event-actions'
import { entityInfo, type EntityInfo } from './entity-info'
import { BulkWriteError } from './errors'
import { resolveConfig, type EventActionsConfig } from './event-actions-config'
import { EventActionTiming } from './event-action-timing'
import { EventActionType } from './event-action-type'
import { runInOrder } from './transaction-queue'
import { writeColumns } from './write-columns'
import {
  afterCommit,
  afterRollback,
  beforeCommit,
  dropStaleOutsideTransaction,
  flushOutsideTransaction,
  transactionStarted,
} from './transaction-state'
import { installTypeOrmPatches, isInternalLoad, selectionOf, SUBSCRIBER_MARK } from './typeorm-internals'
import { currentScope } from './event-frame'
import type { AsyncScope } from './async-scope'

const { Pre, Post } = EventActionTiming

type WriteEvent = UpdateEvent<ObjectLiteral> | RemoveEvent<ObjectLiteral>

/** Touched attributes that TypeORM's UPDATE left out (they did not change), or undefined. */
function unwrittenTouched(info: EntityInfo, entity: ObjectLiteral, group: AttributeGroup | null): string[] | undefined {
  const touched = touchedOf(entity)
  if (!touched) return undefined
  // Only what is stored in the row can be written (not one-to-many or many-to-many relations).
  const missing = [...touched].filter((t) => !group?.has(t) && info.metadata.findColumnsWithPropertyPath(t).length > 0)
  return missing.length ? missing : undefined
}

/** The group of an Insert/Update with the attributes `touch` marked; `consume` forgets them (Post). */
function withTouched(entity: ObjectLiteral, group: AttributeGroup | null, type: EventActionType, consume = false): AttributeGroup | null {
  if (type !== EventActionType.Insert && type !== EventActionType.Update) return group
  const touched = touchedOf(entity, consume)
  if (!touched || !group) return group
  let missing = false
  for (const t of touched) if (!group.has(t)) missing = true
  return missing ? new AttributeGroup([...group, ...touched]) : group
}

/** The group of an Update: TypeORM's changed columns and relations, by property path. */
function updateGroup(event: UpdateEvent<ObjectLiteral>): AttributeGroup {
  const names: string[] = []
  for (const column of event.updatedColumns) {
    names.push(column.relationMetadata ? column.relationMetadata.propertyPath : column.propertyPath)
  }
  for (const relation of event.updatedRelations) names.push(relation.propertyPath)
  return new AttributeGroup(names)
}

/** Equal as TypeORM's change detection would also judge them: same primitive, same time, same JSON. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b)
  return false
}

/**
 * The group of a Post Update: what the UPDATE wrote. TypeORM keeps a column in
 * `updatedColumns` once it differed, even when the Pre handler set it back to
 * the stored value (a name lower-cased to what is stored): TypeORM then does
 * not write it, so it is not part of the event, nor of its audit entry.
 */
function postUpdateGroup(event: UpdateEvent<ObjectLiteral>): AttributeGroup {
  const group = updateGroup(event)
  const entity = event.entity as ObjectLiteral
  const stored = event.databaseEntity
  let unwritten: Set<string> | undefined
  for (const column of event.updatedColumns) {
    if (column.relationMetadata) continue
    if (sameValue(column.getEntityValue(entity), column.getEntityValue(stored))) (unwritten ??= new Set()).add(column.propertyPath)
  }
  if (!unwritten) return group
  const skip = unwritten
  return new AttributeGroup([...group].filter((name) => !skip.has(name)))
}

/**
 * The TypeORM subscriber that turns TypeORM's entity events into event
 * actions. Register it with {@link withEventActions} (or list it in
 * `subscribers` yourself for the default settings).
 *
 * @example
 * ```ts
 * const dataSource = new DataSource(withEventActions({ type: 'sqlite', database: 'app.sqlite', entities: [Account] }))
 * ```
 */
@EventSubscriber()
export class EventActionSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  /** @internal */
  readonly [SUBSCRIBER_MARK] = true
  private readonly dispatcher: Dispatcher

  constructor(config?: EventActionsConfig) {
    installTypeOrmPatches()
    this.dispatcher = new Dispatcher(resolveConfig(config))
  }

  /** @internal For EventActions, which dispatches its own events. */
  get [DISPATCHER](): Dispatcher {
    return this.dispatcher
  }

  /**
   * A subscriber class bound to `config`: TypeORM instantiates subscribers
   * from their class, so settings travel in a subclass.
   */
  static withConfig(config: EventActionsConfig): typeof EventActionSubscriber {
    resolveConfig(config)
    class ConfiguredEventActionSubscriber extends EventActionSubscriber {
      constructor() {
        super(config)
      }
    }
    EventSubscriber()(ConfiguredEventActionSubscriber)
    return ConfiguredEventActionSubscriber
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
    transactionStarted(event.queryRunner)
  }

  beforeTransactionCommit(event: TransactionCommitEvent): void | Promise<void> {
    return beforeCommit(event.queryRunner)
  }

  afterTransactionCommit(event: TransactionCommitEvent): void | Promise<void> {
    return afterCommit(event.queryRunner)
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    afterRollback(event.queryRunner)
  }

  afterLoad(entity: ObjectLiteral, event?: LoadEvent<ObjectLiteral>): void | Promise<void> {
    if (!event) return
    // Read once per row and handed down: each read costs an async-hooks lookup.
    const scope = currentScope()
    // TypeORM's own reloads of database copies for a save/remove are not Loads.
    if (isInternalLoad(scope)) return
    const info = entityInfo(event.metadata)
    // Non-instances are TypeORM's own plain-object reads (generated values after an INSERT).
    if (!info.handler || !info.isInstance(entity)) return
    // The selection is what the query that is broadcasting right now selected:
    // read it now, not when a deferred unit runs and another query has replaced it.
    const selection = selectionOf(event.metadata)
    const group = selection == null ? info.definedGroup(entity) : info.loadGroup(entity, selection)
    return runInOrder(event.queryRunner, () => this.load(info, entity, group, event.manager, scope))
  }

  private load(
    info: EntityInfo,
    entity: ObjectLiteral,
    group: AttributeGroup,
    manager: EntityManager,
    scope: AsyncScope | undefined,
  ): void | Promise<void> {
    // The loaded state is what reset() goes back to.
    rememberState(info, entity)
    const { dispatcher } = this
    const pre = dispatcher.run(info, entity, Pre, EventActionType.Load, group, manager, false, undefined, undefined, scope)
    if (pre) return pre.then(() => dispatcher.run(info, entity, Post, EventActionType.Load, group, manager, false, undefined, undefined, scope))
    return dispatcher.run(info, entity, Post, EventActionType.Load, group, manager, false, undefined, undefined, scope)
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
      const changes = info.audit ? auditChanges(info, entity, type, finalGroup, previous) : undefined
      if (changes) void writeAuditEntry(manager, info, entity, operationOf(type), changes, previous, entity)
      collectChange(info, entity, type, finalGroup, previous, queryRunner, changes)
      // The saved state is what reset() goes back to.
      if (type !== EventActionType.Delete) rememberState(info, entity)
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
      if (timing === Post && event.entity) collectChange(info, event.entity, EventActionType.Insert, info.definedGroup(event.entity), undefined, event.queryRunner)
      return
    }
    const entity = event.entity
    if (!this.isDispatchable(info, entity, 'save()/insert() of a plain object')) return
    const insert = () =>
      this.write(
        info,
        entity,
        timing,
        EventActionType.Insert,
        info.definedGroup(entity),
        event.queryRunner,
        false,
        undefined,
      )
    // Automatic attributes still unset are set (SetAutomatics) before Pre Insert.
    const due = timing === Pre && info.automatics.some((a) => info.read(entity, a.attribute) === undefined)
    return runInOrder(event.queryRunner, due ? () => applyAutomatics(this.dispatcher, info, entity, event.manager, false).then(insert) : insert)
  }

  private updateEvent(timing: EventActionTiming, event: UpdateEvent<ObjectLiteral>): void | Promise<void> {
    const info = entityInfo(event.metadata)
    if (!info.active) {
      if (timing === Post && event.entity && event.databaseEntity) {
        collectChange(info, event.entity as ObjectLiteral, EventActionType.Update, postUpdateGroup(event), event.databaseEntity, event.queryRunner)
      }
      return
    }
    if (!this.isSavePath(info, event)) return
    const entity = event.entity as ObjectLiteral
    return runInOrder(event.queryRunner, () =>
      this.write(
        info,
        entity,
        timing,
        EventActionType.Update,
        timing === Pre ? updateGroup(event) : postUpdateGroup(event),
        event.queryRunner,
        false,
        event.databaseEntity,
      ),
    )
  }

  private deleteEvent(timing: EventActionTiming, event: RemoveEvent<ObjectLiteral>, soft: boolean): void | Promise<void> {
    const info = entityInfo(event.metadata)
    if (!info.active) {
      if (timing === Post && event.entity && event.databaseEntity) {
        collectChange(info, event.entity as ObjectLiteral, EventActionType.Delete, null, event.databaseEntity, event.queryRunner)
      }
      return
    }
    if (!this.isSavePath(info, event)) return
    const entity = event.entity as ObjectLiteral
    return runInOrder(event.queryRunner, () =>
      this.write(
        info,
        entity,
        timing,
        EventActionType.Delete,
        null,
        event.queryRunner,
        soft,
        // TypeORM clears the primary key on the instance before Post Delete; the database copy keeps it.
        event.databaseEntity,
      ),
    )
  }

  private recoverEvent(timing: EventActionTiming, event: RecoverEvent<ObjectLiteral>): void | Promise<void> {
    const info = entityInfo(event.metadata)
    if (!info.active) {
      if (timing === Post && event.entity && event.databaseEntity) {
        collectChange(info, event.entity as ObjectLiteral, EventActionType.Update, info.deleteDateGroup, event.databaseEntity, event.queryRunner)
      }
      return
    }
    if (!this.isSavePath(info, event)) return
    const entity = event.entity as ObjectLiteral
    return runInOrder(event.queryRunner, () =>
      this.write(
        info,
        entity,
        timing,
        EventActionType.Update,
        info.deleteDateGroup,
        event.queryRunner,
        false,
        event.databaseEntity,
      ),
    )
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

import type { DataSource, EntityManager, EntityMetadata, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm'
import { AttributeGroup } from './attribute-group'
import { auditChanges, writeAuditEntry } from './audit/audit-record'
import { Dispatcher, DISPATCHER } from './dispatcher'
import { entityInfo, type EntityInfo } from './entity-info'
import { lastStateOf, rememberState, rememberWritten, touch as touchAttributes } from './entity-state'
import { HardError } from './errors'
import { EventActionTiming } from './event-action-timing'
import { EventActionType } from './event-action-type'
import { checkRows, convertRawValue, describeValue, rowMappingOf } from './record-set'
import { collectChange } from './collect-change'
import { checkWhere } from './where-criteria'
import { writeColumns } from './write-columns'

const { Pre, Post } = EventActionTiming

/** Options of {@link EventActions.fromRecordSet}. */
export interface FromRecordSetOptions {
  /** Throw a `HardError` for a key that matches no column, instead of ignoring it. Defaults to `false`. */
  strict?: boolean
}

/** Options of {@link EventActions.setAutomatics}. */
export interface SetAutomaticsOptions {
  /** Set every automatic attribute, not only those still `undefined`. Defaults to `false`. */
  force?: boolean
}

/** An entity class that can be constructed without arguments, as the `EventActions` operations take it. */
export type EntityClass<E> = new () => E

const dispatchers = new WeakMap<DataSource, Dispatcher>()

function dispatcherOf(connection: DataSource): Dispatcher {
  let dispatcher = dispatchers.get(connection)
  if (!dispatcher) {
    const subscriber = connection.subscribers.find((s) => (s as unknown as Record<symbol, unknown>)[DISPATCHER] !== undefined)
    if (!subscriber) {
      throw new HardError('EventActions needs a DataSource with event actions: create it with withEventActions(options)')
    }
    dispatcher = (subscriber as unknown as Record<symbol, Dispatcher>)[DISPATCHER]!
    dispatchers.set(connection, dispatcher)
  }
  return dispatcher
}

/**
 * @internal Sets the `@Automatic` attributes of `entity` that are still
 * undefined (all with `force`), between Pre and Post SetAutomatics. Used by
 * `create`, `setAutomatics` and before Pre Insert.
 */
export async function applyAutomatics(
  dispatcher: Dispatcher,
  info: EntityInfo,
  entity: ObjectLiteral,
  manager: EntityManager,
  force: boolean,
): Promise<void> {
  const due = info.automatics.filter((a) => force || info.read(entity, a.attribute) === undefined)
  if (due.length === 0) return
  const group = new AttributeGroup(due.map((a) => a.attribute))
  await dispatcher.run(info, entity, Pre, EventActionType.SetAutomatics, group, manager, false, undefined)
  const ctx = dispatcher.contextFor(info, entity, Pre, EventActionType.SetAutomatics, group, manager)
  for (const a of due) info.write(entity, a.attribute, await a.fn(entity, ctx))
  await dispatcher.run(info, entity, Post, EventActionType.SetAutomatics, group, manager, false, undefined)
}

/** `{}` matches every row: as TypeORM's own update()/delete(), a bulk write must say which rows. */
function refuseEmptyCriteria(entityName: string, operation: string, where: object, verb: string): void {
  if (Object.keys(where).length > 0) return
  throw new HardError(
    `${operation}(${entityName}) got empty criteria {}, which would ${verb} every row. ` +
      `To ${verb} every row on purpose, load them with find() and save()/remove() them.`,
    { entityName },
  )
}

/**
 * The business-object operations: Create, Reset, BO2BO, RS2BO and
 * SetAutomatics events, a targeted `update`, and the supported bulk paths.
 * Every method is async and fires Pre and Post events; a `SoftError` or
 * `HardError` from a Pre handler stops the operation with the entity
 * unchanged. Inside a handler, `ctx.actions` is an instance bound to the
 * running transaction.
 *
 * @example
 * ```ts
 * const actions = new EventActions(dataSource)
 * const order = await actions.create(Order, { customer: 'Ada' }) // Pre Create, values, automatics, Post Create
 * await dataSource.getRepository(Order).save(order)
 * ```
 */
export class EventActions {
  private readonly manager: EntityManager

  /** `source`: a DataSource, or an EntityManager (e.g. a transaction's). */
  constructor(source: DataSource | EntityManager) {
    this.manager = 'createQueryRunner' in source ? source.manager : source
  }

  private get dispatcher(): Dispatcher {
    return dispatcherOf(this.manager.connection)
  }

  private infoOf(target: EntityTarget<ObjectLiteral> | ObjectLiteral, where: string): { info: EntityInfo; metadata: EntityMetadata } {
    let metadata: EntityMetadata
    try {
      metadata = this.manager.connection.getMetadata(typeof target === 'function' ? target : (target as ObjectLiteral).constructor)
    } catch (error) {
      const name = typeof target === 'function' ? target.name : (target as ObjectLiteral)?.constructor?.name
      throw new HardError(`${where}: ${String(name)} is not an entity of this DataSource`, { cause: error })
    }
    return { info: entityInfo(metadata), metadata }
  }

  private checkAttributes(info: EntityInfo, attrs: readonly string[], where: string): void {
    if (!Array.isArray(attrs)) throw new HardError(`${where}: attributes must be a list of names, got ${JSON.stringify(attrs)}`, { entityName: info.name })
    for (const attr of attrs) {
      if (typeof attr !== 'string' || !info.attributes.has(attr)) throw HardError.unknownAttribute(info.name, String(attr), where)
    }
  }

  private checkInstance(info: EntityInfo, entity: unknown, where: string): asserts entity is ObjectLiteral {
    if (!info.isInstance(entity)) {
      throw new HardError(`${where} needs a ${info.name} instance, got ${entity === null ? 'null' : typeof entity}`, { entityName: info.name })
    }
  }

  /** Runs `work` in a transaction: the given manager's, or a new one. */
  private inTransaction<T>(work: (actions: EventActions) => Promise<T>): Promise<T> {
    if (this.manager.queryRunner?.isTransactionActive) return work(this)
    return this.manager.transaction((manager) => work(new EventActions(manager)))
  }

  /**
   * A new instance: Pre Create sees it empty, then `values` are applied, then
   * automatic attributes (SetAutomatics), then Post Create. Not saved.
   */
  async create<E extends ObjectLiteral>(entity: EntityClass<E>, values?: Partial<E>): Promise<E> {
    const { info, metadata } = this.infoOf(entity, 'create')
    if (values !== undefined && (values === null || typeof values !== 'object')) {
      throw new HardError(`create(${info.name}) needs an object of values, got ${JSON.stringify(values)}`, { entityName: info.name })
    }
    if (values) this.checkAttributes(info, Object.keys(values), `create(${info.name})`)
    const instance = metadata.create() as E
    await this.dispatcher.run(info, instance, Pre, EventActionType.Create, null, this.manager, false, undefined)
    if (values) this.manager.merge(metadata.target as EntityClass<E>, instance, values as never)
    await applyAutomatics(this.dispatcher, info, instance, this.manager, false)
    await this.dispatcher.run(info, instance, Post, EventActionType.Create, null, this.manager, false, undefined)
    rememberState(info, instance)
    return instance
  }

  /**
   * Sets each `@Automatic` attribute that is still `undefined` (all of them
   * with `force`), between Pre and Post SetAutomatics. No events when none is due.
   */
  async setAutomatics<E extends ObjectLiteral>(entity: E, options: SetAutomaticsOptions = {}): Promise<E> {
    const { info } = this.infoOf(entity, 'setAutomatics')
    this.checkInstance(info, entity, 'setAutomatics')
    await applyAutomatics(this.dispatcher, info, entity, this.manager, options.force === true)
    return entity
  }

  /**
   * Reverts attributes to the last loaded or saved state (a never-saved
   * entity: its state right after `create`). Default: every attribute that
   * differs from it. Fires Reset with those attributes as the group.
   */
  async reset<E extends ObjectLiteral>(entity: E, attrs?: (keyof E & string)[]): Promise<E> {
    const { info } = this.infoOf(entity, 'reset')
    this.checkInstance(info, entity, 'reset')
    if (attrs) this.checkAttributes(info, attrs, `reset(${info.name})`)
    const state = lastStateOf(entity)
    if (!state) {
      throw new HardError(`reset(${info.name}): the instance was never loaded, saved or made by EventActions.create, so it has no state to go back to`, {
        entityName: info.name,
      })
    }
    const names = attrs ?? info.changedSince(entity, state)
    if (names.length === 0) return entity
    const group = new AttributeGroup(names)
    const before = { ...entity }
    await this.dispatcher.run(info, entity, Pre, EventActionType.Reset, group, this.manager, false, before)
    for (const attr of group) info.write(entity, attr, info.snapshotValue(state, attr))
    await this.dispatcher.run(info, entity, Post, EventActionType.Reset, group, this.manager, false, before)
    return entity
  }

  /**
   * Copies attributes from `source` to `target` (BO2BO, fired on the target,
   * `ctx.source` = the source). Default: every stored column and relation
   * but primary keys, generated and `@Automatic` ones. A Pre handler may veto.
   */
  async copy<S extends ObjectLiteral, T extends ObjectLiteral>(source: S, target: T, attrs?: (keyof T & string)[]): Promise<T> {
    const { info } = this.infoOf(target, 'copy')
    this.checkInstance(info, target, 'copy')
    if (source === null || typeof source !== 'object') throw new HardError(`copy to ${info.name} needs a source object, got ${String(source)}`, { entityName: info.name })
    if (attrs) {
      this.checkAttributes(info, attrs, `copy(${info.name})`)
      const { info: sourceInfo } = this.infoOf(source, 'copy')
      for (const attr of attrs) if (!sourceInfo.attributes.has(attr)) throw HardError.unknownAttribute(sourceInfo.name, attr, `copy to ${info.name}`)
    }
    const sourceAttributes = attrs ? undefined : this.infoOf(source, 'copy').info.attributes
    const names = attrs ?? info.copyable.filter((a) => sourceAttributes!.has(a))
    const group = new AttributeGroup(names)
    const before = { ...target }
    await this.dispatcher.run(info, target, Pre, EventActionType.BO2BO, group, this.manager, false, before, source)
    for (const attr of group) info.write(target, attr, copyValue(info.read(source, attr)))
    await this.dispatcher.run(info, target, Post, EventActionType.BO2BO, group, this.manager, false, before, source)
    return target
  }

  /**
   * Instances built from raw rows (`manager.query()` or `getRawMany()`
   * results), firing RS2BO per row: Pre on the empty instance with
   * `ctx.source` = the row, Post after the values are in. Keys may be property
   * names, column names or `alias_column` names; values go through the
   * column's type and transformers. Unknown keys are ignored unless `strict`;
   * a value that cannot be converted throws a `HardError` naming row, column and value.
   */
  async fromRecordSet<E extends ObjectLiteral>(entity: EntityClass<E>, rows: readonly ObjectLiteral[], options: FromRecordSetOptions = {}): Promise<E[]> {
    const { info, metadata } = this.infoOf(entity, 'fromRecordSet')
    checkRows(info.name, rows)
    const mapping = rowMappingOf(metadata)
    const connection = this.manager.connection
    const result: E[] = []
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      const keys = Object.keys(row)
      const resolved = mapping.resolve(keys)
      if (options.strict && resolved.length < keys.length) {
        const used = new Set(resolved.map((r) => r.key))
        const unknown = keys.filter((k) => !used.has(k))
        throw new HardError(`fromRecordSet(${info.name}) row ${i}: key '${unknown[0]}' matches no column of ${info.name}`, { entityName: info.name })
      }
      const values: [string, unknown][] = []
      for (const { key, column } of resolved) {
        const converted = convertRawValue(connection, info.name, column, row[key], i, key)
        if (converted !== undefined) values.push([column.propertyPath, converted])
      }
      const group = new AttributeGroup(values.map(([path]) => path))
      const instance = metadata.create() as E
      await this.dispatcher.run(info, instance, Pre, EventActionType.RS2BO, group, this.manager, false, undefined, row)
      for (const [path, value] of values) info.write(instance, path, value)
      await this.dispatcher.run(info, instance, Post, EventActionType.RS2BO, group, this.manager, false, undefined, row)
      rememberState(info, instance)
      result.push(instance)
    }
    return result
  }

  /**
   * Writes exactly `attrs` of a persisted entity (one targeted UPDATE), even
   * if unchanged, firing Update with `attrs` as the group: the CaseMaster
   * `bo.update(me, 'quantity')`. The robust way for a handler to update
   * another entity (say a line's order) inside a cascading save.
   */
  async update<E extends ObjectLiteral>(entity: E, attrs: (keyof E & string)[]): Promise<E> {
    const { info, metadata } = this.infoOf(entity, 'update')
    this.checkInstance(info, entity, 'update')
    this.checkAttributes(info, attrs, `update(${info.name})`)
    if (attrs.length === 0) throw new HardError(`update(${info.name}) needs at least one attribute`, { entityName: info.name })
    // A null key counts as missing too: TypeORM 0.3 would drop it from the WHERE and read another row.
    for (const key of metadata.primaryColumns) {
      const value: unknown = key.getEntityValue(entity)
      if (value === undefined || value === null) {
        throw new HardError(`update(${info.name}) needs a persisted entity: its primary key '${key.propertyPath}' is ${String(value)}`, {
          entityName: info.name,
          attribute: key.propertyPath,
        })
      }
    }
    const id = metadata.getEntityIdMap(entity)!
    return this.inTransaction(async (actions) => {
      const manager = actions.manager
      const group = new AttributeGroup(attrs)
      const dispatcher = actions.dispatcher
      // The old values, read in the transaction (for ctx.previous and the audit), without Load events.
      const previous = await manager
        .createQueryBuilder(metadata.target as EntityClass<E>, 'e')
        .setFindOptions({
          where: id as FindOptionsWhere<E>,
          withDeleted: true,
          // Only relations stored in this row have an old value here; others would cost a query each.
          loadRelationIds: { relations: metadata.relationsWithJoinColumns.map((r) => r.propertyPath), disableMixedMap: true },
        })
        .callListeners(false)
        .getOne()
      if (!previous) throw new HardError(`update(${info.name}): no row with ${JSON.stringify(id)}`, { entityName: info.name })
      await dispatcher.run(info, entity, Pre, EventActionType.Update, group, manager, false, previous)
      await writeColumns(manager, info, entity, group)
      const changes = auditChanges(info, entity, EventActionType.Update, group, previous)
      if (info.audit) await writeAuditEntry(manager, info, entity, 'update', changes, previous, entity)
      // The subscriber never sees this UPDATE (listeners are off): hand it to the running action's Post-action handlers here.
      collectChange(info, entity, EventActionType.Update, group, previous, manager.queryRunner!, changes)
      await dispatcher.run(info, entity, Post, EventActionType.Update, group, manager, false, previous)
      // Only `attrs` were written: other unsaved changes stay unsaved, and reset() still sees them.
      rememberWritten(info, entity, group, previous)
      return entity
    })
  }

  /**
   * `bo.exists`: whether a row matches `where` (TypeORM `FindOptionsWhere`).
   * Values are bound as parameters, so a string can never change the SQL. A
   * value that is `undefined`, `null` (use `IsNull()`) or not of its column's
   * type throws a `HardError` naming entity, attribute and value: databases
   * would match such values differently (see `checkWhere`).
   */
  async exists<E extends ObjectLiteral>(entity: EntityClass<E>, where: FindOptionsWhere<E> | FindOptionsWhere<E>[]): Promise<boolean> {
    const { info, metadata } = this.infoOf(entity, 'exists')
    checkWhere(metadata, where, `exists(${info.name})`)
    return this.manager.exists(entity, { where })
  }

  /**
   * Marks attributes as touched: the next Insert/Update of the entity has
   * them in its group and writes them even if unchanged. (TypeORM does
   * nothing at all when no value changed: to write an unchanged entity, use
   * {@link update}.)
   */
  async touch<E extends ObjectLiteral>(entity: E, ...attrs: (keyof E & string)[]): Promise<void> {
    const { info } = this.infoOf(entity, 'touch')
    this.checkInstance(info, entity, 'touch')
    this.checkAttributes(info, attrs, `touch(${info.name})`)
    touchAttributes(entity, attrs)
  }

  /**
   * The supported bulk update: loads the matching rows in a transaction,
   * applies `values` and saves each, so every row fires Update (and is
   * validated and audited). Returns the number of rows matched. `where` is
   * checked like {@link exists}'s.
   */
  async updateWhere<E extends ObjectLiteral>(entity: EntityClass<E>, where: FindOptionsWhere<E>, values: Partial<E>): Promise<number> {
    const { info, metadata } = this.infoOf(entity, 'updateWhere')
    if (Array.isArray(where)) throw new HardError(`updateWhere(${info.name}) needs one where object, got a list`, { entityName: info.name })
    checkWhere(metadata, where, `updateWhere(${info.name})`)
    refuseEmptyCriteria(info.name, 'updateWhere', where, 'change')
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new HardError(`updateWhere(${info.name}) needs an object of values, got ${describeValue(values)}`, { entityName: info.name })
    }
    this.checkAttributes(info, Object.keys(values), `updateWhere(${info.name})`)
    return this.inTransaction(async ({ manager }) => {
      const rows = await manager.find(entity, { where })
      for (const row of rows) {
        manager.merge(metadata.target as EntityClass<E>, row, values as never)
        await manager.save(row)
      }
      return rows.length
    })
  }

  /**
   * The supported bulk delete: loads the matching rows in a transaction and
   * removes them, so every row fires Delete. Returns the number of rows.
   * `where` is checked like {@link exists}'s.
   */
  async deleteWhere<E extends ObjectLiteral>(entity: EntityClass<E>, where: FindOptionsWhere<E>): Promise<number> {
    const { info, metadata } = this.infoOf(entity, 'deleteWhere')
    if (Array.isArray(where)) throw new HardError(`deleteWhere(${info.name}) needs one where object, got a list`, { entityName: info.name })
    checkWhere(metadata, where, `deleteWhere(${info.name})`)
    refuseEmptyCriteria(info.name, 'deleteWhere', where, 'delete')
    return this.inTransaction(async ({ manager }) => {
      const rows = await manager.find(entity, { where })
      // Row by row, like updateWhere: each row's Pre, DELETE and Post before the next row's.
      for (const row of rows) await manager.remove(row)
      return rows.length
    })
  }
}

/** A copied value must not share mutable state with the source (dates, JSON); related entities are shared. */
function copyValue(value: unknown): unknown {
  if (value instanceof Date) return new Date(value.getTime())
  if (Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
    return structuredClone(value)
  }
  return value
}

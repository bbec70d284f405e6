import type { DataSource, EntityManager, FindOptionsWhere, ObjectLiteral } from 'typeorm'
import { AttributeGroup } from '../basics/attribute-group'
import { auditChanges, writeAuditEntry } from '../transaction/audit-record'
import { dispatcherOf, type Dispatcher } from '../dispatch/dispatcher'
import { forgetState, rememberState, rememberWritten, touch as touchAttributes } from '../dispatch/entity-state'
import { resetStateOf, stampsOf } from './reset-state'
import type { EntityClass, FromRecordSetOptions, SetAutomaticsOptions } from './operation-options'
import { HardError } from '../basics/errors'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import { checkRows, convertRawValue, rowMappingOf } from './record-set'
import { describeKey, describeValue } from '../basics/describe-value'
import { collectChange } from '../transaction/collect-change'
import { checkWhere, refuseEmptyCriteria } from './where-criteria'
import { checkAttributes, checkInstance, checkPersisted, subjectOf } from './operation-subject'
import { writeColumns } from '../typeorm/write-columns'
import { applyAutomatics } from '../dispatch/apply-automatics'
import { copyValue } from './copy-value'

const { Pre, Post } = EventActionTiming

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
    const { info, metadata } = subjectOf(this.manager, entity, 'create')
    if (values !== undefined && (values === null || typeof values !== 'object')) {
      throw new HardError(`create(${info.name}) needs an object of values, got ${JSON.stringify(values)}`, { entityName: info.name })
    }
    if (values) checkAttributes(info, Object.keys(values), `create(${info.name})`)
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
    const { info } = subjectOf(this.manager, entity, 'setAutomatics')
    checkInstance(info, entity, 'setAutomatics')
    await applyAutomatics(this.dispatcher, info, entity, this.manager, options.force === true)
    return entity
  }

  /**
   * Reverts attributes to the last saved state: the row as the database holds
   * it (read by primary key), or, for entities with `resetState: 'snapshot'`,
   * the state this instance was loaded or saved with (a never-saved entity:
   * its state right after `create`). Default: every attribute that differs
   * from it. Fires Reset with those attributes as the group.
   */
  async reset<E extends ObjectLiteral>(entity: E, attrs?: (keyof E & string)[]): Promise<E> {
    const { info } = subjectOf(this.manager, entity, 'reset')
    checkInstance(info, entity, 'reset')
    if (attrs) checkAttributes(info, attrs, `reset(${info.name})`)
    const state = await resetStateOf(this.manager, info, entity)
    if (!state) {
      throw new HardError(`reset(${info.name}): the instance has no row in the database and was not made by EventActions.create, so it has no state to go back to`, {
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
    const { info } = subjectOf(this.manager, target, 'copy')
    checkInstance(info, target, 'copy')
    if (source === null || typeof source !== 'object') throw new HardError(`copy to ${info.name} needs a source object, got ${String(source)}`, { entityName: info.name })
    if (attrs) {
      checkAttributes(info, attrs, `copy(${info.name})`)
      const { info: sourceInfo } = subjectOf(this.manager, source, 'copy')
      for (const attr of attrs) if (!sourceInfo.attributes.has(attr)) throw HardError.unknownAttribute(sourceInfo.name, attr, `copy to ${info.name}`)
    }
    const sourceAttributes = attrs ? undefined : subjectOf(this.manager, source, 'copy').info.attributes
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
    const { info, metadata } = subjectOf(this.manager, entity, 'fromRecordSet')
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
        throw new HardError(`fromRecordSet(${info.name}) row ${i}: key '${describeKey(unknown[0]!)}' matches no column of ${info.name}`, { entityName: info.name })
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
    const { info, metadata } = subjectOf(this.manager, entity, 'update')
    checkInstance(info, entity, 'update')
    checkAttributes(info, attrs, `update(${info.name})`)
    if (attrs.length === 0) throw new HardError(`update(${info.name}) needs at least one attribute`, { entityName: info.name })
    checkPersisted(info, entity, `update(${info.name})`)
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
      // Only `attrs` (and the update date and version the UPDATE set) were written: other unsaved changes stay unsaved, and reset() sees them.
      if (info.keepsState) rememberWritten(info, entity, [...group, ...stampsOf(info)], previous)
      else forgetState(entity)
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
    const { info, metadata } = subjectOf(this.manager, entity, 'exists')
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
    const { info } = subjectOf(this.manager, entity, 'touch')
    checkInstance(info, entity, 'touch')
    checkAttributes(info, attrs, `touch(${info.name})`)
    touchAttributes(entity, attrs)
  }

  /**
   * The supported bulk update: loads the matching rows in a transaction,
   * applies `values` and saves each, so every row fires Update (and is
   * validated and audited). Returns the number of rows matched. `where` is
   * checked like {@link exists}'s.
   */
  async updateWhere<E extends ObjectLiteral>(entity: EntityClass<E>, where: FindOptionsWhere<E>, values: Partial<E>): Promise<number> {
    const { info, metadata } = subjectOf(this.manager, entity, 'updateWhere')
    if (Array.isArray(where)) throw new HardError(`updateWhere(${info.name}) needs one where object, got a list`, { entityName: info.name })
    checkWhere(metadata, where, `updateWhere(${info.name})`)
    refuseEmptyCriteria(info.name, 'updateWhere', where, 'change')
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new HardError(`updateWhere(${info.name}) needs an object of values, got ${describeValue(values)}`, { entityName: info.name })
    }
    checkAttributes(info, Object.keys(values), `updateWhere(${info.name})`)
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
    const { info, metadata } = subjectOf(this.manager, entity, 'deleteWhere')
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

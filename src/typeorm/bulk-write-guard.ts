import { DeleteQueryBuilder, InsertQueryBuilder, UpdateQueryBuilder, type DataSource, type EntityMetadata } from 'typeorm'
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder'
import { BulkWriteError } from '../basics/errors'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { removeWithEvents } from './bulk-delete'
import { bulkModeOf, bulkSettingsOf } from './bulk-mode'
import { updateWithEvents } from './bulk-update'
import { insertOrIgnoreWithEvents } from './bulk-insert-or-ignore'
import { upsertWithEvents } from './bulk-upsert'
import { isInternalLoad } from './internal-work'
import { usesEventActionsOn } from './our-subscriber'
import { patchMethod } from './patch-method'
import { instancesFor } from './plain-objects'
import type { WriteBuilder } from './write-builder'

type Execute = (this: WriteBuilder) => Promise<unknown>

/** The entity a write is guarded for and how, or undefined when it may go through untouched. */
function guardedEntity(builder: WriteBuilder): { info: EntityInfo; mode: 'events' | 'forbid' } | undefined {
  const map = builder.expressionMap
  const alias = map.mainAlias
  if (!map.callListeners || !alias || isInternalLoad()) return undefined
  const metadata = alias.hasMetadata ? alias.metadata : tableEntity(builder.connection, alias.tablePath)
  if (!metadata) return undefined
  const info = entityInfo(metadata)
  const mode = bulkModeOf(builder.connection, info)
  return mode === 'none' ? undefined : { info, mode }
}

/**
 * The entity behind a table named in a QueryBuilder write by a string TypeORM
 * does not resolve (`'public.item'`, `'main.item'`, `'shop.item'`): the last
 * part, unquoted, against the entities' table names; a schema or database
 * part, when the entity declares one, must match it.
 */
function tableEntity(connection: DataSource, tablePath: string | undefined): EntityMetadata | undefined {
  if (!tablePath) return undefined
  const parts = tablePath.split('.').map((part) => part.replace(/^["`[]|["`\]]$/g, ''))
  const table = parts.pop()!
  return connection.entityMetadatas.find(
    (m) =>
      m.tableName === table &&
      (parts.length === 0 || m.schema === undefined || parts.includes(m.schema)) &&
      (parts.length < 2 || m.database === undefined || parts.includes(m.database)),
  )
}

/**
 * A write of a many-to-many junction table with listeners on comes from
 * `relation(Owner, 'tags').of(owner).add/remove/set/addAndRemove`: it changes
 * the owner's relation with no instance and no event. Refused when either
 * side has event actions (TypeORM's own junction writes in save() have
 * listeners off).
 */
function junctionWrite(builder: WriteBuilder): BulkWriteError | undefined {
  const map = builder.expressionMap
  const junction = map.mainAlias?.hasMetadata ? map.mainAlias.metadata : undefined
  if (!map.callListeners || !junction?.isJunction || isInternalLoad()) return undefined
  for (const columns of [junction.ownerColumns, junction.inverseColumns]) {
    const side = columns[0]?.referencedColumn?.entityMetadata
    if (!side) continue
    const info = entityInfo(side)
    if (!info.active || info.bulkWritesAllowed || !usesEventActionsOn(builder.connection)) continue
    const relation = side.manyToManyRelations.find((r) => r.junctionEntityMetadata === junction)
    const name = relation ? `relation(${info.name}, '${relation.propertyPath}')` : `the junction table ${junction.tableName}`
    return new BulkWriteError(
      info.name,
      `${name}.add()/remove()/set()`,
      `It changes the junction table with no ${info.name} instance and no event. ` +
        `Assign the relation on a loaded instance and save() it: that fires its Update with '${relation?.propertyPath ?? 'the relation'}' in the group.`,
    )
  }
  return undefined
}

/** What a guard decides: a promise of the write with events, or undefined to run TypeORM's own execute(); a refusal throws. */
type Route = (builder: WriteBuilder, info: EntityInfo, mode: 'events' | 'forbid', original: Execute) => Promise<unknown> | undefined

function guardExecute(cls: { prototype: object }, route: Route): void {
  patchMethod<Execute>(cls.prototype, 'execute', (original) =>
    function (this: WriteBuilder) {
      let guarded: ReturnType<typeof guardedEntity>
      try {
        const junctionError = junctionWrite(this)
        if (junctionError) return Promise.reject(junctionError)
        guarded = guardedEntity(this)
      } catch (error) {
        // An entity whose declarations are wrong fails here first: as a rejection, like every other failure of execute().
        return Promise.reject(error)
      }
      if (!guarded) return original.call(this)
      // A call TypeORM refuses by itself (no values, LIMIT where unsupported, an unknown property, empty criteria) gets TypeORM's error.
      try {
        this.getQuery()
      } catch (own) {
        return Promise.reject(own)
      }
      let routed: Promise<unknown> | undefined
      try {
        routed = route(this, guarded.info, guarded.mode, original)
      } catch (error) {
        return Promise.reject(error)
      }
      return routed ?? original.call(this)
    },
  )
}

const mainMetadata = (builder: WriteBuilder): EntityMetadata => builder.expressionMap.mainAlias!.metadata

/**
 * @internal Wraps the execute() of the four write QueryBuilders. TypeORM's
 * set-based writes (`update(criteria, values)`, `increment()`,
 * `delete(criteria)`, `softDelete()`/`restore()`, upserts, inserts of plain
 * objects, QueryBuilder writes) reach subscribers without instances; for an
 * entity with event actions they run with events instead (bulk-update.ts,
 * bulk-delete.ts, bulk-upsert.ts), or are refused before any SQL runs where
 * the entity or the DataSource says `bulkWrites: 'forbid'`. An insert() of
 * instances is made transactional, because TypeORM runs it (Pre handlers,
 * INSERT, Post handlers) outside any transaction. save()/remove() are not
 * affected: their internal query builders have listeners switched off.
 */
export function guardBulkWrites(): void {
  guardExecute(InsertQueryBuilder, (builder, info, mode, original) => {
    const map = builder.expressionMap
    // An upsert may update an existing row: an Insert event would misreport it.
    if (map.onUpdate || map.onIgnore || map.onConflict) {
      if (mode === 'forbid') throw BulkWriteError.bulk(info.name, 'upsert() / QueryBuilder orUpdate()/orIgnore()')
      if (!map.mainAlias!.hasMetadata) throw BulkWriteError.bulk(info.name, 'an upsert into a table named by a string')
      return map.onIgnore && !map.onUpdate && !map.onConflict ? insertOrIgnoreWithEvents(builder, info) : upsertWithEvents(builder, info)
    }
    const valueSets = builder.getValueSets!()
    const plain = valueSets.some((valueSet) => !info.isInstance(valueSet))
    if (plain && (mode === 'forbid' || !map.mainAlias!.hasMetadata)) throw BulkWriteError.plainObject(info.name, 'insert() of a plain object')
    map.useTransaction = true
    const instances = plain ? instancesFor(builder.connection, mainMetadata(builder), info, valueSets) : undefined
    if (!instances) return undefined
    map.valuesSet = Array.isArray(map.valuesSet) ? instances.list : instances.list[0]
    return original.call(builder).then((result) => {
      instances.copyBack()
      return result
    })
  })
  guardExecute(UpdateQueryBuilder, (builder, info, mode) =>
    updateWithEvents(builder, batchSizeFor(builder, info, mode, 'update(criteria, values) / QueryBuilder update()')),
  )
  guardExecute(DeleteQueryBuilder, (builder, info, mode) =>
    removeWithEvents(builder, 'delete', batchSizeFor(builder, info, mode, 'delete(criteria) / QueryBuilder delete()')),
  )
  guardExecute(SoftDeleteQueryBuilder, (builder, info, mode) => {
    const batchSize = batchSizeFor(builder, info, mode, 'softDelete()/restore(criteria) / QueryBuilder softDelete()/restore()')
    return removeWithEvents(builder, builder.expressionMap.queryType === 'restore' ? 'restore' : 'soft-delete', batchSize)
  })
}

/**
 * The batch size an UPDATE/DELETE with events runs in, once it is known to
 * run with events: refused where the entity or DataSource forbids bulk
 * writes, where the table is named by a string, and with RETURNING (the
 * database's raw rows; a write with events runs other statements).
 */
function batchSizeFor(builder: WriteBuilder, info: EntityInfo, mode: 'events' | 'forbid', operation: string): number {
  if (mode === 'forbid' || !builder.expressionMap.mainAlias!.hasMetadata) throw BulkWriteError.bulk(info.name, operation)
  const returning = builder.expressionMap.returning
  if (returning !== undefined && !(Array.isArray(returning) && returning.length === 0)) throw returningRefused(info, operation)
  return bulkSettingsOf(builder.connection).bulkBatchSize
}

function returningRefused(info: EntityInfo, operation: string): BulkWriteError {
  return new BulkWriteError(
    info.name,
    `${operation} with returning()`,
    'A write with events runs its own statements, so there are no RETURNING rows to hand back; the UpdateResult/DeleteResult counts the rows. ' +
      'Read the rows afterwards, or write without events.',
  )
}

import { DeleteQueryBuilder, InsertQueryBuilder, UpdateQueryBuilder, type DataSource, type EntityMetadata, type ObjectLiteral } from 'typeorm'
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder'
import { BulkWriteError } from '../basics/errors'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { isInternalLoad } from './internal-work'
import { usesEventActionsOn } from './our-subscriber'
import { patchMethod } from './patch-method'

/** The parts of a QueryBuilder the guards read; all exist on 0.3.20+ and 1.x. */
interface WriteBuilder {
  connection: DataSource
  expressionMap: {
    onUpdate?: unknown
    onIgnore?: boolean
    callListeners: boolean
    useTransaction: boolean
    mainAlias?: { hasMetadata: boolean; metadata: EntityMetadata; tablePath?: string }
  }
  getValueSets?(): ObjectLiteral[]
  getQuery(): string
}

type Execute = (this: WriteBuilder) => Promise<unknown>

/** The entity a write is guarded for, or undefined when it may go through untouched. */
function guardedEntity(builder: WriteBuilder): EntityInfo | undefined {
  const map = builder.expressionMap
  const alias = map.mainAlias
  if (!map.callListeners || !alias || isInternalLoad()) return undefined
  const metadata = alias.hasMetadata ? alias.metadata : tableEntity(builder.connection, alias.tablePath)
  if (!metadata) return undefined
  const info = entityInfo(metadata)
  if (!info.active || info.bulkWritesAllowed) return undefined
  return usesEventActionsOn(builder.connection) ? info : undefined
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

function guardExecute(cls: { prototype: object }, guard: (builder: WriteBuilder, info: EntityInfo) => void): void {
  patchMethod<Execute>(cls.prototype, 'execute', (original) =>
    function (this: WriteBuilder) {
      const junctionError = junctionWrite(this)
      if (junctionError) return Promise.reject(junctionError)
      const info = guardedEntity(this)
      if (info) {
        try {
          guard(this, info)
        } catch (error) {
          // A call TypeORM refuses by itself (no values, LIMIT where unsupported, an unknown property) gets TypeORM's error.
          try {
            this.getQuery()
          } catch (own) {
            return Promise.reject(own)
          }
          return Promise.reject(error)
        }
      }
      return original.call(this)
    },
  )
}

/**
 * @internal Wraps the execute() of the four write QueryBuilders: TypeORM's
 * bulk writes (`update(criteria, values)`, `delete(criteria)`, QueryBuilder
 * writes, insert of plain objects, upserts) reach subscribers without
 * instances, so event actions cannot run for them; they are refused before
 * any SQL runs. An insert() of instances is allowed, and made transactional,
 * because TypeORM runs it (Pre handlers, INSERT, Post handlers) outside any
 * transaction. save()/remove() are not affected: their internal query
 * builders have listeners switched off.
 */
export function guardBulkWrites(): void {
  guardExecute(InsertQueryBuilder, (builder, info) => {
    // An upsert may update an existing row: it would fire Insert for an update.
    if (builder.expressionMap.onUpdate || builder.expressionMap.onIgnore) {
      throw BulkWriteError.bulk(info.name, 'upsert() / QueryBuilder orUpdate()/orIgnore()')
    }
    for (const valueSet of builder.getValueSets!()) {
      if (!info.isInstance(valueSet)) throw BulkWriteError.plainObject(info.name, 'insert() of a plain object')
    }
    builder.expressionMap.useTransaction = true
  })
  guardExecute(UpdateQueryBuilder, (_builder, info) => {
    throw BulkWriteError.bulk(info.name, 'update(criteria, values) / QueryBuilder update()')
  })
  guardExecute(DeleteQueryBuilder, (_builder, info) => {
    throw BulkWriteError.bulk(info.name, 'delete(criteria) / QueryBuilder delete()')
  })
  guardExecute(SoftDeleteQueryBuilder, (_builder, info) => {
    throw BulkWriteError.bulk(info.name, 'softDelete()/restore(criteria) / QueryBuilder softDelete()/restore()')
  })
}

import type { EntityMetadata, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { DriverUtils } from 'typeorm/driver/DriverUtils'
import { asInternal } from './internal-work'
import { locksRows } from './row-locks'
import type { WriteBuilder } from './write-builder'

/** @internal A value of `set()` that the database computes (`qty: () => 'qty + 1'`): its SQL, read per row. */
export interface ComputedValue {
  readonly column: ColumnMetadata
  readonly sql: string
}

/** @internal One matching row: the instance events run on, and its database copy (`previous`). */
export interface MatchedRow {
  readonly entity: ObjectLiteral
  readonly previous: ObjectLiteral
  /** The computed values, by column, as this row's SELECT evaluated them. */
  readonly computed: ReadonlyMap<ColumnMetadata, unknown>
}

const NONE: ReadonlyMap<ColumnMetadata, unknown> = new Map()

/** @internal What to read besides the columns. */
export interface MatchOptions {
  readonly batchSize: number
  /** `live`: rows not soft-deleted (softDelete); `deleted`: soft-deleted ones (restore); `any`: all (update, delete). */
  readonly rows: 'any' | 'live' | 'deleted'
  readonly computed: readonly ComputedValue[]
  /** Relations whose foreign key goes into the copies (those a `set()` assigns). */
  readonly relations: readonly RelationMetadata[]
}

/**
 * @internal The rows a write QueryBuilder's WHERE matches, in batches ordered
 * by primary key (keyset: memory stays bounded however many match), each
 * batch locked FOR UPDATE where the database has row locks. Read as internal
 * work: reading them is part of the write, not a Load.
 *
 * The SELECT is built from the builder's own WHERE and parameters, so it
 * matches what TypeORM's UPDATE/DELETE would have: same conditions, same
 * column names. A builder with ORDER BY/LIMIT (MySQL's UPDATE ... LIMIT) is
 * read in one batch in its own order.
 */
export async function* matchingRows(builder: WriteBuilder, queryRunner: QueryRunner, options: MatchOptions): AsyncGenerator<MatchedRow[]> {
  const metadata = builder.expressionMap.mainAlias!.metadata
  const ordered = Object.keys(builder.expressionMap.orderBys).length > 0 || builder.expressionMap.limit !== undefined
  let after: unknown[] | undefined
  for (;;) {
    const select = selectFor(builder, queryRunner, metadata, options)
    if (ordered) {
      select.orderBy(builder.expressionMap.orderBys as Record<string, 'ASC' | 'DESC'>)
      if (builder.expressionMap.limit !== undefined) select.limit(builder.expressionMap.limit)
    } else {
      keyset(select, metadata, after, options.batchSize)
    }
    const { entities, raw } = await asInternal(() => select.getRawAndEntities())
    if (entities.length === 0) return
    const rows = entities.map((entity, i) => matched(metadata, entity, raw[i] as ObjectLiteral, options))
    // Read before the batch is written: a delete clears the instances' keys, an update may change them.
    after = metadata.primaryColumns.map((c) => c.getEntityValue(rows[rows.length - 1]!.previous) as unknown)
    yield rows
    if (ordered || entities.length < options.batchSize) return
  }
}

/** A SELECT of the builder's rows: its WHERE, its parameters, every column (hidden ones too), locked where possible. */
function selectFor(builder: WriteBuilder, queryRunner: QueryRunner, metadata: EntityMetadata, options: MatchOptions): SelectQueryBuilder<ObjectLiteral> {
  const map = builder.expressionMap
  const alias = aliasOf(metadata)
  const select = queryRunner.manager.createQueryBuilder(metadata.target, alias).callListeners(false)
  // Conditions of UPDATE/DELETE builders name columns without an alias prefix; so does this SELECT.
  select.expressionMap.aliasNamePrefixingEnabled = false
  if (map.wheres.length) {
    select.expressionMap.wheres = [{ type: 'simple', condition: { operator: 'brackets', condition: map.wheres } }] as typeof select.expressionMap.wheres
  }
  select.setParameters(builder.getParameters())
  // TypeORM 0.3 keeps driver-native parameters apart (1.x has none).
  const native = (select.expressionMap as { nativeParameters?: ObjectLiteral }).nativeParameters
  if (native && map.nativeParameters) Object.assign(native, map.nativeParameters)
  select.withDeleted()
  const deleteDate = metadata.deleteDateColumn && select.connection.driver.escape(metadata.deleteDateColumn.databaseName)
  if (options.rows === 'live' && deleteDate) select.andWhere(`${deleteDate} IS NULL`)
  if (options.rows === 'deleted' && deleteDate) select.andWhere(`${deleteDate} IS NOT NULL`)
  const hidden = metadata.columns.filter((c) => !c.isSelect && !c.isVirtual)
  if (hidden.length) select.addSelect(hidden.map((c) => `${alias}.${c.propertyPath}`))
  options.computed.forEach((value, i) => select.addSelect(`(${value.sql})`, `eva_computed_${i}`))
  if (locksRows(select.connection)) select.setLock('pessimistic_write')
  return select
}

/** The next batch after `after` (the last primary key read), ordered by primary key. */
function keyset(select: SelectQueryBuilder<ObjectLiteral>, metadata: EntityMetadata, after: unknown[] | undefined, size: number): void {
  const escape = (name: string) => select.connection.driver.escape(name)
  const columns = metadata.primaryColumns.map((c) => escape(c.databaseName))
  if (after) {
    const names = after.map((value, i) => {
      select.setParameter(`eva_after_${i}`, value)
      return `:eva_after_${i}`
    })
    const tuple = (list: string[]) => (list.length === 1 ? list[0]! : `(${list.join(', ')})`)
    select.andWhere(`${tuple(columns)} > ${tuple(names)}`)
  }
  for (const column of columns) select.addOrderBy(column, 'ASC')
  if (Number.isFinite(size)) select.limit(size)
}

/** The row's database copy: its own objects (embedded, JSON, dates), so that a handler changing the instance leaves it as read. */
function matched(metadata: EntityMetadata, entity: ObjectLiteral, raw: ObjectLiteral, options: MatchOptions): MatchedRow {
  const previous = Object.create(Object.getPrototypeOf(entity) as object) as ObjectLiteral
  for (const column of metadata.columns) {
    if (column.relationMetadata && column.propertyName === column.relationMetadata.propertyName) continue
    const value: unknown = column.getEntityValue(entity)
    if (value !== undefined) column.setEntityValue(previous, copyOf(value))
  }
  for (const relation of options.relations) {
    const ids = relation.joinColumns.map((c) => raw[rawKey(metadata, c)] as unknown)
    const value = ids.every((id) => id === null || id === undefined)
      ? null
      : Object.fromEntries(relation.joinColumns.map((c, i) => [c.referencedColumn!.propertyName, ids[i]]))
    relation.setEntityValue(previous, value)
  }
  const driver = metadata.connection.driver
  const computed = options.computed.length
    ? new Map(options.computed.map((value, i) => [value.column, driver.prepareHydratedValue(raw[`eva_computed_${i}`], value.column) as unknown]))
    : NONE
  return { entity, previous, computed }
}

/** Where TypeORM puts a column in a raw row of this SELECT (`alias_column`; drivers may shorten long aliases). */
function rawKey(metadata: EntityMetadata, column: ColumnMetadata): string {
  return DriverUtils.buildAlias(metadata.connection.driver, undefined, aliasOf(metadata), column.databaseName)
}

/** The table's own name as alias: a condition written for the UPDATE (`item.qty`, or bare `qty`) reads the same here. */
function aliasOf(metadata: EntityMetadata): string {
  return metadata.tableName.replace(/\W/g, '_')
}

// JSON values (plain objects, arrays) and dates are copied; class instances (a transformer's) are shared, as they are immutable in practice.
function copyOf(value: unknown): unknown {
  if (value instanceof Date) return new Date(value.getTime())
  if (Array.isArray(value) || (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)) {
    return structuredClone(value)
  }
  return value
}

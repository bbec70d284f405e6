import { UpdateResult, type EntityMetadata, type ObjectLiteral, type QueryRunner } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { inBulkTransaction } from './bulk-transaction'
import { matchingRows, type ComputedValue, type MatchedRow } from './matching-rows'
import { byPrimaryKey } from './by-primary-key'
import { broadcastWrite, dispatchRows, type EventRow } from './row-events'
import { rereadColumns } from './reread-columns'
import { flushAuditsOfLevel } from '../transaction/transaction-state'
import { transactionDepthOf } from './transaction-depth'
import { markWrittenColumns } from './write-groups'
import { writtenColumns } from './written-columns'
import type { WriteBuilder } from './write-builder'
import { setPath } from './write-columns'

/** One attribute a `set()` assigns: a value, or SQL the database computes. */
interface Assignment {
  readonly column?: ColumnMetadata
  readonly relation?: RelationMetadata
  readonly value: unknown
  /** For SQL values: the function TypeORM's set() was given, written as it is where the row keeps its computed value. */
  readonly sql?: () => string
}

/** What a `set()` does, read once per call. */
interface SetPlan {
  readonly assignments: readonly Assignment[]
  readonly computed: readonly ComputedValue[]
  /** True when it assigns a primary column: the rows cannot be read in keyset batches. */
  readonly touchesPrimary: boolean
}

type ChangedRow = MatchedRow & EventRow

/**
 * @internal `update(criteria, values)`, `increment()`/`decrement()` and
 * QueryBuilder `update().set().where()` with events: as if every matching
 * row had been loaded, the values assigned and the rows saved in one
 * transaction. Per batch: one SELECT (locked), Pre Update per row that
 * changes, one UPDATE per distinct final change, one SELECT of what the
 * database computed, Post Update per row.
 */
export async function updateWithEvents(builder: WriteBuilder, batchSize: number): Promise<UpdateResult> {
  const metadata = builder.expressionMap.mainAlias!.metadata
  const plan = planOf(metadata, (builder.expressionMap.valuesSet ?? {}) as ObjectLiteral)
  // whereEntity(e).updateEntity(true): as TypeORM does, e receives what the UPDATE set (version, update date, SQL values).
  const given = builder.expressionMap.updateEntity ? (builder.expressionMap.whereEntities ?? []) : []
  const affected = await inBulkTransaction(builder, async (queryRunner) => {
    await broadcastWrite(queryRunner, 'Before', 'Update', metadata, builder.expressionMap.valuesSet as ObjectLiteral)
    let written = 0
    const options = { batchSize: plan.touchesPrimary ? Infinity : batchSize, rows: 'any' as const, computed: plan.computed, relations: metadata.relationsWithJoinColumns }
    for await (const batch of matchingRows(builder, queryRunner, options)) {
      const rows = await updateBatch(queryRunner, metadata, plan, batch)
      if (given.length) giveBack(metadata, plan, rows, given)
      written += rows.length
    }
    await broadcastWrite(queryRunner, 'After', 'Update', metadata, builder.expressionMap.valuesSet as ObjectLiteral)
    return written
  })
  const result = new UpdateResult()
  result.raw = []
  result.affected = affected
  result.generatedMaps = []
  return result
}

/** Copies into the caller's entities what the database set on their rows. */
function giveBack(metadata: EntityMetadata, plan: SetPlan, rows: readonly ChangedRow[], given: readonly ObjectLiteral[]): void {
  const columns = [metadata.versionColumn, metadata.updateDateColumn, ...plan.computed.map((c) => c.column)].filter((c) => c !== undefined)
  for (const entity of given) {
    const row = rows.find((r) => metadata.compareEntities(r.previous, entity))
    if (row) for (const column of columns) column.setEntityValue(entity, column.getEntityValue(row.entity))
  }
}

async function updateBatch(queryRunner: QueryRunner, metadata: EntityMetadata, plan: SetPlan, batch: readonly MatchedRow[]): Promise<ChangedRow[]> {
  const changing: ChangedRow[] = []
  for (const row of batch) {
    for (const a of plan.assignments) {
      const value = a.sql ? row.computed.get(a.column!) : a.value
      // A relation is assigned, not merged into the loaded value (relation.setEntityValue merges objects).
      if (a.relation) assignRelation(row.entity, a.relation, value)
      else a.column!.setEntityValue(row.entity, value)
    }
    // A row the values leave as it is gets no event, as with save(). Only the assigned attributes can differ yet.
    const changed = row as ChangedRow
    if (changeOf(metadata, row, changed, assignedView(metadata, plan, row.entity))) changing.push(changed)
  }
  await dispatchRows(queryRunner, 'Before', 'Update', metadata, changing)
  // What the Pre handlers left: a row they set back to its stored values is not written, and gets no Post.
  const final = changing.filter((row) => changeOf(metadata, row, row))
  const statements = new Map<string, { values: ObjectLiteral; ids: ObjectLiteral[] }>()
  for (const row of final) {
    const { key, values } = writeOf(plan, row)
    const statement = statements.get(key) ?? { values, ids: [] }
    statement.ids.push(metadata.getEntityIdMap(row.previous)!)
    statements.set(key, statement)
  }
  for (const { values, ids } of statements.values()) {
    const update = queryRunner.manager.createQueryBuilder().update(metadata.target).set(values).updateEntity(false).callListeners(false)
    await byPrimaryKey(update, metadata, ids).execute()
  }
  // The UPDATE added 1 to the version of each row it wrote (locked since it was read); the rest the database computed is read back.
  const version = metadata.versionColumn
  if (version) for (const row of final) if (!row.columns!.includes(version)) version.setEntityValue(row.entity, Number(version.getEntityValue(row.previous)) + 1)
  await rereadColumns(queryRunner, metadata, final, [...plan.computed.map((c) => c.column), metadata.updateDateColumn])
  // Post's group is what was written: the columns found here, as TypeORM judged them.
  for (const row of final) markWrittenColumns(row.entity)
  await dispatchRows(queryRunner, 'After', 'Update', metadata, final)
  // The batch's audit entries are written now, inside the call's transaction: memory holds one batch at a time.
  await flushAuditsOfLevel(queryRunner, transactionDepthOf(queryRunner))
  return final
}

/**
 * Sets `into.columns`/`into.relations` to what the row's instance (or `view`
 * of it) changes against its copy, as TypeORM judges it; false when nothing.
 */
function changeOf(metadata: EntityMetadata, row: MatchedRow, into: EventRow, view: ObjectLiteral = row.entity): boolean {
  const columns = [...writtenColumns(metadata, view, row.previous)]
  const relations = metadata.relationsWithJoinColumns.filter((relation) => {
    const now: unknown = relation.getEntityValue(row.entity)
    return now !== undefined && !sameReference(relation, now, relation.getEntityValue(row.previous))
  })
  into.columns = columns
  into.relations = relations
  return columns.length > 0 || relations.length > 0
}

/** The instance's values of the assigned columns only: TypeORM's change detection then looks at nothing else. */
function assignedView(metadata: EntityMetadata, plan: SetPlan, entity: ObjectLiteral): ObjectLiteral {
  const view: ObjectLiteral = {}
  for (const a of plan.assignments) if (a.column) a.column.setEntityValue(view, a.column.getEntityValue(entity))
  return view
}

/** The SET of one row and a key shared by every row whose SET is the same (they are written by one UPDATE). */
function writeOf(plan: SetPlan, row: EventRow & MatchedRow): { key: string; values: ObjectLiteral } {
  const values: ObjectLiteral = {}
  const parts: string[] = []
  for (const column of row.columns!) {
    if (column.relationMetadata && column.propertyName === column.relationMetadata.propertyName) continue
    const value: unknown = column.getEntityValue(row.entity)
    const computed = plan.assignments.find((a) => a.sql && a.column === column)
    // The row keeps the value its SELECT computed: the UPDATE computes it again, under the row's lock, alike for every row.
    if (computed && sameValue(value, row.computed.get(column))) {
      setPath(values, column.propertyPath, computed.sql)
      parts.push(`${column.propertyPath}=sql`)
    } else {
      setPath(values, column.propertyPath, value)
      parts.push(`${column.propertyPath}=${valueKey(value)}`)
    }
  }
  for (const relation of row.relations!) {
    const value: unknown = relation.getEntityValue(row.entity)
    setPath(values, relation.propertyPath, value)
    parts.push(`${relation.propertyPath}=${valueKey(value === null ? null : referenceOf(relation, value))}`)
  }
  return { key: parts.join('\u0000'), values }
}

/** What a set() assigns, with nested embedded objects flattened into columns. */
function planOf(metadata: EntityMetadata, valuesSet: ObjectLiteral): SetPlan {
  const assignments: Assignment[] = []
  const computed: ComputedValue[] = []
  const walk = (values: ObjectLiteral, prefix: string) => {
    for (const key of Object.keys(values)) {
      const path = prefix + key
      const value: unknown = values[key]
      const relation = metadata.findRelationWithPropertyPath(path)
      if (relation) {
        assignments.push({ relation, value })
        continue
      }
      if (metadata.findEmbeddedWithPropertyPath(path) && typeof value === 'object' && value !== null) {
        walk(value as ObjectLiteral, `${path}.`)
        continue
      }
      const column = metadata.findColumnWithPropertyPath(path)
      if (!column) continue // TypeORM refused it already (EntityPropertyNotFoundError) or ignores it, as it does
      if (typeof value === 'function') {
        const sql = value as () => string
        computed.push({ column, sql: sql() })
        assignments.push({ column, value: undefined, sql })
      } else {
        assignments.push({ column, value })
      }
    }
  }
  walk(valuesSet, '')
  const touchesPrimary = assignments.some((a) => a.column?.isPrimary || a.relation?.joinColumns.some((c) => c.isPrimary))
  return { assignments, computed, touchesPrimary }
}

function assignRelation(entity: ObjectLiteral, relation: RelationMetadata, value: unknown): void {
  if (relation.embeddedMetadata) relation.setEntityValue(entity, value)
  else entity[relation.propertyName] = value
}

function referenceOf(relation: RelationMetadata, value: unknown): unknown[] {
  if (typeof value !== 'object' || value === null) return [value]
  return relation.joinColumns.map((c) => c.referencedColumn!.getEntityValue(value as ObjectLiteral) as unknown)
}

/** Two values of a many-to-one/one-to-one owner relation point at the same row (ids compared as text: drivers differ on bigint). */
function sameReference(relation: RelationMetadata, a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null)
  return referenceOf(relation, a).map(String).join('\u0000') === referenceOf(relation, b).map(String).join('\u0000')
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  return a === b
}

let distinct = 0

/** Equal keys mean equal values; values that cannot be compared as text get a key of their own. */
function valueKey(value: unknown): string {
  if (value instanceof Date) return `d${value.getTime()}`
  if (Buffer.isBuffer(value)) return `b${value.toString('hex')}`
  if (Array.isArray(value) || (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)) {
    try {
      return `j${JSON.stringify(value)}`
    } catch {
      return `u${distinct++}`
    }
  }
  if (typeof value === 'object' && value !== null) return `u${distinct++}`
  return `${typeof value}:${String(value)}`
}

import { InsertResult, type EntityMetadata, type ObjectLiteral, type QueryRunner } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { BulkWriteError } from '../basics/errors'
import type { EntityInfo } from '../metadata/entity-info'
import { inBulkTransaction } from './bulk-transaction'
import { asInternal } from './internal-work'
import { copyColumns } from './plain-objects'
import { locksRows } from './row-locks'
import type { WriteBuilder } from './write-builder'
import { setPath } from './write-columns'

/**
 * @internal `upsert(objects, conflictPaths)` and QueryBuilder
 * `insert().values().orUpdate(columns, conflict)` with events: per object,
 * the row that matches its conflict columns is read under a lock inside the
 * transaction; a match is an Update of the overwritten columns (the group is
 * what changes), no match an Insert. The matched rows are written by one
 * save(), the new ones by one INSERT of instances.
 */
export async function upsertWithEvents(builder: WriteBuilder, info: EntityInfo): Promise<InsertResult> {
  const metadata = info.metadata
  const conflict = conflictColumns(builder, info)
  const overwrite = (builder.expressionMap.onUpdate!.overwrite ?? []).map((name) => columnNamed(metadata, name, info)).filter((c) => !conflict.includes(c))
  const objects = builder.getValueSets!()
  const saved = await inBulkTransaction(builder, async (queryRunner) => {
    const existing = await existingRows(queryRunner, metadata, conflict, objects)
    const loaded = new Set(existing.values())
    const targets = objects.map((object) => {
      const key = keyOf(conflict, object)
      const row = existing.get(key)
      if (!row) {
        const created = info.isInstance(object) ? object : (queryRunner.manager.create(metadata.target, object) as ObjectLiteral)
        existing.set(key, created)
        return created
      }
      for (const column of overwrite) {
        const value: unknown = column.getEntityValue(object)
        if (value !== undefined) column.setEntityValue(row, value)
      }
      return row
    })
    const unique = [...new Set(targets)]
    const created = unique.filter((t) => !loaded.has(t))
    // Matched rows are saved (their Update, group = what changes); new ones go through TypeORM's INSERT of instances (their Insert, the given keys kept).
    const updated = unique.filter((t) => loaded.has(t))
    if (updated.length) await queryRunner.manager.save(metadata.target, updated)
    if (created.length) await queryRunner.manager.createQueryBuilder().insert().into(metadata.target).values(created).execute()
    return targets
  })
  return insertResultOf(metadata, objects, saved)
}

/**
 * @internal The result of an insert/upsert with events: the keys of the rows
 * written (`written[i]` for `objects[i]`, undefined where nothing was), and
 * each caller's object given what its row holds, as TypeORM gives it.
 */
export function insertResultOf(metadata: EntityMetadata, objects: readonly ObjectLiteral[], written: readonly (ObjectLiteral | undefined)[]): InsertResult {
  const result = new InsertResult()
  result.raw = []
  result.identifiers = written.flatMap((row) => (row ? [metadata.getEntityIdMap(row) ?? {}] : []))
  result.generatedMaps = result.identifiers.map((id) => ({ ...id }))
  objects.forEach((object, i) => {
    const row = written[i]
    if (row && row !== object) copyColumns(metadata, row, object)
  })
  return result
}

/** The conflict columns, or a refusal where they are unknown (orIgnore(), an ON CONFLICT clause written as SQL). */
function conflictColumns(builder: WriteBuilder, info: EntityInfo): ColumnMetadata[] {
  const map = builder.expressionMap
  const conflict = map.onUpdate?.conflict
  const names = typeof conflict === 'string' ? conflict.split(',').map((s) => s.trim()) : conflict
  if (map.onConflict || !names?.length || map.onUpdate?.columns) {
    throw new BulkWriteError(
      info.name,
      'an upsert without conflict columns / onConflict() with SQL',
      'Which existing row an object would meet is not known, so whether it is an Insert or an Update cannot be told. ' +
        'Use upsert(objects, conflictPaths), orUpdate(columns, conflictColumns) or orIgnore().',
    )
  }
  return names.map((name) => columnNamed(info.metadata, name, info))
}

function columnNamed(metadata: EntityMetadata, name: string, info: EntityInfo): ColumnMetadata {
  const bare = name.replace(/^["`[]|["`\]]$/g, '')
  const column = metadata.findColumnWithDatabaseName(bare) ?? metadata.findColumnWithPropertyPath(bare)
  if (!column) throw new BulkWriteError(info.name, `upsert on '${name}'`, `${info.name} has no column '${name}'.`)
  return column
}

/** @internal The values of `columns` in `object` as one comparable key. */
export function keyOf(columns: readonly ColumnMetadata[], object: ObjectLiteral): string {
  // As text: drivers give some types back as strings (bigint on PostgreSQL) that the caller wrote as numbers.
  return JSON.stringify(
    columns.map((c) => {
      const value: unknown = c.getEntityValue(object)
      return value === undefined || value === null ? null : value instanceof Date ? value.toISOString() : String(value)
    }),
  )
}

/** @internal The rows that match any object's conflict columns, locked where the database can, by key. */
export async function existingRows(queryRunner: QueryRunner, metadata: EntityMetadata, conflict: readonly ColumnMetadata[], objects: readonly ObjectLiteral[]): Promise<Map<string, ObjectLiteral>> {
  const where = objects.map((object) => {
    const criteria: ObjectLiteral = {}
    for (const column of conflict) setPath(criteria, column.propertyPath, column.getEntityValue(object) ?? null)
    return criteria
  })
  const lock = locksRows(queryRunner.connection) ? ({ mode: 'pessimistic_write' } as const) : undefined
  // A conflict column that is a relation's foreign key is read through the relation: its id is loaded (as { id }).
  const relations = [...new Set(conflict.flatMap((c) => (c.relationMetadata ? [c.relationMetadata.propertyPath] : [])))]
  const loadRelationIds = relations.length ? { relations, disableMixedMap: false } : undefined
  const rows = await asInternal(() =>
    queryRunner.manager.find(metadata.target, { where, withDeleted: true, loadEagerRelations: false, ...(loadRelationIds ? { loadRelationIds } : {}), ...(lock ? { lock } : {}) }),
  )
  return new Map(rows.map((row) => [keyOf(conflict, row), row as ObjectLiteral]))
}

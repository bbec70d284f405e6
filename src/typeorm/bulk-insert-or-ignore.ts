import type { EntityMetadata, InsertResult, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { EntityInfo } from '../metadata/entity-info'
import { inBulkTransaction } from './bulk-transaction'
import { existingRows, insertResultOf, keyOf } from './bulk-upsert'
import type { WriteBuilder } from './write-builder'

/** The column sets a row must not share with another: the primary key, the unique constraints, the unique indices. */
function uniqueKeys(metadata: EntityMetadata): ColumnMetadata[][] {
  const keys = [metadata.primaryColumns, ...metadata.uniques.map((u) => u.columns), ...metadata.indices.filter((i) => i.isUnique).map((i) => i.columns)]
  return keys.filter((columns) => columns.length > 0)
}

/**
 * @internal QueryBuilder `insert().values(...).orIgnore()` with events: an
 * object that meets an existing row on any unique key (the primary key, a
 * unique constraint or index), or an earlier object of the same call, is
 * left out, as the database would ignore it, and fires nothing; the others
 * are inserted by TypeORM's INSERT of instances, with their Insert events. The existing rows are
 * read under a lock inside the transaction.
 */
export async function insertOrIgnoreWithEvents(builder: WriteBuilder, info: EntityInfo): Promise<InsertResult> {
  const metadata = info.metadata
  const objects = builder.getValueSets!()
  const keys = uniqueKeys(metadata)
  const inserted = await inBulkTransaction(builder, async (queryRunner) => {
    const manager = queryRunner.manager
    const instances = objects.map((o) => (info.isInstance(o) ? o : (manager.create(metadata.target, o) as ObjectLiteral)))
    const taken = new Set<string>()
    for (const [k, columns] of keys.entries()) {
      // An object without values for a key (a generated primary key) cannot meet a row on it.
      const having = instances.filter((o) => columns.every((c) => c.getEntityValue(o) !== undefined && c.getEntityValue(o) !== null))
      if (having.length === 0) continue
      for (const key of (await existingRows(queryRunner, metadata, columns, having)).keys()) taken.add(`${k}:${key}`)
    }
    const fresh = instances.filter((o) => {
      const mine = keys.flatMap((columns, k) => (columns.every((c) => c.getEntityValue(o) != null) ? [`${k}:${keyOf(columns, o)}`] : []))
      if (mine.some((key) => taken.has(key))) return false
      for (const key of mine) taken.add(key)
      return true
    })
    // TypeORM's own INSERT of instances (their Insert events, the given keys kept), inside this transaction.
    if (fresh.length) await manager.createQueryBuilder().insert().into(metadata.target).values(fresh).execute()
    return instances.map((o) => (fresh.includes(o) ? o : undefined))
  })
  return insertResultOf(metadata, objects, inserted)
}

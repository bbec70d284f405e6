import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { stableJson } from '../basics/stable-json'
import { byPrimaryKey } from './by-primary-key'
import { asInternal } from './internal-work'

/**
 * @internal After a bulk write: the values the database computed (SQL
 * `set()` values, the update date, the version, the delete date) are read
 * back into the instances, one SELECT by primary key for the whole batch, so
 * that Post handlers and audit entries see what was written.
 */
export async function rereadColumns(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  rows: readonly { readonly entity: ObjectLiteral; readonly previous: ObjectLiteral }[],
  wanted: readonly (ColumnMetadata | undefined)[],
): Promise<void> {
  const columns = [...new Set(wanted.filter((c): c is ColumnMetadata => c !== undefined))]
  if (columns.length === 0 || rows.length === 0) return
  const ids = rows.map((row) => metadata.getEntityIdMap(row.previous)!)
  const select = queryRunner.manager
    .createQueryBuilder(metadata.target, 'e')
    .select([...metadata.primaryColumns, ...columns].map((c) => `e.${c.propertyPath}`))
    .withDeleted()
    .callListeners(false)
  const read = await asInternal(() => byPrimaryKey(select, metadata, ids).getMany())
  const byId = new Map(read.map((r) => [stableJson(metadata.getEntityIdMap(r)!), r]))
  for (const [i, row] of rows.entries()) {
    const fresh = byId.get(stableJson(ids[i]!))
    if (fresh) for (const column of columns) column.setEntityValue(row.entity, column.getEntityValue(fresh))
  }
}

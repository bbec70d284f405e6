import type { EntityMetadata, ObjectLiteral, WhereExpressionBuilder } from 'typeorm'

/**
 * @internal Limits a QueryBuilder to the rows with these primary keys. A
 * single-column key is one `IN (...)` with one list parameter: TypeORM's
 * `whereInIds` names a parameter per id and checks each name against all the
 * others, which costs more than the write itself for a batch of 1,000 rows.
 */
export function byPrimaryKey<Q extends WhereExpressionBuilder>(builder: Q, metadata: EntityMetadata, ids: readonly ObjectLiteral[]): Q {
  const columns = metadata.primaryColumns
  if (columns.length !== 1) return builder.whereInIds(ids) as Q
  const column = columns[0]!
  const escaped = metadata.connection.driver.escape(column.databaseName)
  return builder.where(`${escaped} IN (:...eva_ids)`, { eva_ids: ids.map((id) => column.getEntityValue(id) as unknown) }) as Q
}

import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { BroadcasterResult } from 'typeorm/subscriber/BroadcasterResult'

/** @internal A row of a bulk write, with what its UPDATE changes (Update events only). */
export interface EventRow {
  readonly entity: ObjectLiteral
  readonly previous: ObjectLiteral
  columns?: ColumnMetadata[]
  relations?: RelationMetadata[]
}

/** @internal The kinds of TypeORM entity events a bulk write fires per row. */
export type RowEventKind = 'Update' | 'Remove' | 'SoftRemove' | 'Recover'

type BroadcastOne = (result: BroadcasterResult, metadata: EntityMetadata, entity: ObjectLiteral, databaseEntity: ObjectLiteral, ...rest: unknown[]) => void

/**
 * @internal Broadcasts one TypeORM entity event per row through the query
 * runner's broadcaster, the way a save()/remove() of those rows does (entity
 * listeners, the application's subscribers and ours, with the instance and
 * its database copy), and waits for all of them together, as TypeORM does.
 */
export async function broadcastRows(
  queryRunner: QueryRunner,
  when: 'Before' | 'After',
  kind: RowEventKind,
  metadata: EntityMetadata,
  rows: readonly EventRow[],
): Promise<void> {
  if (rows.length === 0) return
  const broadcaster = queryRunner.broadcaster as unknown as Record<string, BroadcastOne>
  const broadcast = broadcaster[`broadcast${when}${kind}Event`]!
  const result = new BroadcasterResult()
  for (const row of rows) {
    if (kind === 'Update') broadcast.call(broadcaster, result, metadata, row.entity, row.previous, row.columns ?? [], row.relations ?? [])
    else broadcast.call(broadcaster, result, metadata, row.entity, row.previous, metadata.getEntityIdMap(row.previous))
  }
  await result.wait()
}

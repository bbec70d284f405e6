import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { ourSubscriber } from './our-subscriber'

/** @internal A row of a bulk write, with what its UPDATE changes (Update events only). */
export interface EventRow {
  readonly entity: ObjectLiteral
  readonly previous: ObjectLiteral
  columns?: ColumnMetadata[]
  relations?: RelationMetadata[]
}

/** @internal The kinds of TypeORM entity events a bulk write fires per row. */
export type RowEventKind = 'Update' | 'Remove' | 'SoftRemove' | 'Recover'

type SubscriberMethod = (event: ObjectLiteral) => void | Promise<void>

/**
 * @internal Hands our subscriber one TypeORM entity event per row, shaped as
 * TypeORM's broadcaster shapes those of a save()/remove() (the instance and
 * its database copy), and waits for all of them together, as TypeORM does.
 * Only ours: the application's subscribers and entity listeners get the one
 * event TypeORM itself sends for such a write ({@link broadcastWrite}), as
 * without the library.
 */
export async function dispatchRows(
  queryRunner: QueryRunner,
  when: 'Before' | 'After',
  kind: RowEventKind,
  metadata: EntityMetadata,
  rows: readonly EventRow[],
): Promise<void> {
  const ours = ourSubscriber(queryRunner.connection)
  const method = ours?.[`${when.toLowerCase()}${kind}` as never] as SubscriberMethod | undefined
  if (!ours || !method || rows.length === 0) return
  const { connection, manager } = queryRunner
  const pending: Promise<void>[] = []
  for (const row of rows) {
    const event: ObjectLiteral =
      kind === 'Update'
        ? { connection, queryRunner, manager, metadata, entity: row.entity, databaseEntity: row.previous, updatedColumns: row.columns ?? [], updatedRelations: row.relations ?? [] }
        : { connection, queryRunner, manager, metadata, entity: row.entity, databaseEntity: row.previous, entityId: metadata.getEntityIdMap(row.previous) }
    const ran = method.call(ours, event)
    if (ran) pending.push(ran)
  }
  if (pending.length) await Promise.all(pending)
}

/**
 * @internal The event TypeORM broadcasts for a set-based write itself (an
 * Update with the `set()` values as its entity, a Remove, SoftRemove or
 * Recover with none), to every subscriber and listener: what they received
 * before the library ran the write with events, they still receive.
 */
export function broadcastWrite(queryRunner: QueryRunner, when: 'Before' | 'After', kind: RowEventKind, metadata: EntityMetadata, values?: ObjectLiteral): Promise<void> {
  const broadcaster = queryRunner.broadcaster as unknown as { broadcast(event: string, ...args: unknown[]): Promise<void> }
  return kind === 'Update' ? broadcaster.broadcast(`${when}Update`, metadata, values) : broadcaster.broadcast(`${when}${kind}`, metadata)
}

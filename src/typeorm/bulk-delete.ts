import { DeleteResult, UpdateResult, type EntityMetadata, type QueryRunner } from 'typeorm'
import { inBulkTransaction } from './bulk-transaction'
import { matchingRows, type MatchedRow } from './matching-rows'
import { byPrimaryKey } from './by-primary-key'
import { broadcastWrite, dispatchRows, type RowEventKind } from './row-events'
import { rereadColumns } from './reread-columns'
import { flushAuditsOfLevel } from '../transaction/transaction-state'
import { transactionDepthOf } from './transaction-depth'
import type { WriteBuilder } from './write-builder'

/** @internal Which removal a bulk write is. */
export type Removal = 'delete' | 'soft-delete' | 'restore'

const eventOf: Record<Removal, RowEventKind> = { delete: 'Remove', 'soft-delete': 'SoftRemove', restore: 'Recover' }

/**
 * @internal `delete(criteria)`, `softDelete()`/`restore()` and their
 * QueryBuilder forms with events: as remove()/softRemove()/recover() of each
 * matching row in one transaction. Per batch: one SELECT (locked), Pre per
 * row, one DELETE/UPDATE for the batch, (soft) one SELECT of the dates the
 * database set, Post per row. A softDelete() passes rows already deleted by,
 * and a restore() rows not deleted: they would not change.
 */
export async function removeWithEvents(builder: WriteBuilder, removal: Removal, batchSize: number): Promise<DeleteResult | UpdateResult> {
  const metadata = builder.expressionMap.mainAlias!.metadata
  const rows = removal === 'soft-delete' ? 'live' : removal === 'restore' ? 'deleted' : 'any'
  const affected = await inBulkTransaction(builder, async (queryRunner) => {
    await broadcastWrite(queryRunner, 'Before', eventOf[removal], metadata)
    let removed = 0
    for await (const batch of matchingRows(builder, queryRunner, { batchSize, rows, computed: [], relations: [] })) {
      await removeBatch(queryRunner, metadata, removal, batch)
      removed += batch.length
    }
    await broadcastWrite(queryRunner, 'After', eventOf[removal], metadata)
    return removed
  })
  const result = removal === 'delete' ? new DeleteResult() : new UpdateResult()
  result.raw = []
  result.affected = affected
  return result
}

async function removeBatch(queryRunner: QueryRunner, metadata: EntityMetadata, removal: Removal, batch: readonly MatchedRow[]): Promise<void> {
  const kind = eventOf[removal]
  await dispatchRows(queryRunner, 'Before', kind, metadata, batch)
  const ids = batch.map((row) => metadata.getEntityIdMap(row.previous)!)
  const builder = queryRunner.manager.createQueryBuilder()
  const write = removal === 'delete' ? builder.delete() : removal === 'soft-delete' ? builder.softDelete() : builder.restore()
  await byPrimaryKey(write.from(metadata.target).callListeners(false), metadata, ids).execute()
  if (removal === 'delete') {
    // As remove() does: the instance of a deleted row has no primary key any more (the copy keeps it).
    for (const row of batch) for (const column of metadata.primaryColumns) column.setEntityValue(row.entity, undefined)
  } else {
    await rereadColumns(queryRunner, metadata, batch, [metadata.deleteDateColumn, metadata.updateDateColumn, metadata.versionColumn])
  }
  await dispatchRows(queryRunner, 'After', kind, metadata, batch)
  // The batch's audit entries are written now, inside the call's transaction: memory holds one batch at a time.
  await flushAuditsOfLevel(queryRunner, transactionDepthOf(queryRunner))
}

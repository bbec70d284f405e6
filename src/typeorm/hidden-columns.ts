import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { entityInfo } from '../metadata/entity-info'

/** The parts of SubjectDatabaseEntityLoader and its subjects read here; all exist on 0.3.20+ and 1.x. */
interface Loader {
  queryRunner: QueryRunner
  subjects: readonly { metadata: EntityMetadata; databaseEntity?: ObjectLiteral }[]
}

// The one cache, per entity, of its `select: false` columns that a save must read (none without event actions).
const hiddenByMetadata = new WeakMap<EntityMetadata, readonly ColumnMetadata[]>()

/** The `select: false` columns of an entity with event actions (none for the others). */
function hiddenColumns(metadata: EntityMetadata): readonly ColumnMetadata[] {
  let hidden = hiddenByMetadata.get(metadata)
  if (!hidden) {
    hidden = entityInfo(metadata).active ? metadata.columns.filter((c) => !c.isSelect && !c.isVirtual) : []
    hiddenByMetadata.set(metadata, hidden)
  }
  return hidden
}

/**
 * @internal After TypeORM loaded the database copies of a save/remove:
 * columns declared `select: false` are not in them, so `ctx.previous()` and
 * the audit's old value would read `undefined`, and TypeORM would take an
 * unchanged hidden value for a change (an UPDATE, an Update event and an
 * audit entry for nothing). They are read here, one SELECT per entity with
 * such columns, by primary key, and put into the copies.
 */
export async function loadHiddenColumns(loader: Loader): Promise<void> {
  const byMetadata = new Map<EntityMetadata, ObjectLiteral[]>()
  for (const subject of loader.subjects) {
    if (!subject.databaseEntity || hiddenColumns(subject.metadata).length === 0) continue
    const list = byMetadata.get(subject.metadata) ?? []
    list.push(subject.databaseEntity)
    byMetadata.set(subject.metadata, list)
  }
  for (const [metadata, copies] of byMetadata) {
    const hidden = hiddenColumns(metadata)
    const rows = await loader.queryRunner.manager
      .createQueryBuilder(metadata.target, 'e')
      .select(metadata.primaryColumns.map((c) => `e.${c.propertyPath}`))
      .addSelect(hidden.map((c) => `e.${c.propertyPath}`))
      .whereInIds(copies.map((copy) => metadata.getEntityIdMap(copy)))
      .withDeleted()
      .callListeners(false)
      .getMany()
    for (const copy of copies) {
      const row = rows.find((r) => metadata.compareEntities(r, copy))
      if (row) for (const column of hidden) column.setEntityValue(copy, column.getEntityValue(row))
    }
  }
}

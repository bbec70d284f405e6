import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { SubjectChangedColumnsComputer } from 'typeorm/persistence/SubjectChangedColumnsComputer'

const diffComputer = new SubjectChangedColumnsComputer() as unknown as { computeDiffColumns(subject: object): void }

/**
 * @internal The columns an UPDATE of `entity` over its database copy writes,
 * as TypeORM's own change detection finds them (after transformers, by column
 * type). Asked once per updated entity, on entities with event actions.
 */
export function writtenColumns(metadata: EntityMetadata, entity: ObjectLiteral, databaseEntity: ObjectLiteral): ReadonlySet<ColumnMetadata> {
  const subject = { metadata, entity, databaseEntity, changeMaps: [] as { column: ColumnMetadata }[], diffColumns: [] as ColumnMetadata[] }
  diffComputer.computeDiffColumns(subject)
  return new Set(subject.changeMaps.map((m) => m.column))
}

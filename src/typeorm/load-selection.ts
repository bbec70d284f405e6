import type { DataSource, EntityMetadata, ObjectLiteral } from 'typeorm'
import { DriverUtils } from 'typeorm/driver/DriverUtils'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { RawSqlResultsToEntityTransformer } from 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer'
import { entityInfo } from '../metadata/entity-info'
import { patchMethod } from './patch-method'

// Part of the TypeORM internals (see typeorm-internals.ts, which installs it):
// the Load group is the selection the query made, noted as TypeORM transforms raw rows.

/**
 * What the last top-level transform selected, per entity: a selection key
 * (see EntityInfo.selectionKey), or null when two aliases of one entity
 * selected differently (then the Load group falls back to defined values).
 */
// The one record of the running query's selections, per entity.
const selections = new Map<EntityMetadata, number | string | null>()
let transformDepth = 0

/** @internal The columns the query that produced the entities being loaded selected, if known. */
export function selectionOf(metadata: EntityMetadata): number | string | null | undefined {
  return selections.get(metadata)
}

/** The parts of RawSqlResultsToEntityTransformer the selection tracking reads. */
interface Transformer {
  driver: DataSource['driver']
  buildAlias?(aliasName: string, columnName: string): string
}

interface Alias {
  name: string
  hasMetadata: boolean
  metadata: EntityMetadata
}

function recordSelection(transformer: Transformer, rawResults: ObjectLiteral[], alias: Alias): void {
  const first = rawResults[0]
  if (!first || !alias.hasMetadata) return
  const keyOf = (column: ColumnMetadata): string =>
    transformer.buildAlias
      ? transformer.buildAlias(alias.name, column.databaseName)
      : DriverUtils.buildAlias(transformer.driver, undefined, alias.name, column.databaseName)
  const info = entityInfo(alias.metadata)
  // Only a Load handler reads the group.
  if (!info.handler || !info.handles.Load) return
  const key = info.selectionKey((column) => first[keyOf(column)] !== undefined)
  const seen = selections.get(alias.metadata)
  selections.set(alias.metadata, seen === undefined || seen === key ? key : null)
}

/**
 * @internal Wraps RawSqlResultsToEntityTransformer.transform to note each
 * query's selection; installed once, by installTypeOrmPatches.
 */
export function trackLoadSelections(): void {
  type Transform = (this: Transformer, rawResults: ObjectLiteral[], alias: Alias) => unknown
  patchMethod<Transform>(RawSqlResultsToEntityTransformer.prototype, 'transform', (original) =>
    function (this: Transformer, rawResults: ObjectLiteral[], alias: Alias) {
      // transform() recurses for joined aliases; a new top-level call starts a new query.
      if (transformDepth === 0) selections.clear()
      recordSelection(this, rawResults, alias)
      transformDepth++
      try {
        return original.call(this, rawResults, alias)
      } finally {
        transformDepth--
      }
    },
  )
}

/** @internal The metadata of the class a loaded row was built as (an STI child's, when loaded through the parent). */
export function rowMetadata(metadata: EntityMetadata, entity: ObjectLiteral): EntityMetadata {
  if (entity.constructor === metadata.target) return metadata
  return metadata.childEntityMetadatas.find((child) => child.target === entity.constructor) ?? metadata
}

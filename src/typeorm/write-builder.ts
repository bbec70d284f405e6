import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'

/**
 * @internal The parts of TypeORM's write QueryBuilders (insert, update,
 * delete, soft-delete) the library reads; all exist on 0.3.20+ and 1.x.
 * `wheres` and the parameters are what the builder's WHERE was built from:
 * a bulk write with events reads its rows by the same WHERE.
 */
export interface WriteBuilder {
  connection: DataSource
  queryRunner?: QueryRunner
  expressionMap: {
    queryType: string
    onUpdate?: { conflict?: string | string[]; overwrite?: string[]; columns?: string[]; skipUpdateIfNoValuesChanged?: boolean }
    onIgnore?: boolean
    onConflict?: string
    callListeners: boolean
    useTransaction: boolean
    updateEntity: boolean
    whereEntities?: ObjectLiteral[]
    mainAlias?: { hasMetadata: boolean; metadata: EntityMetadata; tablePath?: string; name: string }
    wheres: unknown[]
    parameters: ObjectLiteral
    nativeParameters?: ObjectLiteral
    valuesSet?: ObjectLiteral | ObjectLiteral[]
    orderBys: Record<string, unknown>
    limit?: number
    returning?: unknown
    withDeleted?: boolean
  }
  getValueSets?(): ObjectLiteral[]
  getQuery(): string
  getParameters(): ObjectLiteral
}

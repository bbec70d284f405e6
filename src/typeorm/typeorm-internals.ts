/**
 * The one place that depends on TypeORM internals. Everything here is checked
 * by tests/unit/typeorm-internals.test.ts, which fails loudly (naming the
 * missing piece) when a TypeORM release moves it.
 *
 * Why each patch exists:
 * - SubjectDatabaseEntityLoader.load: save()/remove() reload the database
 *   copy of every entity through an ordinary getMany(), which broadcasts
 *   afterLoad. A user must never see Load in the middle of a save, so the
 *   reload runs inside a marker context and afterLoad ignores it.
 * - RawSqlResultsToEntityTransformer.transform: TypeORM builds loaded
 *   entities with their constructor, so a class-field initializer makes an
 *   unselected column look loaded. The transformer knows which columns each
 *   alias selected; we note that per entity, and afterLoad (which TypeORM
 *   calls synchronously right after transform) builds the Load group from it.
 * - Insert/Update/Delete/SoftDeleteQueryBuilder.execute: TypeORM's bulk writes
 *   (`update(criteria, values)`, `delete(criteria)`, QueryBuilder writes,
 *   insert of plain objects) reach subscribers without instances, so event
 *   actions cannot run for them. They are refused before any SQL runs. An
 *   insert() of instances is allowed, and made transactional, because TypeORM
 *   runs it (Pre handlers, INSERT, Post handlers) outside any transaction.
 *   save()/remove() are not affected: their internal query builders have
 *   listeners switched off.
 */
import { scopes, type AsyncScope } from '../scope/async-scope'
import {
  DeleteQueryBuilder,
  InsertQueryBuilder,
  UpdateQueryBuilder,
  type DataSource,
  type EntityMetadata,
  type ObjectLiteral,
} from 'typeorm'
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder'
import { SubjectDatabaseEntityLoader } from 'typeorm/persistence/SubjectDatabaseEntityLoader'
import { RawSqlResultsToEntityTransformer } from 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer'
import { DriverUtils } from 'typeorm/driver/DriverUtils'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { BulkWriteError } from '../basics/errors'

/** @internal Marks the instance of our subscriber, without importing its class here. */
export const SUBSCRIBER_MARK: unique symbol = Symbol('typeorm-event-actions.subscriber')

/**
 * @internal True while TypeORM reloads database copies for a save/remove.
 * A caller that has read the async scope already passes it.
 */
export function isInternalLoad(scope: AsyncScope | undefined = scopes.getStore()): boolean {
  return scope?.internalLoad === true
}

/**
 * What the last top-level transform selected, per entity: a selection key
 * (see EntityInfo.selectionKey), or null when two aliases of one entity
 * selected differently (then the Load group falls back to defined values).
 */
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
  if (!info.handler) return
  const key = info.selectionKey((column) => first[keyOf(column)] !== undefined)
  const seen = selections.get(alias.metadata)
  selections.set(alias.metadata, seen === undefined || seen === key ? key : null)
}

/**
 * @internal How many transactions are open on the query runner (1: the
 * outermost, more: savepoints). TypeORM keeps it protected; it exists, with
 * this meaning, on every driver of 0.3.20+ and 1.x.
 */
export function transactionDepthOf(queryRunner: object): number {
  return (queryRunner as { transactionDepth?: number }).transactionDepth ?? 0
}

/** The parts of a QueryBuilder the guards read; all exist on 0.3.20+ and 1.x. */
interface WriteBuilder {
  connection: DataSource
  expressionMap: {
    onUpdate?: unknown
    onIgnore?: boolean
    callListeners: boolean
    useTransaction: boolean
    mainAlias?: { hasMetadata: boolean; metadata: EntityMetadata }
  }
  getValueSets?(): ObjectLiteral[]
}

type Execute = (this: WriteBuilder) => Promise<unknown>

interface Patchable {
  prototype: { execute: Execute }
}

const PATCHED: unique symbol = Symbol('typeorm-event-actions.patched')

// The one cache of which DataSources have the subscriber.
const usesEventActions = new WeakMap<DataSource, boolean>()

function connectionUsesEventActions(connection: DataSource): boolean {
  if (usesEventActions.get(connection)) return true
  const uses = connection.subscribers.some((s) => (s as unknown as Record<symbol, unknown>)[SUBSCRIBER_MARK] === true)
  // Only a yes is final: a subscriber can still be added to an initialized DataSource (the NestJS module does).
  if (uses && connection.isInitialized) usesEventActions.set(connection, true)
  return uses
}

/** The entity a write is guarded for, or undefined when it may go through untouched. */
function guardedEntity(builder: WriteBuilder): EntityInfo | undefined {
  const map = builder.expressionMap
  if (!map.callListeners || !map.mainAlias?.hasMetadata) return undefined
  const info = entityInfo(map.mainAlias.metadata)
  if (!info.active || info.bulkWritesAllowed) return undefined
  return connectionUsesEventActions(builder.connection) ? info : undefined
}

function wrapExecute(cls: Patchable, guard: (builder: WriteBuilder, info: EntityInfo) => void): void {
  const original = cls.prototype.execute
  if ((original as unknown as Record<symbol, unknown>)[PATCHED]) return
  const patched: Execute = function (this: WriteBuilder) {
    const info = guardedEntity(this)
    if (info) {
      try {
        guard(this, info)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return original.call(this)
  }
  Object.defineProperty(patched, PATCHED, { value: true })
  cls.prototype.execute = patched
}

// TypeORM's prototypes are patched once per process.
let installed = false

/** @internal Installs the patches once per loaded copy of TypeORM. */
export function installTypeOrmPatches(): void {
  if (installed) return
  installed = true

  const loader = SubjectDatabaseEntityLoader.prototype as unknown as {
    load: (this: unknown, ...args: unknown[]) => Promise<void>
  }
  const originalLoad = loader.load
  loader.load = function (this: unknown, ...args: unknown[]) {
    const outer = scopes.getStore()
    return scopes.run({ ...(outer ?? { frame: undefined, action: undefined, changes: undefined }), internalLoad: true }, () => originalLoad.apply(this, args))
  }

  const transformer = RawSqlResultsToEntityTransformer.prototype as unknown as {
    transform: (this: Transformer, rawResults: ObjectLiteral[], alias: Alias) => unknown
  }
  const originalTransform = transformer.transform
  transformer.transform = function (this: Transformer, rawResults: ObjectLiteral[], alias: Alias) {
    // transform() recurses for joined aliases; a new top-level call starts a new query.
    if (transformDepth === 0) selections.clear()
    recordSelection(this, rawResults, alias)
    transformDepth++
    try {
      return originalTransform.call(this, rawResults, alias)
    } finally {
      transformDepth--
    }
  }

  wrapExecute(InsertQueryBuilder as unknown as Patchable, (builder, info) => {
    // An upsert may update an existing row: it would fire Insert for an update.
    if (builder.expressionMap.onUpdate || builder.expressionMap.onIgnore) {
      throw BulkWriteError.bulk(info.name, 'upsert() / QueryBuilder orUpdate()/orIgnore()')
    }
    for (const valueSet of builder.getValueSets!()) {
      if (!info.isInstance(valueSet)) throw BulkWriteError.plainObject(info.name, 'insert() of a plain object')
    }
    builder.expressionMap.useTransaction = true
  })
  wrapExecute(UpdateQueryBuilder as unknown as Patchable, (_builder, info) => {
    throw BulkWriteError.bulk(info.name, 'update(criteria, values) / QueryBuilder update()')
  })
  wrapExecute(DeleteQueryBuilder as unknown as Patchable, (_builder, info) => {
    throw BulkWriteError.bulk(info.name, 'delete(criteria) / QueryBuilder delete()')
  })
  wrapExecute(SoftDeleteQueryBuilder as unknown as Patchable, (_builder, info) => {
    throw BulkWriteError.bulk(info.name, 'softDelete()/restore(criteria) / QueryBuilder softDelete()/restore()')
  })
}

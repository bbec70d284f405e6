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
 * - Insert/Update/Delete/SoftDeleteQueryBuilder.execute: TypeORM's bulk writes
 *   (`update(criteria, values)`, `delete(criteria)`, QueryBuilder writes,
 *   insert of plain objects) reach subscribers without instances, so event
 *   actions cannot run for them. They are refused before any SQL runs. An
 *   insert() of instances is allowed, and made transactional, because TypeORM
 *   runs it (Pre handlers, INSERT, Post handlers) outside any transaction.
 *   save()/remove() are not affected: their internal query builders have
 *   listeners switched off.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
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
import { entityInfo, type EntityInfo } from './entity-info'
import { BulkWriteError } from './errors'

/** @internal Marks the instance of our subscriber, without importing its class here. */
export const SUBSCRIBER_MARK: unique symbol = Symbol('typeorm-event-actions.subscriber')

const internalLoads = new AsyncLocalStorage<true>()

/** @internal True while TypeORM reloads database copies for a save/remove. */
export function isInternalLoad(): boolean {
  return internalLoads.getStore() === true
}

/** The parts of a QueryBuilder the guards read; all exist on 0.3.20+ and 1.x. */
interface WriteBuilder {
  connection: DataSource
  expressionMap: {
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

const usesEventActions = new WeakMap<DataSource, boolean>()

function connectionUsesEventActions(connection: DataSource): boolean {
  let uses = usesEventActions.get(connection)
  if (uses === undefined) {
    uses = connection.subscribers.some((s) => (s as unknown as Record<symbol, unknown>)[SUBSCRIBER_MARK] === true)
    if (connection.isInitialized) usesEventActions.set(connection, uses)
  }
  return uses
}

/** The entity a write is guarded for, or undefined when it may go through untouched. */
function guardedEntity(builder: WriteBuilder): EntityInfo | undefined {
  const map = builder.expressionMap
  if (!map.callListeners || !map.mainAlias?.hasMetadata) return undefined
  const info = entityInfo(map.mainAlias.metadata)
  if (!info.handler || info.bulkWritesAllowed) return undefined
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
    return internalLoads.run(true, () => originalLoad.apply(this, args))
  }

  wrapExecute(InsertQueryBuilder as unknown as Patchable, (builder, info) => {
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

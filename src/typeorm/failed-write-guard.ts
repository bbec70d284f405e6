import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import { EntityPersistExecutor } from 'typeorm/persistence/EntityPersistExecutor'
import { entityInfo } from '../metadata/entity-info'
import { markRollbackOnly } from '../transaction/transaction-state'
import { usesEventActionsOn } from './our-subscriber'
import { patchMethod } from './patch-method'

/** The parts of EntityPersistExecutor read here: `connection` on 0.3, `dataSource` on 1.x, the rest on both. */
interface PersistExecutor {
  connection?: DataSource
  dataSource?: DataSource
  queryRunner?: QueryRunner
  target?: Function | string
  entity: ObjectLiteral | ObjectLiteral[]
  mode: string
}

type Execute = (this: PersistExecutor) => Promise<void>

// The one cache, per entity, of whether a write of it can reach event actions (its own, or through cascades).
const reachesEventActions = new WeakMap<EntityMetadata, boolean>()

function reaches(metadata: EntityMetadata): boolean {
  let known = reachesEventActions.get(metadata)
  if (known === undefined) {
    known = search(metadata, new Set())
    reachesEventActions.set(metadata, known)
  }
  return known
}

/** Depth-first through cascading relations; a cycle ends the branch (it is searched where it started). */
function search(metadata: EntityMetadata, seen: Set<EntityMetadata>): boolean {
  if (seen.has(metadata)) return false
  seen.add(metadata)
  if (entityInfo(metadata).active) return true
  return metadata.relations.some(
    (r) => (r.isCascadeInsert || r.isCascadeUpdate || r.isCascadeRemove || r.isCascadeSoftRemove || r.isCascadeRecover) && search(r.inverseEntityMetadata, seen),
  )
}

/** The first entity of the write whose save can reach event actions, or undefined. */
function savedEventActions(executor: PersistExecutor, connection: DataSource): EntityMetadata | undefined {
  const entities = Array.isArray(executor.entity) ? executor.entity : [executor.entity]
  for (const entity of entities) {
    const target = executor.target ?? (entity as object | null)?.constructor
    if (target === undefined || !connection.hasMetadata(target)) continue
    const metadata = connection.getMetadata(target)
    if (reaches(metadata)) return metadata
  }
  return undefined
}

/**
 * @internal Wraps EntityPersistExecutor.execute (save, remove, softRemove,
 * recover): inside a transaction the caller opened, TypeORM runs the write
 * without a transaction of its own, so a write that rejects (a Post handler
 * threw) leaves its row, audit entries and after-commit callbacks in the
 * caller's transaction, which the caller may still commit after catching.
 * Such a failure makes the transaction rollback-only: its COMMIT fails with
 * TransactionRollbackOnlyError and it is rolled back. This costs nothing on
 * a write that succeeds; a savepoint per write was measured at about twice
 * the time of a save inside a transaction (docs/performance.md), so a
 * savepoint is the caller's choice: a nested manager.transaction().
 */
export function guardFailedWrites(): void {
  patchMethod<Execute>(EntityPersistExecutor.prototype, 'execute', (original) =>
    function (this: PersistExecutor) {
      const queryRunner = this.queryRunner
      if (!queryRunner?.isTransactionActive) return original.call(this)
      const connection = (this.dataSource ?? this.connection)!
      if (!usesEventActionsOn(connection) || !this.entity || typeof this.entity !== 'object') return original.call(this)
      const target = savedEventActions(this, connection)
      if (!target) return original.call(this)
      return original.call(this).catch((error: unknown) => {
        markRollbackOnly(queryRunner, { entityName: target.name, operation: this.mode, error })
        throw error
      })
    },
  )
}

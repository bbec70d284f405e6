/**
 * Where the library's patches of TypeORM internals are installed, and the
 * internals it reads. Everything in this folder that touches TypeORM
 * internals is checked by tests/unit/typeorm-internals.test.ts, which fails
 * loudly (naming the missing piece) when a TypeORM release moves it.
 *
 * Why each patch exists:
 * - SubjectDatabaseEntityLoader.load: save()/remove() reload the database
 *   copy of every entity through an ordinary getMany(), which broadcasts
 *   afterLoad. A user must never see Load in the middle of a save, so the
 *   reload runs as internal work (internal-work.ts) and afterLoad ignores it.
 *   Columns declared `select: false` are then read into the copies too
 *   (hidden-columns.ts), so that old values and change detection see them.
 * - Closure/NestedSet/MaterializedPathSubjectExecutor insert/update/remove:
 *   a save() of a tree entity keeps the tree's columns and closure table
 *   with QueryBuilder writes that have listeners on; they run as internal
 *   work too, so the bulk-write guard lets them through.
 * - RawSqlResultsToEntityTransformer.transform (load-selection.ts): the Load
 *   group is the selection the query made.
 * - Insert/Update/Delete/SoftDeleteQueryBuilder.execute (bulk-write-guard.ts):
 *   bulk writes reach subscribers without instances; for entities with event
 *   actions they read the matching rows and fire each row's events around
 *   set-based SQL (bulk-update.ts, bulk-delete.ts, bulk-upsert.ts), or are
 *   refused where configured; where TypeORM would refuse the call anyway,
 *   its own error comes first.
 * - EntityPersistExecutor.execute (plain-objects.ts): save()/remove() of a
 *   plain object runs on an instance built with create().
 * - RelationUpdater.update / RelationRemover.remove (junction-relation-writes.ts):
 *   relation(...).add()/remove() of a many-to-many runs as a save of the owner.
 * - ConnectionMetadataBuilder.buildSubscribers (subscriber-order.ts): ours
 *   stands where the application listed it, built without global registration.
 * - EntityManager.clear (clear-guard.ts): TRUNCATE is refused for entities
 *   with event actions unless allowed.
 * - EntityPersistExecutor.execute (failed-write-guard.ts): inside a caller's
 *   transaction, a save/remove that reaches event actions and rejects makes
 *   the transaction rollback-only, so nothing of it can commit.
 * - SubjectExecutor.broadcastAfterEventsForAll (inserted-values.ts): notes
 *   what each INSERT wrote, so that a foreign key set by a cascade is in the
 *   Post Insert group and the audit entry. With broadcastBeforeEventsForAll
 *   (junction-changes.ts): a save that changes a many-to-many relation fires
 *   the owner's Update with the relation in its group.
 * - DataSource.buildMetadatas (declaration-check.ts): names given to
 *   @Audited are checked when the DataSource initializes.
 * - SubjectChangedColumnsComputer.computeDiffColumns is read, not patched:
 *   the Post Update group is what the UPDATE wrote, judged as TypeORM judged
 *   it (column types, transformers, JSON), never by serializing values.
 */
import { SubjectDatabaseEntityLoader } from 'typeorm/persistence/SubjectDatabaseEntityLoader'
import { ClosureSubjectExecutor } from 'typeorm/persistence/tree/ClosureSubjectExecutor'
import { MaterializedPathSubjectExecutor } from 'typeorm/persistence/tree/MaterializedPathSubjectExecutor'
import { NestedSetSubjectExecutor } from 'typeorm/persistence/tree/NestedSetSubjectExecutor'
import { guardBulkWrites } from './bulk-write-guard'
import { guardClear } from './clear-guard'
import { checkDeclarationsAtInitialize } from './declaration-check'
import { guardFailedWrites } from './failed-write-guard'
import { loadHiddenColumns } from './hidden-columns'
import { noteInsertedValues } from './inserted-values'
import { fireJunctionChanges } from './junction-changes'
import { asInternal } from './internal-work'
import { trackLoadSelections } from './load-selection'
import { patchMethod } from './patch-method'
import { convertPlainObjects } from './plain-objects'
import { junctionWritesWithEvents } from './junction-relation-writes'
import { placeOurSubscriber } from './subscriber-order'

type Method = (this: unknown, ...args: unknown[]) => unknown

/** Runs `owner[name]` as TypeORM's own work of a save/remove. */
function runAsInternal(owner: object, name: string): void {
  patchMethod<Method>(owner, name, (original) =>
    function (this: unknown, ...args: unknown[]) {
      return asInternal(() => original.apply(this, args))
    },
  )
}

/** @internal Installs the patches, once per loaded copy of TypeORM (each patch checks). */
export function installTypeOrmPatches(): void {
  type Load = (this: unknown, ...args: unknown[]) => Promise<void>
  patchMethod<Load>(SubjectDatabaseEntityLoader.prototype, 'load', (original) =>
    function (this: unknown, ...args: unknown[]) {
      return asInternal(async () => {
        await original.apply(this, args)
        await loadHiddenColumns(this as Parameters<typeof loadHiddenColumns>[0])
      })
    },
  )
  for (const executor of [ClosureSubjectExecutor, MaterializedPathSubjectExecutor, NestedSetSubjectExecutor]) {
    for (const name of ['insert', 'update', 'remove']) runAsInternal(executor.prototype, name)
  }
  trackLoadSelections()
  guardBulkWrites()
  placeOurSubscriber()
  guardClear()
  guardFailedWrites()
  convertPlainObjects()
  junctionWritesWithEvents()
  noteInsertedValues()
  fireJunctionChanges()
  checkDeclarationsAtInitialize()
}

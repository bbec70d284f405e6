import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import { SubjectExecutor } from 'typeorm/persistence/SubjectExecutor'
import { EventActionTiming } from '../basics/event-action-timing'
import { entityInfo } from '../metadata/entity-info'
import { JUNCTION_UPDATE, ourSubscriber, type JunctionUpdate } from './our-subscriber'
import { patchMethod } from './patch-method'

/** The parts of TypeORM's Subject read here; all exist on 0.3.20+ and 1.x. */
interface Subject {
  metadata: EntityMetadata
  entity?: ObjectLiteral
  databaseEntity?: ObjectLiteral
  parentSubject?: Subject
}

/** The parts of SubjectExecutor read here. */
interface Executor {
  queryRunner: QueryRunner
  allSubjects: readonly Subject[]
  insertSubjects: readonly Subject[]
  updateSubjects: readonly Subject[]
  removeSubjects: readonly Subject[]
}

interface BroadcasterResult {
  promises: Promise<unknown>[]
}

// For each entity of the running save with event actions: the many-to-many relations whose junction rows it changes.
const changedRelations = new WeakMap<ObjectLiteral, readonly string[]>()
// The owners of a save that TypeORM does not update (only their junction rows change): their Post Update is ours to fire.
const junctionOnlyOwners = new WeakMap<Executor, JunctionUpdate[]>()
// The owners, with their changed relations, of each save that writes junction rows.
const ownersByExecutor = new WeakMap<Executor, Map<Subject, Set<string>>>()

/** The owners (with event actions) of the junction rows a save inserts or deletes, with the relations. */
function ownersOf(executor: Executor): Map<Subject, Set<string>> {
  const owners = new Map<Subject, Set<string>>()
  for (const subject of [...executor.insertSubjects, ...executor.removeSubjects]) {
    const owner = subject.parentSubject
    if (!subject.metadata.isJunction || !owner?.entity || !entityInfo(owner.metadata).active) continue
    const relation = owner.metadata.manyToManyRelations.find((r) => r.junctionEntityMetadata === subject.metadata)
    if (!relation) continue
    const names = owners.get(owner) ?? new Set<string>()
    names.add(relation.propertyPath)
    owners.set(owner, names)
  }
  return owners
}

/** @internal The many-to-many relations of `entity` that the save broadcasting now changes, if any. */
export function junctionRelationsOf(entity: ObjectLiteral): readonly string[] | undefined {
  return changedRelations.get(entity)
}

/** Our subscriber fires the Update of owners TypeORM does not update; their promises join TypeORM's. */
function fire(executor: Executor, timing: EventActionTiming, owners: readonly JunctionUpdate[], result: BroadcasterResult): void {
  const ours = ourSubscriber(executor.queryRunner.connection) as Record<symbol, unknown> | undefined
  const fireOne = ours?.[JUNCTION_UPDATE] as ((timing: EventActionTiming, update: JunctionUpdate) => void | Promise<void>) | undefined
  if (!fireOne) return
  for (const owner of owners) {
    const ran = fireOne.call(ours, timing, owner)
    if (ran) result.promises.push(ran)
  }
}

/**
 * @internal Wraps SubjectExecutor's broadcasts: a save that changes a
 * many-to-many relation (`owner.tags` reassigned) writes junction rows, which
 * have no instance and fire nothing, and TypeORM does not count the owner as
 * updated when nothing else changed. The owner's Update then carries the
 * relation in its group: added to TypeORM's Update when there is one, fired
 * by the library when there is none (Pre before the SQL, Post after).
 */
export function fireJunctionChanges(): void {
  type Broadcast = (this: Executor) => BroadcasterResult
  patchMethod<Broadcast>(SubjectExecutor.prototype, 'broadcastBeforeEventsForAll', (original) =>
    function (this: Executor) {
      // Most saves change no junction row: they pay one scan of their subjects.
      if (!hasJunctionWrites(this)) return original.call(this)
      const owners = ownersOf(this)
      ownersByExecutor.set(this, owners)
      const result = whileNoted(owners, () => original.call(this))
      const junctionOnly: JunctionUpdate[] = []
      for (const [owner, names] of owners) {
        if (this.updateSubjects.includes(owner) || !owner.databaseEntity) continue
        junctionOnly.push({ metadata: owner.metadata, entity: owner.entity!, databaseEntity: owner.databaseEntity, queryRunner: this.queryRunner, relations: [...names] })
      }
      if (junctionOnly.length) {
        junctionOnlyOwners.set(this, junctionOnly)
        fire(this, EventActionTiming.Pre, junctionOnly, result)
      }
      return result
    },
    'junction-changes',
  )
  patchMethod<Broadcast>(SubjectExecutor.prototype, 'broadcastAfterEventsForAll', (original) =>
    function (this: Executor) {
      const owners = ownersByExecutor.get(this)
      if (!owners) return original.call(this)
      const result = whileNoted(owners, () => original.call(this))
      const junctionOnly = junctionOnlyOwners.get(this)
      if (junctionOnly) fire(this, EventActionTiming.Post, junctionOnly, result)
      return result
    },
    'junction-changes',
  )
}

function hasJunctionWrites(executor: Executor): boolean {
  return executor.insertSubjects.some((s) => s.metadata.isJunction) || executor.removeSubjects.some((s) => s.metadata.isJunction)
}

/**
 * Notes the owners' changed relations for the length of one broadcast:
 * TypeORM calls the subscriber synchronously inside it, and the subscriber
 * reads them there (junctionRelationsOf), so nothing outlives the call.
 */
function whileNoted<T>(owners: Map<Subject, Set<string>>, broadcast: () => T): T {
  for (const [owner, names] of owners) changedRelations.set(owner.entity!, [...names])
  try {
    return broadcast()
  } finally {
    for (const owner of owners.keys()) changedRelations.delete(owner.entity!)
  }
}

import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { RelationRemover } from 'typeorm/query-builder/RelationRemover'
import { RelationUpdater } from 'typeorm/query-builder/RelationUpdater'
import { HardError } from '../basics/errors'
import { entityInfo } from '../metadata/entity-info'
import { bulkModeOf } from './bulk-mode'
import { inBulkTransaction } from './bulk-transaction'
import { asInternal } from './internal-work'
import { patchMethod } from './patch-method'
import type { WriteBuilder } from './write-builder'

/** The parts of RelationUpdater/RelationRemover read here; the same on 0.3.20+ and 1.x. */
interface RelationWork {
  queryBuilder: { connection: DataSource; queryRunner?: QueryRunner }
  expressionMap: { relationMetadata: RelationMetadata; of: unknown }
}

type Change = (this: RelationWork, value: unknown) => Promise<void>

/** True when a change of this many-to-many relation runs with events: either side has event actions, neither forbids bulk writes. */
function withEvents(work: RelationWork): boolean {
  const relation = work.expressionMap.relationMetadata
  if (!relation.isManyToMany) return false
  const modes = [relation.entityMetadata, relation.inverseEntityMetadata].map((m) => bulkModeOf(work.queryBuilder.connection, entityInfo(m)))
  return modes.includes('events') && !modes.includes('forbid')
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value])

function idMapOf(metadata: EntityMetadata, value: unknown): ObjectLiteral {
  const id = typeof value === 'object' && value !== null ? metadata.getEntityIdMap(value as ObjectLiteral) : metadata.ensureEntityIdMap(value)
  if (!id) throw new HardError(`${metadata.name}: ${JSON.stringify(value)} names no row (no primary key value)`, { entityName: metadata.name })
  return id as ObjectLiteral
}

/**
 * `relation(Owner, 'tags').of(owner).add(tags)` / `.remove(tags)` as if each
 * owner had been loaded with its relation, the relation changed and the
 * owner saved, in one transaction: the owner's Update fires with the
 * relation in its group and `ctx.previous()` the old related ids, and is
 * audited. Adding a row already related, or removing one that is not,
 * changes nothing.
 */
async function changeJunction(work: RelationWork, value: unknown, change: 'add' | 'remove'): Promise<void> {
  const relation = work.expressionMap.relationMetadata
  const owners = listOf(work.expressionMap.of)
  const related = relation.inverseEntityMetadata
  const builder = { connection: work.queryBuilder.connection, queryRunner: work.queryBuilder.queryRunner } as WriteBuilder
  await inBulkTransaction(builder, async (queryRunner) => {
    const manager = queryRunner.manager
    const items = listOf(value).map((item) => (related.target instanceof Function && item instanceof related.target ? (item as ObjectLiteral) : (manager.create(related.target, idMapOf(related, item)) as ObjectLiteral)))
    for (const of of owners) {
      const id = idMapOf(relation.entityMetadata, of)
      // Read as part of the write: no Load.
      const owner = await asInternal(() => manager.findOne(relation.entityMetadata.target, { where: id, relations: { [relation.propertyPath]: true }, withDeleted: true, loadEagerRelations: false }))
      if (!owner) {
        const name = relation.entityMetadata.name
        throw new HardError(`relation(${name}, '${relation.propertyPath}').of(${JSON.stringify(id)}): no ${name} with that key`, { entityName: name })
      }
      const current = (relation.getEntityValue(owner) as ObjectLiteral[] | undefined) ?? []
      const has = (list: readonly ObjectLiteral[], item: ObjectLiteral) => list.some((x) => related.compareEntities(x, item))
      const next = change === 'add' ? [...current, ...items.filter((item) => !has(current, item))] : current.filter((x) => !has(items, x))
      if (next.length === current.length) continue
      // Assigned, not through relation.setEntityValue: that merges into an existing array, so a removal would not show.
      if (relation.embeddedMetadata) relation.setEntityValue(owner, next)
      else (owner as ObjectLiteral)[relation.propertyName] = relation.isLazy ? Promise.resolve(next) : next
      await manager.save(owner)
    }
  })
}

/**
 * @internal Wraps RelationUpdater.update and RelationRemover.remove (behind
 * `relation(...).of(...).add()/remove()/addAndRemove()`): for a many-to-many
 * relation of an entity with event actions they change the relation through
 * a save of each owner, so that its events run. Other relations are left to
 * TypeORM: their UPDATEs of the related rows' foreign keys go through the
 * bulk-write path with events.
 */
export function junctionWritesWithEvents(): void {
  patchMethod<Change>(RelationUpdater.prototype, 'update', (original) =>
    function (this: RelationWork, value: unknown) {
      return withEvents(this) ? changeJunction(this, value, 'add') : original.call(this, value)
    },
  )
  patchMethod<Change>(RelationRemover.prototype, 'remove', (original) =>
    function (this: RelationWork, value: unknown) {
      return withEvents(this) ? changeJunction(this, value, 'remove') : original.call(this, value)
    },
  )
}

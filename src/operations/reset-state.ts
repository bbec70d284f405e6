import type { EntityManager, ObjectLiteral } from 'typeorm'
import { lastStateOf } from '../dispatch/entity-state'
import type { EntityInfo } from '../metadata/entity-info'
import { asInternal } from '../typeorm/internal-work'

/**
 * @internal The state `reset()` goes back to: the snapshot the instance
 * keeps (entities with `resetState: 'snapshot'`, instances made by
 * `EventActions.create`/`fromRecordSet`), else its row as the database
 * holds it now, read by primary key (the last saved state, seen from this
 * manager's transaction). Undefined when there is neither.
 */
export async function resetStateOf(manager: EntityManager, info: EntityInfo, entity: ObjectLiteral): Promise<unknown[] | undefined> {
  const kept = lastStateOf(entity)
  if (kept) return kept
  const id = info.metadata.getEntityIdMap(entity)
  if (!id || Object.values(id).some((v) => v === undefined || v === null)) return undefined
  const row = await asInternal(() =>
    manager
      .createQueryBuilder(info.metadata.target, 'e')
      .whereInIds([id])
      .withDeleted()
      .callListeners(false)
      .getOne(),
  )
  return row ? info.snapshot(row as ObjectLiteral) : undefined
}

/** @internal The update date and version: an UPDATE sets them too, so they belong to the saved state. */
export function stampsOf(info: EntityInfo): string[] {
  return [info.metadata.updateDateColumn, info.metadata.versionColumn].flatMap((c) => (c ? [c.propertyPath] : []))
}

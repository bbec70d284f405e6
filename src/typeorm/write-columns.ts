import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { EntityInfo } from '../metadata/entity-info'

/**
 * @internal One targeted UPDATE of exactly `attrs` of a persisted entity,
 * with listeners off: it is part of an event that is already being
 * dispatched (EventActions.update, or touched columns TypeORM left out).
 */
export async function writeColumns(manager: EntityManager, info: EntityInfo, entity: ObjectLiteral, attrs: Iterable<string>): Promise<void> {
  const values: ObjectLiteral = {}
  for (const attr of attrs) values[attr] = info.read(entity, attr) ?? null
  await manager.createQueryBuilder().update(info.metadata.target).set(values).whereEntity(entity).callListeners(false).updateEntity(false).execute()
}

import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { EntityInfo } from '../metadata/entity-info'

/**
 * @internal One targeted UPDATE of exactly `attrs` of a persisted entity,
 * with listeners off: it is part of an event that is already being
 * dispatched (EventActions.update, or touched columns TypeORM left out).
 * The UPDATE also sets the update date and version: they are read back into
 * the entity, or its next save would take them for changes.
 */
export async function writeColumns(manager: EntityManager, info: EntityInfo, entity: ObjectLiteral, attrs: Iterable<string>): Promise<void> {
  const values: ObjectLiteral = {}
  for (const attr of attrs) setPath(values, attr, info.read(entity, attr) ?? null)
  await manager.createQueryBuilder().update(info.metadata.target).set(values).whereEntity(entity).callListeners(false).updateEntity(true).execute()
}

/**
 * @internal Puts `value` at a dotted path: TypeORM's `set()` takes an embedded column as
 * a nested object (`{ creds: { pin } }`); a dotted key would be ignored and
 * the column written as NULL. Objects on the way are copied, never the
 * entity's own.
 */
export function setPath(target: ObjectLiteral, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    const next: unknown = node[part]
    node = node[part] = typeof next === 'object' && next !== null ? { ...next } : {}
  }
  node[parts[parts.length - 1]!] = value
}

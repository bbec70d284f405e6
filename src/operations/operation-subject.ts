import type { EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm'
import { HardError } from '../basics/errors'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'

// The checks every EventActions operation makes of what it was handed, with the errors that name it.

/** @internal The entity behind an operation's argument, or a HardError naming it. */
export function subjectOf(manager: EntityManager, target: EntityTarget<ObjectLiteral> | ObjectLiteral, where: string): { info: EntityInfo; metadata: EntityMetadata } {
  let metadata: EntityMetadata
  try {
    metadata = manager.connection.getMetadata(typeof target === 'function' ? target : (target as ObjectLiteral).constructor)
  } catch (error) {
    const name = typeof target === 'function' ? target.name : (target as ObjectLiteral)?.constructor?.name
    throw new HardError(`${where}: ${String(name)} is not an entity of this DataSource`, { cause: error })
  }
  return { info: entityInfo(metadata), metadata }
}

/** @internal Every name is an attribute of the entity. */
export function checkAttributes(info: EntityInfo, attrs: readonly string[], where: string): void {
  if (!Array.isArray(attrs)) throw new HardError(`${where}: attributes must be a list of names, got ${JSON.stringify(attrs)}`, { entityName: info.name })
  for (const attr of attrs) {
    if (typeof attr !== 'string' || !info.attributes.has(attr)) throw HardError.unknownAttribute(info.name, String(attr), where)
  }
}

/** @internal The operation got an instance of the entity class. */
export function checkInstance(info: EntityInfo, entity: unknown, where: string): asserts entity is ObjectLiteral {
  if (!info.isInstance(entity)) {
    throw new HardError(`${where} needs a ${info.name} instance, got ${entity === null ? 'null' : typeof entity}`, { entityName: info.name })
  }
}

/** @internal Every primary key attribute has a value. */
export function checkPersisted(info: EntityInfo, entity: ObjectLiteral, where: string): void {
  // A null key counts as missing too: TypeORM 0.3 would drop it from the WHERE and read another row.
  for (const key of info.metadata.primaryColumns) {
    const value: unknown = key.getEntityValue(entity)
    if (value === undefined || value === null) {
      throw new HardError(`${where} needs a persisted entity: its primary key '${key.propertyPath}' is ${String(value)}`, {
        entityName: info.name,
        attribute: key.propertyPath,
      })
    }
  }
}

import type { ObjectLiteral, UpdateEvent } from 'typeorm'
import { AttributeGroup } from '../basics/attribute-group'
import { EventActionType } from '../basics/event-action-type'
import { touchedOf } from '../dispatch/entity-state'
import type { EntityInfo } from '../metadata/entity-info'
import { writtenColumns } from './written-columns'

// The groups of TypeORM's write events: what an INSERT or UPDATE touches and what it wrote.

/** @internal Touched attributes that TypeORM's UPDATE left out (they did not change), or undefined. */
export function unwrittenTouched(info: EntityInfo, entity: ObjectLiteral, group: AttributeGroup | null): string[] | undefined {
  const touched = touchedOf(entity)
  if (!touched) return undefined
  // Only what is stored in the row can be written (not one-to-many or many-to-many relations).
  const missing = [...touched].filter((t) => !group?.has(t) && info.metadata.findColumnsWithPropertyPath(t).length > 0)
  return missing.length ? missing : undefined
}

/** @internal The group of an Insert/Update with the attributes `touch` marked; `consume` forgets them (Post). */
export function withTouched(entity: ObjectLiteral, group: AttributeGroup | null, type: EventActionType, consume = false): AttributeGroup | null {
  if (type !== EventActionType.Insert && type !== EventActionType.Update) return group
  const touched = touchedOf(entity, consume)
  if (!touched || !group) return group
  let missing = false
  for (const t of touched) if (!group.has(t)) missing = true
  return missing ? new AttributeGroup([...group, ...touched]) : group
}

// The instances whose next Post Update event carries exactly the columns written (bulk-update.ts).
const exactColumns = new WeakSet<ObjectLiteral>()

/** @internal The next Post Update of `entity` lists exactly the columns its UPDATE wrote: they need no second diff. */
export function markWrittenColumns(entity: ObjectLiteral): void {
  exactColumns.add(entity)
}

/** @internal The group of an Update: TypeORM's changed columns and relations, by property path. */
export function updateGroup(event: UpdateEvent<ObjectLiteral>): AttributeGroup {
  const names: string[] = []
  for (const column of event.updatedColumns) {
    names.push(column.relationMetadata ? column.relationMetadata.propertyPath : column.propertyPath)
  }
  for (const relation of event.updatedRelations) names.push(relation.propertyPath)
  return new AttributeGroup(names)
}

/**
 * @internal The group of a Post Update: what the UPDATE wrote. TypeORM keeps a
 * column in `updatedColumns` once it differed, even when the Pre handler set
 * it back to the stored value (a name lower-cased to what is stored): TypeORM
 * then does not write it, so it is not part of the event, nor of its audit
 * entry. The version and update-date columns, which TypeORM's UPDATE always
 * sets, are part of it.
 */
export function postUpdateGroup(event: UpdateEvent<ObjectLiteral>): AttributeGroup {
  const group = updateGroup(event)
  const { metadata } = event
  const entity = event.entity as ObjectLiteral
  // A bulk write found the written columns itself, just before: the event's own list is exact.
  const written = exactColumns.delete(entity) ? new Set(event.updatedColumns) : writtenColumns(metadata, entity, event.databaseEntity)
  const names = [...group].filter((name) => {
    const column = metadata.findColumnWithPropertyPath(name)
    return !column || column.relationMetadata !== undefined || written.has(column)
  })
  // TypeORM's UPDATE always sets these (version + 1, the current time), even when the new time reads as the old one.
  for (const column of [metadata.versionColumn, metadata.updateDateColumn]) {
    if (column && !names.includes(column.propertyPath)) names.push(column.propertyPath)
  }
  return names.length === group.size && names.every((name) => group.has(name)) ? group : new AttributeGroup(names)
}

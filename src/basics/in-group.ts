import type { ObjectLiteral } from 'typeorm'
import type { AttributeGroup } from './attribute-group'
import { assertAttribute } from './entity-attributes'

/**
 * True when `attr` is in `group` (the CaseMaster `boDesc.inGroup`); an
 * embedded's name is in the group when any of its columns is
 * (`inGroup(this, 'address', group)` when `address.street` changed). A `null`
 * group (Delete) gives false. An attribute the entity does not have throws a
 * `HardError` naming entity and attribute, so that a typo in a rule cannot
 * silently never fire.
 *
 * @example
 * ```ts
 * if (timing === EventActionTiming.Pre && inGroup(this, 'postcode', group)) this.postcode = format(this.postcode)
 * ```
 */
export function inGroup<E extends ObjectLiteral>(entity: E, attr: keyof E & string, group: AttributeGroup | null): boolean {
  assertAttribute(entity.constructor, entity.constructor.name, attr, 'inGroup')
  return group !== null && group.touches(attr)
}

/**
 * True when at least one of `attrs` (a name or an array of names) is in
 * `group` (the CaseMaster `boDesc.anyInGroup`). Every name is checked against
 * the entity's attributes, like {@link inGroup}.
 */
export function anyInGroup<E extends ObjectLiteral>(
  entity: E,
  attrs: (keyof E & string) | readonly (keyof E & string)[],
  group: AttributeGroup | null,
): boolean {
  const names: readonly string[] = typeof attrs === 'string' ? [attrs] : attrs
  for (const name of names) assertAttribute(entity.constructor, entity.constructor.name, name, 'anyInGroup')
  if (group === null) return false
  for (const name of names) if (group.touches(name)) return true
  return false
}

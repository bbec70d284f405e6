import { getMetadataArgsStorage } from 'typeorm'
import { HardError } from './errors'

// The one cache of attribute names per class (read from TypeORM's decorator storage).
const attributesByClass = new WeakMap<Function, ReadonlySet<string>>()

/** @internal The class and its ancestors, nearest first: the classes TypeORM reads decorators from. */
export function inheritanceTree(target: Function): Function[] {
  const tree: Function[] = []
  for (let cls: unknown = target; typeof cls === 'function' && cls !== Function.prototype; cls = Object.getPrototypeOf(cls)) {
    tree.push(cls as Function)
  }
  return tree
}

/**
 * @internal The attribute names of an entity class: columns, relations,
 * embeddeds (and their dotted column paths), read from the TypeORM decorators
 * so that it works before any DataSource is initialized.
 */
export function attributeNamesOf(target: Function): ReadonlySet<string> {
  let names = attributesByClass.get(target)
  if (!names) {
    names = collectAttributeNames(target, '')
    attributesByClass.set(target, names)
  }
  return names
}

function collectAttributeNames(target: Function, prefix: string): Set<string> {
  const storage = getMetadataArgsStorage()
  const tree = inheritanceTree(target)
  const names = new Set<string>()
  for (const column of storage.filterColumns(tree)) names.add(prefix + column.propertyName)
  for (const relation of storage.filterRelations(tree)) names.add(prefix + relation.propertyName)
  for (const embedded of storage.filterEmbeddeds(tree)) {
    names.add(prefix + embedded.propertyName)
    const type = embedded.type()
    if (typeof type === 'function') {
      for (const inner of collectAttributeNames(type as Function, `${prefix}${embedded.propertyName}.`)) names.add(inner)
    }
  }
  return names
}

/** @internal Throws a HardError naming entity and attribute when `attr` is not one of the entity's attributes. */
export function assertAttribute(target: Function, entityName: string, attr: string, where: string): void {
  if (!attributeNamesOf(target).has(attr)) throw HardError.unknownAttribute(entityName, attr, where)
}

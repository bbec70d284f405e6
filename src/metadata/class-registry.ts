import { inheritanceTree } from '../basics/entity-attributes'

/**
 * @internal What a member decorator records per class (`@OnEventAction`
 * methods, `@Automatic` attributes), read back for a class with its
 * ancestors' entries first, each class's in declaration order.
 */
export interface ClassRegistry<T> {
  add(target: Function, entry: T): void
  of(target: Function): readonly T[]
}

/** @internal A new, empty registry: each decorator keeps exactly one. */
export function classRegistry<T>(): ClassRegistry<T> {
  const byClass = new WeakMap<Function, T[]>()
  return {
    add(target, entry) {
      const list = byClass.get(target)
      if (list) list.push(entry)
      else byClass.set(target, [entry])
    },
    of(target) {
      return inheritanceTree(target)
        .reverse()
        .flatMap((cls) => byClass.get(cls) ?? [])
    },
  }
}

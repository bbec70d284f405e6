import { inheritanceTree } from '../basics/entity-attributes'

/** Per-entity settings, given with {@link EventActionOptions}. */
export interface EntityEventActionOptions {
  /**
   * Validate the entity with class-validator after its Pre Insert/Pre Update
   * handler. Overrides the global `validate` setting for this entity.
   * Defaults to the global setting (on).
   */
  validate?: boolean
  /**
   * `'allow'` lets bulk writes (`update(criteria, values)`, `delete(criteria)`,
   * QueryBuilder writes, inserts of plain objects) through without events for
   * this entity. Defaults to `'forbid'`: they throw `BulkWriteError`.
   */
  bulkWrites?: 'allow' | 'forbid'
}

// The one registry of @EventActionOptions, per class.
const optionsByClass = new WeakMap<Function, EntityEventActionOptions>()

/**
 * Class decorator with per-entity settings. Subclasses inherit them.
 *
 * @example
 * ```ts
 * @Entity()
 * @EventActionOptions({ validate: false, bulkWrites: 'allow' })
 * class ImportRow { ... }
 * ```
 */
export function EventActionOptions(options: EntityEventActionOptions): ClassDecorator {
  return (target) => {
    optionsByClass.set(target, { ...options })
  }
}

/** @internal The options of a class or its nearest decorated ancestor. */
export function entityOptionsOf(target: Function): EntityEventActionOptions {
  for (const cls of inheritanceTree(target)) {
    const found = optionsByClass.get(cls)
    if (found) return found
  }
  return {}
}

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
   * What TypeORM's set-based writes of this entity do (`update(criteria,
   * values)`, `delete(criteria)`, `increment()`, `softDelete()`/`restore()`,
   * `upsert()`, QueryBuilder writes, inserts and saves of plain objects):
   * - `'events'`: each matching row fires its events as if it had been loaded
   *   and saved/removed, with set-based SQL (docs/bulk-writes.md);
   * - `'forbid'`: they throw `BulkWriteError`, for teams that want bulk writes
   *   to stay explicit;
   * - `'allow'`: they go through as TypeORM runs them, without events.
   * Defaults to the global `bulkWrites` setting (`'events'`).
   */
  bulkWrites?: 'events' | 'allow' | 'forbid'
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

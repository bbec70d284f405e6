import { inheritanceTree } from '../basics/entity-attributes'
import type { EventActionType } from '../basics/event-action-type'

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
  /**
   * The event types this entity's `_eventAction` handles: it is called for
   * these only, and an event no handler of the entity (its `_eventAction` or
   * an `@OnEventAction`) handles is not dispatched at all, which saves its
   * cost (on Load, per row read). Without it, `_eventAction` is called for
   * every event type. Entities with only `@OnEventAction` handlers need no
   * declaration: their types are known.
   */
  handles?: readonly EventActionType[]
  /**
   * Where `EventActions.reset()` finds the state to go back to:
   * - `'reload'`: it reads the row again by primary key when `reset()` is
   *   called (the database holds the last saved state); nothing is kept per
   *   loaded row;
   * - `'snapshot'`: every loaded or saved instance keeps a copy of its
   *   attribute values in memory (a cost per row read), so `reset()` goes
   *   back to the state as this process loaded it, without a query.
   * Defaults to `'snapshot'` when the entity declares a Reset handler
   * (`handles` or `@OnEventAction`), else `'reload'`.
   */
  resetState?: 'reload' | 'snapshot'
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
 *
 * // _eventAction is called for Insert and Update only: reading rows costs nothing.
 * @Entity()
 * @EventActionOptions({ handles: [EventActionType.Insert, EventActionType.Update] })
 * class Invoice { ... }
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

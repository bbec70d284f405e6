import type { ObjectLiteral } from 'typeorm'
import type { EntityInfo } from '../metadata/entity-info'
import { hiddenSlot } from '../basics/hidden-slot'

/**
 * @internal Per-instance state of the business-object operations. It never
 * reaches a column, never shows on the instance and goes away with it:
 * - the last loaded or saved state (for `reset`): attribute values in the
 *   entity's attribute order, recorded after Post Load/Insert/Update for
 *   entities with `resetState: 'snapshot'`, and after `create`. With many
 *   rows loaded it can be one per row, so it lives in a hidden slot (see
 *   hidden-slot.ts for what that costs against the alternatives);
 * - touched attributes (`touch`, rare): a WeakMap.
 */
const lastState = hiddenSlot<unknown[] | undefined>()
const touchedAttributes = new WeakMap<ObjectLiteral, Set<string>>()

/** @internal */
export function rememberState(info: EntityInfo, entity: ObjectLiteral): void {
  lastState.set(entity, info.snapshot(entity))
}

/**
 * @internal After a write of only some attributes (`EventActions.update`):
 * the saved state is the state before it (the last known, else the database
 * row) with just those attributes taken from the entity.
 */
export function rememberWritten(info: EntityInfo, entity: ObjectLiteral, written: Iterable<string>, databaseRow: ObjectLiteral): void {
  const base = lastState.get(entity) ?? info.snapshot(databaseRow)
  lastState.set(entity, info.patchSnapshot(base, entity, written))
}

/**
 * @internal A write of an entity that keeps no snapshot: a state recorded
 * before it (by `create`) is stale now, and reset() reads the row instead.
 */
export function forgetState(entity: ObjectLiteral): void {
  if (lastState.get(entity) !== undefined) lastState.set(entity, undefined)
}

/** @internal The last loaded or saved state, or undefined when there is none. */
export function lastStateOf(entity: ObjectLiteral): unknown[] | undefined {
  return lastState.get(entity)
}

/** @internal */
export function touch(entity: ObjectLiteral, attributes: readonly string[]): void {
  const set = touchedAttributes.get(entity) ?? new Set<string>()
  for (const a of attributes) set.add(a)
  touchedAttributes.set(entity, set)
}

/** @internal The touched attributes, or undefined; `consume` forgets them (after the write they were for). */
export function touchedOf(entity: ObjectLiteral, consume = false): ReadonlySet<string> | undefined {
  const set = touchedAttributes.get(entity)
  if (set && consume) touchedAttributes.delete(entity)
  return set
}

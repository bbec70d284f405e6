import type { ObjectLiteral } from 'typeorm'
import { EventActionType } from '../basics/event-action-type'
import { hiddenSlot } from '../basics/hidden-slot'

// The running event types of an instance, as a bitmask in a hidden slot on
// the instance itself (see hidden-slot.ts): transient, invisible, and gone
// with the instance.
const running = hiddenSlot<number>()

const BIT: Record<EventActionType, number> = {
  [EventActionType.BO2BO]: 1 << 0,
  [EventActionType.Create]: 1 << 1,
  [EventActionType.Delete]: 1 << 2,
  [EventActionType.Insert]: 1 << 3,
  [EventActionType.Load]: 1 << 4,
  [EventActionType.Reset]: 1 << 5,
  [EventActionType.RS2BO]: 1 << 6,
  [EventActionType.SetAutomatics]: 1 << 7,
  [EventActionType.Update]: 1 << 8,
}

/** @internal True while a handler of this instance for `type` is running. */
export function isRunning(entity: ObjectLiteral, type: EventActionType): boolean {
  const flags = running.get(entity)
  return flags !== undefined && (flags & BIT[type]) !== 0
}

/** @internal Marks `type` as running for the instance; pair with {@link leave} in `finally`. */
export function enter(entity: ObjectLiteral, type: EventActionType): void {
  running.set(entity, (running.get(entity) ?? 0) | BIT[type])
}

/** @internal */
export function leave(entity: ObjectLiteral, type: EventActionType): void {
  running.set(entity, (running.get(entity) ?? 0) & ~BIT[type])
}

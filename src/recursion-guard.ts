import type { ObjectLiteral } from 'typeorm'
import { EventActionType } from './event-action-type'

// The running event types of an instance, as a bitmask under a symbol key:
// a transient flag on the instance itself (TypeORM persists only column
// properties, and the property is non-enumerable so it never shows in JSON,
// console output or Object.assign copies).
const RUNNING: unique symbol = Symbol('typeorm-event-actions.running')

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

type Flagged = ObjectLiteral & { [RUNNING]?: number }

/** @internal True while a handler of this instance for `type` is running. */
export function isRunning(entity: ObjectLiteral, type: EventActionType): boolean {
  return (((entity as Flagged)[RUNNING] ?? 0) & BIT[type]) !== 0
}

/** @internal Marks `type` as running for the instance; pair with {@link leave} in `finally`. */
export function enter(entity: ObjectLiteral, type: EventActionType): void {
  const flagged = entity as Flagged
  const current = flagged[RUNNING]
  if (current === undefined) {
    Object.defineProperty(flagged, RUNNING, { value: BIT[type], writable: true, enumerable: false, configurable: true })
  } else {
    flagged[RUNNING] = current | BIT[type]
  }
}

/** @internal */
export function leave(entity: ObjectLiteral, type: EventActionType): void {
  const flagged = entity as Flagged
  flagged[RUNNING] = (flagged[RUNNING] ?? 0) & ~BIT[type]
}

import type { AttributeGroup, EventActionTiming, EventActionType } from '../../src'

/** One recorded event: `[entity#id, timing, type, group names or null]`. */
export type Recorded = [string, EventActionTiming, EventActionType, string[] | null]

/** Events recorded by the test entities, in the order their handlers ran. */
export const recorded: Recorded[] = []

/** Empties {@link recorded}; call it in `beforeEach`. */
export function resetRecorded(): void {
  recorded.length = 0
}

/** Records one event; used inside a test entity's `_eventAction`. */
export function record(
  label: string,
  timing: EventActionTiming,
  type: EventActionType,
  group: AttributeGroup | null,
): void {
  recorded.push([label, timing, type, group ? group.toArray().sort() : null])
}

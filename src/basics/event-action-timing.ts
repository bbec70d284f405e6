/**
 * When an event action runs relative to the work of its event.
 *
 * `Pre` runs before the work (before the SQL for a write, before the values
 * are applied for Create/BO2BO/RS2BO/Reset) and may veto it by throwing;
 * `Post` runs after the work, still inside the same transaction.
 */
export enum EventActionTiming {
  /** Before the event's work; throwing vetoes it. */
  Pre = 'Pre',
  /** After the event's work, inside the same transaction. */
  Post = 'Post',
}

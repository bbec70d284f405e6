/**
 * The lifecycle events an entity's `_eventAction` is called for.
 *
 * The persistence events (`Insert`, `Update`, `Delete`, `Load`) are fired by
 * TypeORM writes and reads; the business-object events (`Create`, `Reset`,
 * `BO2BO`, `RS2BO`, `SetAutomatics`) are fired by the `EventActions` operations.
 */
export enum EventActionType {
  /** Another business object's values are copied into this one. */
  BO2BO = 'BO2BO',
  /** A new instance is created through `EventActions.create`. */
  Create = 'Create',
  /** The row is removed (`remove()`), or soft-removed (`softRemove()`, with `ctx.soft`). */
  Delete = 'Delete',
  /** A new row is written (`save()` of a new instance, `insert()` of an instance). */
  Insert = 'Insert',
  /** The entity was read and is about to reach the caller of `find*`/`getOne`/`getMany`. */
  Load = 'Load',
  /** Attributes are reverted to their last loaded or saved state. */
  Reset = 'Reset',
  /** The instance is filled from a raw record set row. */
  RS2BO = 'RS2BO',
  /** Automatic attributes (timestamps, sequence numbers, computed defaults) are set. */
  SetAutomatics = 'SetAutomatics',
  /** Changed attributes of an existing row are written (`save()`, `recover()`). */
  Update = 'Update',
}

/** The old and new value of one attribute. */
export interface AttributeChange {
  /**
   * The value before the event: `undefined` from `ctx.changes()` when there
   * was none (e.g. Insert), `null` in an action's changes for Insert.
   */
  readonly old: unknown
  /** The value the event writes; `null` in an action's changes for Delete. */
  readonly new: unknown
}

import type { AttributeChange } from '../basics/attribute-change'

/** One entity written during an action, as a Post-action handler sees it. */
export interface ActionChange {
  /** The entity's TypeORM metadata name (its class name unless renamed), e.g. `'Order'`. */
  readonly entityName: string
  /** The primary key: its value, or an object of values for composite keys. */
  readonly id: unknown
  /** The kind of write: `'insert'`, `'update'` (also `recover()`) or `'delete'` (also `softRemove()`). */
  readonly operation: 'insert' | 'update' | 'delete'
  /** The attributes written (`null` for delete). */
  readonly group: readonly string[] | null
  /** `{ attr: { old, new } }`; for delete, the last values. */
  readonly changes: Readonly<Record<string, AttributeChange>>
}

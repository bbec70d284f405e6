import type { AttributeGroup, EventActionContext, EventActionTiming, EventActionType } from '../src'

/** Every event the demo entities saw, in order, for printing. */
export const eventLog: string[] = []

export function logEvent(
  timing: EventActionTiming,
  type: EventActionType,
  group: AttributeGroup | null,
  ctx: EventActionContext,
): void {
  const indent = '  '.repeat(ctx.depth - 1)
  // TypeORM clears the key of a removed instance; the previous value keeps it.
  const id = (ctx.entity as { id?: number }).id ?? (type === 'Delete' ? ctx.previous('id') : undefined) ?? 'new'
  const label = `${ctx.entityName}#${String(id)}`
  const attrs = group ? `[${group.toArray().join(', ')}]` : 'null'
  eventLog.push(`${indent}${label} ${timing} ${type} ${attrs}`)
}

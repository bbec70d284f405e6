import { HardError } from '../basics/errors'
import { EventActionType } from '../basics/event-action-type'
import type { DeclaredHandler } from './declared-handlers'
import type { EntityEventActionOptions } from './event-action-options'

/** @internal Which event types reach an entity's handlers, and whether its instances keep a reset snapshot. */
export interface HandledTypes {
  /** True when some handler of the entity handles `type` (all types without a declaration). */
  readonly handles: Readonly<Record<EventActionType, boolean>>
  /** True when loaded and saved instances keep a copy of their values for `reset()`. */
  readonly keepsState: boolean
}

const ALL_TYPES = Object.values(EventActionType)

/**
 * @internal The event types an entity's handlers can observe: those its
 * `_eventAction` declares (`handles`; every type without a declaration)
 * and those its `@OnEventAction` methods name. An entity without handlers
 * observes none.
 */
export function handledTypes(
  entityName: string,
  options: EntityEventActionOptions,
  hasEventAction: boolean,
  declared: readonly DeclaredHandler[],
): HandledTypes {
  const { handles, resetState } = options
  if (handles !== undefined && (!Array.isArray(handles) || handles.some((t) => !ALL_TYPES.includes(t)))) {
    const bad = Array.isArray(handles) ? handles.filter((t) => !ALL_TYPES.includes(t)).map(String).join(', ') : String(handles)
    throw new HardError(`@EventActionOptions handles of ${entityName} must list event types (${ALL_TYPES.join(', ')}), got ${bad}`, { entityName })
  }
  if (resetState !== undefined && resetState !== 'reload' && resetState !== 'snapshot') {
    throw new HardError(`@EventActionOptions resetState of ${entityName} must be 'reload' or 'snapshot', got ${String(resetState)}`, { entityName })
  }
  const own = hasEventAction ? (handles ?? ALL_TYPES) : []
  const types = new Set<EventActionType>([...own, ...declared.flatMap((d) => [...d.types])])
  const record = Object.fromEntries(ALL_TYPES.map((t) => [t, types.has(t)])) as Record<EventActionType, boolean>
  // A declared Reset handler means the entity uses reset(): its instances keep the state in memory.
  const declaresReset = (hasEventAction && handles?.includes(EventActionType.Reset) === true) || declared.some((d) => d.types.has(EventActionType.Reset))
  return { handles: record, keepsState: resetState === 'snapshot' || (resetState === undefined && declaresReset) }
}

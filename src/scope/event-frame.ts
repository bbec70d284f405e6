import type { ObjectLiteral } from 'typeorm'
import type { AttributeGroup } from '../basics/attribute-group'
import type { EntityInfo } from '../metadata/entity-info'
import type { EventChainLink } from '../basics/errors'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'

/**
 * @internal One running handler. Frames form a chain through `parent`, kept
 * in the async scope so that a write started inside a handler (on any
 * connection) knows it is nested, how deep, and in which chain. The printable
 * link is built only when an error needs it.
 */
export interface EventFrame {
  readonly info: EntityInfo
  readonly entity: ObjectLiteral
  readonly timing: EventActionTiming
  readonly type: EventActionType
  readonly group: AttributeGroup | null
  readonly depth: number
  readonly parent: EventFrame | undefined
}

/** @internal The chain from the outermost frame down to `frame`, printable. */
export function chainOf(frame: EventFrame): EventChainLink[] {
  const chain: EventChainLink[] = []
  for (let f: EventFrame | undefined = frame; f; f = f.parent) {
    chain.unshift({ entityName: f.info.name, id: f.info.idOf(f.entity), timing: f.timing, type: f.type })
  }
  return chain
}

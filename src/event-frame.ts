import type { ObjectLiteral } from 'typeorm'
import { scopes, type AsyncScope } from './async-scope'
import type { EntityInfo } from './entity-info'
import type { EventChainLink } from './errors'
import type { EventActionTiming } from './event-action-timing'
import type { EventActionType } from './event-action-type'

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
  readonly depth: number
  readonly parent: EventFrame | undefined
}

/** @internal The running handler's frame, if any. */
export function currentFrame(): EventFrame | undefined {
  return scopes.getStore()?.frame
}

/** @internal The whole async scope (read once per handler call on the hot path). */
export function currentScope(): AsyncScope | undefined {
  return scopes.getStore()
}

/**
 * @internal Runs `fn(frame)` with `frame` as the running handler, inside
 * `outer`'s action. The frame is the only argument: the handler's context is
 * its frame, so nothing else is allocated per call.
 */
export function runInFrame<F extends EventFrame, R>(outer: AsyncScope | undefined, frame: F, fn: (frame: F) => R): R {
  return scopes.run({ frame, action: outer?.action, internalLoad: false, changes: outer?.changes }, fn, frame)
}

/** @internal The chain from the outermost frame down to `frame`, printable. */
export function chainOf(frame: EventFrame): EventChainLink[] {
  const chain: EventChainLink[] = []
  for (let f: EventFrame | undefined = frame; f; f = f.parent) {
    chain.unshift({ entityName: f.info.name, id: f.info.idOf(f.entity), timing: f.timing, type: f.type })
  }
  return chain
}

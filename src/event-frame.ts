import { AsyncLocalStorage } from 'node:async_hooks'
import type { EventChainLink } from './errors'

/**
 * @internal One running handler. Frames form a chain through `parent`, kept
 * in AsyncLocalStorage so that a write started inside a handler (on any
 * connection) knows it is nested, how deep, and in which chain.
 */
export interface EventFrame {
  readonly link: EventChainLink
  readonly depth: number
  readonly parent: EventFrame | undefined
}

/** @internal */
export const frames = new AsyncLocalStorage<EventFrame>()

/** @internal The chain from the outermost frame to `link`. */
export function chainOf(parent: EventFrame | undefined, link: EventChainLink): EventChainLink[] {
  const chain = [link]
  for (let f = parent; f; f = f.parent) chain.unshift(f.link)
  return chain
}

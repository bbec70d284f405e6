import { AsyncLocalStorage } from 'node:async_hooks'
import type { ActionContext } from './action-context'
import type { ActionChange } from './action-events'
import type { EventFrame } from './event-frame'

/**
 * @internal Everything the library carries along an async call chain, in
 * ONE AsyncLocalStorage: on Node 20 every promise anyone creates pays for
 * each store in use, so three stores cost TypeORM's own promises three times.
 */
export interface AsyncScope {
  /** The running handler (see event-frame.ts). */
  readonly frame: EventFrame | undefined
  /** The running action (runAction). */
  readonly action: ActionContext | undefined
  /** True while TypeORM reloads database copies for a save/remove. */
  readonly internalLoad: boolean
  /**
   * Where the running actions collect the entities they write (only those
   * with a Post-action handler that wants them): the enclosing actions' lists
   * too, since a nested action's writes are also the outer action's.
   */
  readonly changes: readonly ActionChange[][] | undefined
}

/** @internal */
export const scopes = new AsyncLocalStorage<AsyncScope>()

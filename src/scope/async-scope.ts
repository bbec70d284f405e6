import { AsyncLocalStorage } from 'node:async_hooks'
import type { ActionContext } from './action-context'
import type { ActionChange } from './action-change'
import type { EventFrame } from './event-frame'

/**
 * @internal Everything the library carries along an async call chain, in
 * ONE AsyncLocalStorage: on Node 20 every promise anyone creates pays for
 * each store in use, so three stores cost TypeORM's own promises three times.
 *
 * A running handler's context is itself the store of its call (it has these
 * four fields as getters), so that a handler call allocates one object, not
 * a context and a scope: the field names must not clash with the context's
 * public ones (`ctx.action` is the action's name there).
 */
export interface AsyncScope {
  /** The running handler (see event-frame.ts). */
  readonly frame: EventFrame | undefined
  /** The running action (runAction). */
  readonly runningAction: ActionContext | undefined
  /**
   * True while TypeORM does its own work inside a save or remove: reloading
   * database copies, keeping tree columns and closure tables. That work fires
   * no Load events and passes the bulk-write guard.
   */
  readonly internal: boolean
  /**
   * Where the running actions collect the entities they write (only those
   * with a Post-action handler that wants them): the enclosing actions' lists
   * too, since a nested action's writes are also the outer action's.
   */
  readonly changeLists: readonly ActionChange[][] | undefined
}

/** @internal */
export const scopes = new AsyncLocalStorage<AsyncScope>()

/** @internal The running handler's frame, if any. */
export function currentFrame(): EventFrame | undefined {
  return scopes.getStore()?.frame
}

/** @internal The whole async scope (read once per handler call on the hot path). */
export function currentScope(): AsyncScope | undefined {
  return scopes.getStore()
}

/**
 * @internal Runs `fn(frame)` with `frame` as the running handler. The frame
 * is the scope (it carries the enclosing action and change lists), so
 * nothing else is allocated per call.
 */
export function runInFrame<F extends EventFrame & AsyncScope, R>(frame: F, fn: (frame: F) => R): R {
  return scopes.run(frame, fn, frame)
}

/** The action the calling code runs in, or undefined outside any `runAction`. */
export function currentAction(): ActionContext | undefined {
  return scopes.getStore()?.runningAction
}

import { scopes } from './async-scope'
import { HardError } from './errors'

/** The user who acts: an `id` and anything else the application keeps. */
export interface ActionUser {
  readonly id: string | number
  readonly [key: string]: unknown
}

/** What `runAction` is told about the action it runs. */
export interface ActionContext {
  /** The action's name, e.g. `'orders:submit'`. */
  readonly name: string
  /** Who acts; audit entries record `String(user.id)`. */
  readonly user?: ActionUser
  /** The request this action serves (an HTTP request id, a job id). */
  readonly requestId?: string
}

function checkAction(action: ActionContext): ActionContext {
  if (action === null || typeof action !== 'object') {
    throw new HardError(`runAction needs { name, user?, requestId? }, got ${String(action)}`)
  }
  if (typeof action.name !== 'string' || action.name.trim() === '') {
    throw new HardError(`runAction needs a non-empty action name, got ${JSON.stringify(action.name)}`)
  }
  const user = action.user
  if (user !== undefined && (user === null || typeof user !== 'object' || (typeof user.id !== 'string' && typeof user.id !== 'number'))) {
    throw new HardError(`runAction '${action.name}': user must be an object with a string or number id, got ${JSON.stringify(user)}`)
  }
  if (action.requestId !== undefined && typeof action.requestId !== 'string') {
    throw new HardError(`runAction '${action.name}': requestId must be a string, got ${JSON.stringify(action.requestId)}`)
  }
  return Object.freeze({ ...action })
}

/**
 * Runs `fn` inside an action: every event fired while it runs (in any
 * transaction it starts) sees `ctx.action`, `ctx.user` and `ctx.requestId`,
 * and audit entries record them. Returns what `fn` returns. Nested calls
 * see the innermost action.
 *
 * @example
 * ```ts
 * await runAction({ name: 'orders:submit', user: { id: req.user.id }, requestId: req.id }, () =>
 *   dataSource.getRepository(Order).save(order),
 * )
 * ```
 */
export function runAction<T>(action: ActionContext, fn: () => T): T {
  const checked = checkAction(action)
  const outer = scopes.getStore()
  return scopes.run({ frame: outer?.frame, action: checked, internalLoad: false }, fn)
}

/** The action the calling code runs in, or undefined outside any `runAction`. */
export function currentAction(): ActionContext | undefined {
  return scopes.getStore()?.action
}

import type { DataSource, EntityManager } from 'typeorm'
import { HardError } from '../basics/errors'
import type { ActionContext } from '../scope/action-context'
import type { ActionChange } from '../scope/action-change'
import { scopes } from '../scope/async-scope'
import { pendingChanges } from '../transaction/transaction-state'
import { checkActionName, checkAuditText, type ActionEvents, type ActionEventContext } from './action-events'
import { durableSinkOf, recordDurableJobs } from './durable-jobs'
import type { JobSink } from '../transaction/pending-job'

/** Options of {@link runAction} that bring in action events and a transaction. */
export interface RunActionOptions {
  /** The registry whose handlers bound to this action run around `fn`. */
  events?: ActionEvents
  /** Needed with `transaction: true`. */
  dataSource?: DataSource
  /**
   * Run `fn(manager)` in one transaction that wraps the whole action;
   * after-commit Post-action handlers run once it committed. Without it, each
   * write in `fn` commits on its own. Defaults to `false`.
   */
  transaction?: boolean
}

// A BCP 47 language tag, loosely: a language and optional subtags.
const LOCALE = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/

function checkAction(action: ActionContext): ActionContext {
  if (action === null || typeof action !== 'object') {
    throw new HardError(`runAction needs { name, user?, requestId? }, got ${String(action)}`)
  }
  if (typeof action.name !== 'string' || action.name.trim() === '') {
    throw new HardError(`runAction needs a non-empty action name, got ${JSON.stringify(action.name)}`)
  }
  checkActionName(action.name, false)
  const user = action.user
  if (user !== undefined && (user === null || typeof user !== 'object' || (typeof user.id !== 'string' && typeof user.id !== 'number'))) {
    throw new HardError(`runAction '${action.name}': user must be an object with a string or number id, got ${JSON.stringify(user)}`)
  }
  if (user !== undefined) checkAuditText(`runAction '${action.name}': user.id`, String(user.id))
  if (action.requestId !== undefined && typeof action.requestId !== 'string') {
    throw new HardError(`runAction '${action.name}': requestId must be a string, got ${JSON.stringify(action.requestId)}`)
  }
  if (action.requestId !== undefined) checkAuditText(`runAction '${action.name}': requestId`, action.requestId)
  if (action.locale !== undefined && (typeof action.locale !== 'string' || !LOCALE.test(action.locale))) {
    throw new HardError(`runAction '${action.name}': locale must be a language tag such as 'en' or 'pt-BR', got ${JSON.stringify(action.locale)}`)
  }
  if (action.params !== undefined && (action.params === null || typeof action.params !== 'object')) {
    throw new HardError(`runAction '${action.name}': params must be an object, got ${JSON.stringify(action.params)}`)
  }
  return Object.freeze({ ...action })
}

/**
 * Runs `fn` inside an action: every event fired while it runs (in any
 * transaction it starts) sees `ctx.action`, `ctx.user` and `ctx.requestId`,
 * and audit entries record them. Returns what `fn` returns. Nested calls
 * see the innermost action.
 *
 * With `options.events`, the Pre-action handlers bound to the action run
 * first (one throwing blocks the action: `fn` never runs), then `fn`, then
 * the Post-action handlers with `fn`'s result and every entity it wrote.
 * They never run when `fn` throws. With `transaction: true` (and
 * `dataSource`), `fn(manager)` runs in one transaction; `'sync'` Post-action
 * handlers run inside it before commit, the others after it committed.
 *
 * @example
 * ```ts
 * await runAction({ name: 'orders:edit', user: { id: req.user.id }, requestId: req.id }, () =>
 *   dataSource.getRepository(Order).save(order),
 * )
 * await runAction({ name: 'orders:submit', user, params: { id } }, (manager) => submit(manager!, id), {
 *   events, dataSource, transaction: true,
 * })
 * ```
 */
export function runAction<T>(action: ActionContext, fn: () => T): T
export function runAction<T>(action: ActionContext, fn: (manager: EntityManager | undefined) => T | Promise<T>, options: RunActionOptions): Promise<T>
export function runAction<T>(
  action: ActionContext,
  fn: (manager?: EntityManager) => T | Promise<T>,
  options?: RunActionOptions,
): T | Promise<T> {
  const checked = checkAction(action)
  if (typeof fn !== 'function') throw new HardError(`runAction '${checked.name}' needs a function to run`)
  const outer = scopes.getStore()
  if (!options) return scopes.run({ frame: outer?.frame, runningAction: checked, internal: false, changeLists: outer?.changeLists }, fn) as T
  if (options.transaction && !options.dataSource) {
    throw new HardError(`runAction '${checked.name}': transaction: true needs a dataSource`)
  }
  const handlers = options.events?.matching(checked.name)
  // Collect the written entities only when a Post-action handler will read them: unbound actions cost nothing extra.
  const wanted = handlers && (handlers.postSync.length > 0 || handlers.postAfterCommit.length > 0 || handlers.postDurable.length > 0)
  // Refused before anything runs: a durable binding without its engine would lose its jobs.
  const sink = handlers?.postDurable.length ? durableSinkOf(checked.name, options.dataSource) : undefined
  const changes: ActionChange[] | undefined = wanted ? [] : undefined
  const collectors = changes ? [...(outer?.changeLists ?? []), changes] : outer?.changeLists
  return scopes.run({ frame: outer?.frame, runningAction: checked, internal: false, changeLists: collectors }, () =>
    runWithEvents(checked, fn, options, changes, sink),
  )
}

async function runWithEvents<T>(
  action: ActionContext,
  fn: (manager?: EntityManager) => T | Promise<T>,
  options: RunActionOptions,
  changes: ActionChange[] | undefined,
  sink: JobSink | undefined,
): Promise<T> {
  const events = options.events
  const handlers = events?.matching(action.name)
  const base: ActionEventContext = Object.freeze({
    action: action.name,
    user: action.user,
    requestId: action.requestId,
    locale: action.locale,
    params: action.params ?? {},
  })
  for (const handler of handlers?.pre ?? []) await handler(base)
  const runSync = async (result: T, manager: EntityManager | undefined): Promise<void> => {
    if (!handlers?.postSync.length && !handlers?.postDurable.length) return
    const ctx = Object.freeze({ ...base, result, changes: [...changes!, ...pendingChanges(manager?.queryRunner, changes!)] })
    for (const handler of handlers.postSync) await handler(ctx)
    if (!sink) return
    // Without a transaction of its own, the action's jobs get a short one right after fn.
    if (manager) recordDurableJobs(manager, sink, handlers.postDurable, ctx)
    else await options.dataSource!.transaction(async (own) => recordDurableJobs(own, sink, handlers.postDurable, ctx))
  }
  let result: T
  if (options.transaction) {
    result = await options.dataSource!.transaction(async (manager) => {
      const value = await fn(manager)
      await runSync(value, manager)
      return value
    })
  } else {
    result = await fn(undefined)
    await runSync(result, undefined)
  }
  if (handlers?.postAfterCommit.length) {
    const ctx = Object.freeze({ ...base, result, changes: [...changes!] })
    for (const handler of handlers.postAfterCommit) {
      try {
        await handler(ctx)
      } catch (error) {
        events!.reportPostError(error, ctx)
      }
    }
  }
  return result
}

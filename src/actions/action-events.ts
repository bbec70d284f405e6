import type { ActionUser } from '../scope/action-context'
import type { ActionChange } from '../scope/action-change'
import { EventActionTiming } from '../basics/event-action-timing'
import { HardError } from '../basics/errors'
import { checkJobName } from '../transaction/job-payload'

/** What a Pre-action handler learns about the action. */
export interface ActionEventContext {
  /** The action's name, e.g. `'orders:submit'`. */
  readonly action: string
  /** The acting user (`runAction({ user })`, the resolved user over HTTP), or undefined. */
  readonly user: ActionUser | undefined
  /** The request id (`runAction({ requestId })`; over HTTP, a valid `x-request-id` header or a new UUID), or undefined. */
  readonly requestId: string | undefined
  /** The end user's language (`runAction({ locale })`, `Accept-Language` over HTTP), or undefined. */
  readonly locale: string | undefined
  /** What the action was asked to do (an HTTP request's route params, query and body). */
  readonly params: Readonly<Record<string, unknown>>
}

/** What a Post-action handler learns: the action, what `fn` returned, and every entity it wrote. */
export interface PostActionEventContext extends ActionEventContext {
  /** What the action's `fn` returned; over HTTP, the route's response body (Express: what `res.json` sent). */
  readonly result: unknown
  /** One entry per entity write the action made (empty when it wrote nothing). */
  readonly changes: readonly ActionChange[]
}

/** Runs before the action's work; throwing `SoftError`/`EntityValidationError` blocks the action. */
export type PreActionHandler = (ctx: ActionEventContext) => unknown

/** Runs after the action succeeded (by default after its transaction committed). */
export type PostActionHandler = (ctx: PostActionEventContext) => unknown

/** Options of {@link ActionEvents.bind}. */
export interface BindOptions {
  /**
   * Post-action handlers only. `'after-commit'`: after the action's
   * transaction committed; an error is reported to `onPostActionError`, the
   * commit stands (at most once: lost if the process dies). `'sync'`: inside
   * the transaction, before commit; an error rolls the action back and
   * reaches the caller. `'durable'`: a job carrying the context (as JSON) is
   * written through the action's transaction, and a worker (`startWorker`)
   * runs the handler later, at least once, with `ctx.job`; needs a `jobs`
   * backend in `withEventActions`. Defaults to `'after-commit'`.
   */
  mode?: 'after-commit' | 'sync' | 'durable'
  /**
   * `'durable'` only: the job's name, which the worker finds the handler by.
   * Defaults to the action name or pattern; two durable bindings of one
   * pattern need names of their own.
   */
  job?: string
}

/** The context a durable Post-action handler gets in the worker: the Post-action context, as JSON, and the job. */
export interface DurablePostActionContext extends PostActionEventContext {
  /** The job being run: its id, its stable key (for idempotence) and the attempt (1 first). */
  readonly job: JobInfo
}

/** What a job handler learns about the job it runs. */
export interface JobInfo {
  /** The engine's id of the job (BullMQ: the outbox row's). */
  readonly id: string
  /** Stable across retries and redeliveries of this job: check it to handle the job once. */
  readonly key: string
  /** 1 on the first run, 2 on the first retry, ... */
  readonly attempt: number
}

/** A Post-action handler for `{ mode: 'durable' }`: it runs in a worker, with `ctx.job`. */
export type DurablePostActionHandler = (ctx: DurablePostActionContext) => unknown

/** Options of the {@link ActionEvents} registry. */
export interface ActionEventsOptions {
  /**
   * Receives errors of after-commit Post-action handlers (the data is
   * committed, so they are reported, not thrown). Defaults to `console.error`.
   */
  onPostActionError?: (error: unknown, ctx: PostActionEventContext) => void
}

interface Binding {
  readonly pattern: string
  readonly prefix: string | undefined
  readonly timing: EventActionTiming
  readonly handler: PreActionHandler | PostActionHandler | DurablePostActionHandler
  readonly mode: 'after-commit' | 'sync' | 'durable'
  /** The job name of a durable binding. */
  readonly job: string | undefined
}

/** @internal A durable binding of one action: the job name to write. */
export interface DurableBinding {
  readonly job: string
}

/** @internal The handlers of one action, split the way runAction runs them. */
export interface MatchedHandlers {
  readonly pre: readonly PreActionHandler[]
  readonly postSync: readonly PostActionHandler[]
  readonly postAfterCommit: readonly PostActionHandler[]
  readonly postDurable: readonly DurableBinding[]
}

const NONE: MatchedHandlers = Object.freeze({ pre: [], postSync: [], postAfterCommit: [], postDurable: [] })
const MODES = ['after-commit', 'sync', 'durable']

/** @internal The audit table's text columns (action name, user id, request id) are varchar(255). */
export const MAX_AUDIT_TEXT = 255
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * @internal Refuses, before any write, a value the audit table could not
 * hold the same way on every database: PostgreSQL and MariaDB would fail the
 * COMMIT on a value over 255 characters (SQLite would store it), and
 * PostgreSQL refuses NUL in text.
 */
export function checkAuditText(what: string, value: string): void {
  if (value.length > MAX_AUDIT_TEXT) {
    throw new HardError(`${what} may have at most ${MAX_AUDIT_TEXT} characters, got ${value.length}: ${JSON.stringify(value.slice(0, 40))}...`)
  }
  if (CONTROL.test(value)) throw new HardError(`${what} may not contain control characters, got ${JSON.stringify(value)}`)
}

/** @internal Throws unless `name` is a usable action name (a `*` only as the last character of a pattern). */
export function checkActionName(name: unknown, pattern: boolean): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new HardError(`an action name must be a non-empty string, got ${JSON.stringify(name)}`)
  }
  checkAuditText('an action name', name)
  const star = name.indexOf('*')
  if (star !== -1 && (!pattern || star !== name.length - 1)) {
    throw new HardError(
      pattern
        ? `action pattern '${name}': '*' may only end a pattern ('orders:*')`
        : `action name '${name}' may not contain '*' (patterns are for bind())`,
    )
  }
}

/**
 * A registry of action events: handlers bound to named user actions
 * (NocoBase's pre- and post-action events). `runAction(..., { events })`
 * and the Express/Koa middleware run them.
 *
 * @example
 * ```ts
 * const events = new ActionEvents()
 * events.bind('orders:submit', EventActionTiming.Pre, ({ user }) => {
 *   if (!user) throw new SoftError('sign in to submit an order')
 * })
 * events.bind('orders:submit', EventActionTiming.Post, ({ changes }) => notifyWarehouse(changes))
 * ```
 */
export class ActionEvents {
  private bindings: readonly Binding[] = []
  private readonly cache = new Map<string, MatchedHandlers>()
  private readonly onPostActionError: (error: unknown, ctx: PostActionEventContext) => void

  constructor(options: ActionEventsOptions = {}) {
    this.onPostActionError =
      options.onPostActionError ??
      ((error, ctx) => console.error(`typeorm-event-actions: a Post-action handler of '${ctx.action}' failed`, error))
  }

  /**
   * Binds `handler` to an action name (`'orders:submit'`) or a pattern with a
   * trailing `*` (`'orders:*'`, `'*'`). Handlers of one action run in bind
   * order. Returns a function that unbinds it.
   */
  bind(actionName: string, timing: EventActionTiming.Pre, handler: PreActionHandler): () => void
  bind(actionName: string, timing: EventActionTiming.Post, handler: DurablePostActionHandler, options: BindOptions & { mode: 'durable' }): () => void
  bind(actionName: string, timing: EventActionTiming.Post, handler: PostActionHandler, options?: BindOptions): () => void
  bind(
    actionName: string,
    timing: EventActionTiming,
    handler: PreActionHandler | PostActionHandler | DurablePostActionHandler,
    options: BindOptions = {},
  ): () => void {
    checkActionName(actionName, true)
    if (timing !== EventActionTiming.Pre && timing !== EventActionTiming.Post) {
      throw new HardError(`bind('${actionName}'): timing must be EventActionTiming.Pre or Post, got ${JSON.stringify(timing)}`)
    }
    if (typeof handler !== 'function') throw new HardError(`bind('${actionName}'): the handler must be a function`)
    const mode = options.mode ?? 'after-commit'
    if (!MODES.includes(mode)) {
      throw new HardError(`bind('${actionName}'): mode must be 'after-commit', 'sync' or 'durable', got ${JSON.stringify(mode)}`)
    }
    if (options.mode !== undefined && timing === EventActionTiming.Pre) throw new HardError(`bind('${actionName}'): mode is for Post-action handlers`)
    const binding: Binding = {
      pattern: actionName,
      prefix: actionName.endsWith('*') ? actionName.slice(0, -1) : undefined,
      timing,
      handler,
      mode,
      job: mode === 'durable' ? this.durableJobName(actionName, options.job) : undefined,
    }
    if (options.job !== undefined && mode !== 'durable') throw new HardError(`bind('${actionName}'): the job option is for mode 'durable'`)
    // Copy on write: an unbind during a run never changes the list that run is iterating.
    this.bindings = [...this.bindings, binding]
    this.cache.clear()
    return () => {
      this.bindings = this.bindings.filter((b) => b !== binding)
      this.cache.clear()
    }
  }

  /** @internal The handlers bound to `action`, in bind order. */
  matching(action: string): MatchedHandlers {
    let found = this.cache.get(action)
    if (!found) {
      const hits = this.bindings.filter((b) => (b.prefix === undefined ? b.pattern === action : action.startsWith(b.prefix)))
      found = hits.length
        ? {
            pre: hits.filter((b) => b.timing === EventActionTiming.Pre).map((b) => b.handler as PreActionHandler),
            postSync: hits.filter((b) => b.timing === EventActionTiming.Post && b.mode === 'sync').map((b) => b.handler as PostActionHandler),
            postAfterCommit: hits
              .filter((b) => b.timing === EventActionTiming.Post && b.mode === 'after-commit')
              .map((b) => b.handler as PostActionHandler),
            postDurable: hits.filter((b) => b.mode === 'durable').map((b) => ({ job: b.job! })),
          }
        : NONE
      this.cache.set(action, found)
    }
    return found
  }

  /** @internal The job names of the durable bindings, for the worker's start line. */
  durableJobs(): string[] {
    return this.bindings.flatMap((b) => (b.job === undefined ? [] : [b.job]))
  }

  /** @internal The handler of the durable binding whose job is `job`, for the worker. */
  durableHandler(job: string): DurablePostActionHandler | undefined {
    return this.bindings.find((b) => b.mode === 'durable' && b.job === job)?.handler as DurablePostActionHandler | undefined
  }

  private durableJobName(actionName: string, job: string | undefined): string {
    const name = job ?? actionName
    checkJobName(name, `bind('${actionName}')`)
    if (this.bindings.some((b) => b.job === name)) {
      throw new HardError(
        `bind('${actionName}'): a durable binding with job name '${name}' exists already; give this one its own ({ mode: 'durable', job: '${actionName}:notify' })`,
      )
    }
    return name
  }

  /** @internal Reports an after-commit Post-action handler's error. */
  reportPostError(error: unknown, ctx: PostActionEventContext): void {
    try {
      this.onPostActionError(error, ctx)
    } catch (reportError) {
      console.error('typeorm-event-actions: onPostActionError threw while reporting', error, reportError)
    }
  }
}

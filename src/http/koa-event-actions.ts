import type { DataSource, EntityManager } from 'typeorm'
import { runAction, type ActionContext, type ActionUser } from '../action-context'
import type { ActionEvents } from '../action-events'
import { defaultActionName, errorResponse, logServerError, oneAtATimeOnSqlite, requestIdFrom } from './http-action'

/** The parts of a Koa context the middleware uses. */
export interface KoaContextLike {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  params?: Record<string, string>
  query?: unknown
  request: { body?: unknown }
  status: number
  body: unknown
  /** `ctx.state.user` is the default user; the middleware sets `ctx.state.manager` (with `dataSource`) and `ctx.state.action`. */
  state: Record<string, unknown>
  set(name: string, value: string): void
}

/** Options of {@link koaEventActions}. */
export interface KoaEventActionsOptions {
  /** The registry of action events bound to request actions. */
  events: ActionEvents
  /** With it, each request runs in one transaction (`ctx.state.manager`). */
  dataSource?: DataSource
  /** The action name of a request. Defaults to `${resource}:${verb}` from the method and path. */
  resolveAction?: (ctx: KoaContextLike) => string
  /** The acting user. Defaults to `ctx.state.user`. */
  resolveUser?: (ctx: KoaContextLike) => ActionUser | undefined
  /**
   * The action's `params`. Defaults to `ctx.params` (set by a router when
   * the middleware is mounted on a route), `query` and `body`.
   */
  resolveParams?: (ctx: KoaContextLike) => Record<string, unknown>
}

class ResponseNotOk extends Error {}

/**
 * Koa middleware that runs each request as an action: Pre-action handlers
 * before the downstream middleware (a veto answers 400), downstream inside the
 * action context, and Post-action handlers once it succeeded (with
 * `dataSource`: after the request's transaction committed). A SoftError
 * becomes 400 with field errors; anything else 500 with no internals.
 *
 * @example
 * ```ts
 * app.use(bodyParser())
 * app.use(koaEventActions({ events, dataSource }))
 * app.use(router.routes())
 * ```
 */
export function koaEventActions(options: KoaEventActionsOptions): (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void> {
  const { events, dataSource } = options
  const resolveAction = options.resolveAction ?? ((ctx) => defaultActionName(ctx.method, ctx.path))
  const resolveUser = options.resolveUser ?? ((ctx) => ctx.state.user as ActionUser | undefined)
  const resolveParams = options.resolveParams ?? ((ctx) => ({ ...ctx.params, query: ctx.query, body: ctx.request.body }))

  return async (ctx, next) => {
    const requestId = requestIdFrom(ctx.headers['x-request-id'])
    ctx.set('x-request-id', requestId)
    let action: ActionContext | undefined
    try {
      action = {
        name: resolveAction(ctx),
        user: resolveUser(ctx),
        requestId,
        params: resolveParams(ctx),
      }
      ctx.state.action = action
      const started = action
      await oneAtATimeOnSqlite(dataSource, () => runAction(
        started,
        async (manager: EntityManager | undefined) => {
          ctx.state.manager = manager
          await next()
          // A response that is not a success rolls the transaction back and runs no Post-action handler.
          if (ctx.status >= 400) throw new ResponseNotOk()
          // What downstream answered is the action's result, for Post-action handlers.
          return ctx.body
        },
        { events, dataSource, transaction: dataSource !== undefined },
      ))
    } catch (error) {
      if (error instanceof ResponseNotOk) return
      const { status, body } = errorResponse(error)
      if (status === 500) logServerError(error, action?.name ?? 'unknown', requestId)
      ctx.status = status
      ctx.body = body
    }
  }
}

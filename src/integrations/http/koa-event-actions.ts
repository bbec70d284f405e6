import type { DataSource, EntityManager } from 'typeorm'
import { runAction } from '../../actions/run-action'
import type { ActionContext, ActionUser } from '../../scope/action-context'
import type { ActionEvents } from '../../actions/action-events'
import type { EventActionsConfig } from '../../setup/event-actions-config'
import { defaultActionName, errorResponse, httpLogger, logErrorAnswer, oneAtATimeOnSqlite, requestIdFrom, requestLocale } from './http-action'

/** The parts of a Koa context the middleware uses. */
export interface KoaContextLike {
  /** Koa `ctx.method`: the HTTP method, e.g. `'POST'`. */
  method: string
  /** Koa `ctx.path`: the path without the query string. */
  path: string
  /** Koa `ctx.headers`: Node's lower-cased request headers. */
  headers: Record<string, string | string[] | undefined>
  /** `ctx.params`: the route parameters, set by a router (`@koa/router`) where a route matched. */
  params?: Record<string, string>
  /** Koa `ctx.query`: the parsed query string. */
  query?: unknown
  /** Koa `ctx.request`: the middleware reads only its body. */
  request: {
    /** `ctx.request.body`: the parsed body, set by a body parser such as `koa-bodyparser`. */
    body?: unknown
  }
  /** Koa `ctx.status`: the response status; 400 and up roll the action back. */
  status: number
  /** Koa `ctx.body`: the response body; the action's result for Post-action handlers. */
  body: unknown
  /** `ctx.state.user` is the default user; the middleware sets `ctx.state.manager` (with `dataSource`) and `ctx.state.action`. */
  state: Record<string, unknown>
  /** Koa `ctx.set(name, value)`: sets a response header. */
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
  /**
   * The request's language, for `ctx.locale` and the 400/500 bodies.
   * Defaults to `Accept-Language` (quality values honoured), negotiated
   * against `locales` when given.
   */
  resolveLocale?: (ctx: KoaContextLike) => string | undefined
  /**
   * The languages the application has texts for, e.g. `['en', 'ru']`: the
   * best one the client accepts is chosen (`fr-CA` finds `fr`). Without it,
   * the client's first choice is taken as it is.
   */
  locales?: readonly string[]
  /**
   * Where error answers are logged: a 4xx as one `warn` line (method, path,
   * status, request id), a 500 with the error's stack through `error`.
   * `console`, pino and winston fit. Defaults to the `logger` given to
   * `withEventActions` for `dataSource`, else `console`.
   */
  logger?: EventActionsConfig['logger']
}

class ResponseNotOk extends Error {}

/**
 * Koa middleware that runs each request as an action: Pre-action handlers
 * before the downstream middleware (a veto answers 400), downstream inside the
 * action context, and Post-action handlers once it succeeded (with
 * `dataSource`: after the request's transaction committed). A SoftError
 * becomes 400 with field errors, an error that carries a client status
 * (`ctx.throw(404)`, an `http-errors` error) keeps it, anything else 500 with
 * no internals.
 *
 * Its `errorHandler`, mounted first, answers the same way for errors thrown
 * before the action starts, such as a body parser's 400 (malformed JSON) or
 * 413 (body too large).
 *
 * @example
 * ```ts
 * const actions = koaEventActions({ events, dataSource })
 * app.use(actions.errorHandler)
 * app.use(bodyParser())
 * app.use(actions)
 * app.use(router.routes())
 * ```
 */
// Long: the middleware and its error handler close over the same checked options.
export function koaEventActions(options: KoaEventActionsOptions): ((ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>) & {
  /**
   * Middleware to mount before the body parser: answers, as the middleware
   * does, the errors thrown downstream of it that the middleware does not
   * see (a body parser's 400 or 413), and logs them.
   */
  readonly errorHandler: (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>
} {
  const { events, dataSource } = options
  const logger = httpLogger(options.logger, 'koaEventActions: logger', options.dataSource)
  const resolveAction = options.resolveAction ?? ((ctx) => defaultActionName(ctx.method, ctx.path))
  const resolveUser = options.resolveUser ?? ((ctx) => ctx.state.user as ActionUser | undefined)
  const resolveParams = options.resolveParams ?? ((ctx) => ({ ...ctx.params, query: ctx.query, body: ctx.request.body }))
  // The request id the error handler gave a request, for the middleware to keep.
  const requestIds = new WeakMap<object, string>()

  const answer = (ctx: KoaContextLike, error: unknown, action: string | undefined, requestId: string, locale: string | undefined): void => {
    const { status, body } = errorResponse(error, locale)
    logErrorAnswer(logger, { method: ctx.method, path: ctx.path, requestId, action }, status, body.errors[0]?.key ?? null, error)
    ctx.status = status
    ctx.body = body
  }

  const middleware = async (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> => {
    const requestId = requestIds.get(ctx) ?? requestIdFrom(ctx.headers['x-request-id'])
    ctx.set('x-request-id', requestId)
    let action: ActionContext | undefined
    let locale: string | undefined
    try {
      locale = requestLocale(options, ctx, ctx.headers['accept-language'])
      action = {
        name: resolveAction(ctx),
        user: resolveUser(ctx),
        requestId,
        params: resolveParams(ctx),
        locale,
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
      answer(ctx, error, action?.name, requestId, locale)
    }
  }

  const errorHandler = async (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> => {
    const requestId = requestIdFrom(ctx.headers['x-request-id'])
    requestIds.set(ctx, requestId)
    ctx.set('x-request-id', requestId)
    try {
      await next()
    } catch (error) {
      let locale: string | undefined
      try {
        locale = requestLocale(options, ctx, ctx.headers['accept-language'])
      } catch (localeError) {
        logErrorAnswer(logger, { method: ctx.method, path: ctx.path, requestId, action: undefined }, 500, null, localeError)
      }
      answer(ctx, error, (ctx.state.action as ActionContext | undefined)?.name, requestId, locale)
    }
  }

  return Object.assign(middleware, { errorHandler })
}

import type { DataSource, EntityManager } from 'typeorm'
import { runAction } from '../../actions/run-action'
import type { ActionContext, ActionUser } from '../../scope/action-context'
import type { ActionEvents } from '../../actions/action-events'
import type { EventActionsConfig } from '../../setup/event-actions-config'
import { defaultActionName, errorResponse, httpLogger, logErrorAnswer, oneAtATimeOnSqlite, requestIdFrom, requestLocale } from './http-action'

/** The parts of an Express request the middleware reads. */
export interface ExpressRequestLike {
  /** Express `req.method`: the HTTP method, e.g. `'POST'`. */
  method: string
  /** Express `req.path`: the path without the query string. */
  path: string
  /** Express `req.headers`: Node's lower-cased request headers. */
  headers: Record<string, string | string[] | undefined>
  /** Express `req.params`: the route parameters, set only where a route matched. */
  params?: Record<string, string>
  /** Express `req.query`: the parsed query string. */
  query?: unknown
  /** Express `req.body`: the parsed body, set by a body parser such as `express.json()`. */
  body?: unknown
  /** `req.user`, as Passport and similar authentication middleware set it; the acting user by default. */
  user?: unknown
  /** Set by the middleware: the request's EntityManager (its transaction, with `dataSource`). */
  eventActions?: {
    /** The EntityManager of the request's transaction, or undefined without `dataSource`. */
    manager: EntityManager | undefined
    /** The action the request runs as. */
    action: ActionContext
  }
}

/** The parts of an Express response the middleware uses. */
export interface ExpressResponseLike {
  /** Express/Node `res.statusCode`: the status to send (or sent). */
  statusCode: number
  /** Express/Node `res.headersSent`: true once the response has started. */
  headersSent: boolean
  /** Express `res.locals`: the middleware sets `res.locals.manager` (with `dataSource`). */
  locals: Record<string, unknown>
  /** Node `res.setHeader(name, value)`. */
  setHeader(name: string, value: string): unknown
  /** Node `res.removeHeader(name)`. */
  removeHeader(name: string): unknown
  /** Express `res.status(code)`: sets the status and returns the response. */
  status(code: number): ExpressResponseLike
  /** Express `res.json(body)`: sends `body` as JSON. */
  json(body: unknown): unknown
  /** Node `res.end(...)`: finishes the response. */
  end(...args: unknown[]): unknown
  /** Node `res.once(event, listener)`, for the `'finish'` and `'close'` events. */
  once(event: 'finish' | 'close', listener: () => void): unknown
}

/** Express's `next` function: passes control on, or with an error to the error handlers. */
export type ExpressNext = (error?: unknown) => void

/** Options of {@link expressEventActions}. */
export interface ExpressEventActionsOptions {
  /** The registry of action events bound to request actions. */
  events: ActionEvents
  /** With it, each request runs in one transaction (`req.eventActions.manager`, `res.locals.manager`). */
  dataSource?: DataSource
  /** The action name of a request. Defaults to `${resource}:${verb}` from the method and path. */
  resolveAction?: (req: ExpressRequestLike) => string
  /** The acting user. Defaults to `req.user`. */
  resolveUser?: (req: ExpressRequestLike) => ActionUser | undefined
  /**
   * The action's `params`. Defaults to the route params, `query` and `body`.
   * Route params exist only where a route matched: mount the middleware on
   * the route (`app.post('/orders/:id/submit', actions.middleware, handler)`)
   * to have them; mounted with `app.use` it sees query and body.
   */
  resolveParams?: (req: ExpressRequestLike) => Record<string, unknown>
  /**
   * The request's language, for `ctx.locale` and the 400/500 bodies.
   * Defaults to `Accept-Language` (quality values honoured), negotiated
   * against `locales` when given.
   */
  resolveLocale?: (req: ExpressRequestLike) => string | undefined
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

/** What {@link expressEventActions} returns: the two things an app adds. */
export interface ExpressEventActions {
  /** `app.use(actions.middleware)` before the routes. */
  middleware: (req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) => void
  /**
   * `app.use(actions.errorHandler)` after the routes: a SoftError answers 400
   * with field errors, an error that carries a client status (a body
   * parser's 400 or 413, an `http-errors` 404) keeps it, anything else 500.
   */
  errorHandler: (error: unknown, req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) => void
}

class ResponseNotOk extends Error {}

/**
 * Express middleware that runs each request as an action: Pre-action
 * handlers before the route (a veto answers 400 and the route never runs),
 * the route inside the action context (so every event and audit entry knows
 * the user), and Post-action handlers once the response succeeded (with
 * `dataSource`: after the request's transaction committed). Express cannot
 * see a route's errors from an ordinary middleware, hence the error handler.
 *
 * @example
 * ```ts
 * const actions = expressEventActions({ events, dataSource })
 * app.use(express.json())
 * app.use(actions.middleware) // or per route, to give handlers the route params
 * app.post('/orders/:id/submit', async (req, res) => res.json(await submit(req.eventActions!.manager!, req.params.id)))
 * app.use(actions.errorHandler)
 * ```
 */
// Long: the middleware and its error handler close over the same checked options.
export function expressEventActions(options: ExpressEventActionsOptions): ExpressEventActions {
  const { events, dataSource } = options
  const logger = httpLogger(options.logger, 'expressEventActions: logger', options.dataSource)
  const resolveAction = options.resolveAction ?? ((req) => defaultActionName(req.method, req.path))
  const resolveUser = options.resolveUser ?? ((req) => req.user as ActionUser | undefined)
  const resolveParams = options.resolveParams ?? ((req) => ({ ...req.params, query: req.query, body: req.body }))

  const sendError = (
    req: ExpressRequestLike,
    res: ExpressResponseLike,
    error: unknown,
    action: string | undefined,
    requestId: string,
    locale: string | undefined,
    end?: (...args: unknown[]) => unknown,
  ): void => {
    const { status, body } = errorResponse(error, locale)
    logErrorAnswer(logger, { method: req.method, path: req.path, requestId, action }, status, body.errors[0]?.key ?? null, error)
    if (res.headersSent) return
    if (end) {
      // The route's response was held back for the commit, which failed: answer with the error instead.
      res.removeHeader('Content-Length')
      res.statusCode = status
      res.setHeader('Content-Type', 'application/json; charset=utf-8')
      end.call(res, JSON.stringify(body))
      return
    }
    res.status(status).json(body)
  }

  const middleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext): void => {
    const requestId = requestIdFrom(req.headers['x-request-id'])
    res.setHeader('x-request-id', requestId)
    let action: ActionContext
    let locale: string | undefined
    try {
      locale = requestLocale(options, req, req.headers['accept-language'])
      action = {
        name: resolveAction(req),
        user: resolveUser(req),
        requestId,
        params: resolveParams(req),
        locale,
      }
    } catch (error) {
      sendError(req, res, error, undefined, requestId, locale)
      return
    }
    let heldEnd: (() => void) | undefined
    const originalEnd = res.end
    const originalJson = res.json
    let answered: unknown
    // What the route answered is the action's result, for Post-action handlers.
    res.json = (body: unknown) => {
      answered = body
      return originalJson.call(res, body)
    }
    const work = (manager: EntityManager | undefined) =>
      new Promise<unknown>((resolve, reject) => {
        req.eventActions = { manager, action }
        res.locals.manager = manager
        if (dataSource) {
          // Hold the response until the transaction committed: a client must never see success for a rollback.
          res.end = (...args: unknown[]) => {
            res.end = originalEnd
            heldEnd = () => originalEnd.apply(res, args)
            if (res.statusCode < 400) resolve(answered)
            else reject(new ResponseNotOk())
            return res
          }
        } else {
          res.once('finish', () => (res.statusCode < 400 ? resolve(answered) : reject(new ResponseNotOk())))
          res.once('close', () => reject(new ResponseNotOk()))
        }
        next()
      })
    oneAtATimeOnSqlite(dataSource, () => runAction(action, work, { events, dataSource, transaction: dataSource !== undefined })).then(
      () => heldEnd?.(),
      (error: unknown) => {
        if (error instanceof ResponseNotOk) {
          heldEnd?.()
          return
        }
        // A Pre-action veto, a failed commit or a failing sync Post-action handler.
        res.end = originalEnd
        sendError(req, res, error, action.name, requestId, action.locale, heldEnd ? originalEnd : undefined)
      },
    )
  }

  const errorHandler = (error: unknown, req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext): void => {
    if (res.headersSent) {
      next(error)
      return
    }
    const action = req.eventActions?.action
    // A request the middleware never saw (a body parser failed first; the middleware is mounted per route).
    const requestId = action?.requestId ?? requestIdFrom(req.headers['x-request-id'])
    if (!action) res.setHeader('x-request-id', requestId)
    let locale: string | undefined
    try {
      locale = action ? action.locale : requestLocale(options, req, req.headers['accept-language'])
    } catch (localeError) {
      logErrorAnswer(logger, { method: req.method, path: req.path, requestId, action: undefined }, 500, null, localeError)
    }
    sendError(req, res, error, action?.name, requestId, locale)
  }

  return { middleware, errorHandler }
}

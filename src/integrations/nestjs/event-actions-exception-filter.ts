import type { EventActionsConfig } from '../../setup/event-actions-config'
import { errorResponse, httpLogger, logErrorAnswer, requestIdFrom, requestLocale, type HttpLogger } from '../http/http-action'
import { requestActionInfo } from './event-actions-interceptor'
import type { EventActionsRequestOptions } from './event-actions-module-options'
import type { NestArgumentsHostLike, NestHttpAdapterHostLike, NestRequestLike } from './nest-types'

/** Nest's `HttpException`, recognized by shape so that Nest need not be loaded to check. */
interface HttpExceptionLike {
  getStatus(): number
  getResponse(): string | object
}

function isHttpException(error: unknown): error is HttpExceptionLike {
  const e = error as Partial<Record<keyof HttpExceptionLike, unknown>> | null
  return typeof e === 'object' && e !== null && typeof e.getStatus === 'function' && typeof e.getResponse === 'function'
}

/**
 * Options of {@link EventActionsExceptionFilter}; {@link EventActionsModule} fills them in.
 *
 * @example
 * ```ts
 * const options: EventActionsExceptionFilterOptions = { locales: ['en', 'ru'] }
 * ```
 */
export interface EventActionsExceptionFilterOptions extends Pick<EventActionsRequestOptions, 'resolveLocale' | 'locales'> {
  /** Nest's `HttpAdapterHost`, to answer on Express and Fastify alike. */
  httpAdapterHost?: NestHttpAdapterHostLike
  /**
   * Where error answers are logged: a 4xx as one `warn` line (method, path,
   * status, request id), a 5xx with the error's stack through `error`.
   * `console`, pino and winston fit. Defaults to `console`.
   */
  logger?: EventActionsConfig['logger']
}

interface ExpressResponseLike {
  headersSent?: boolean
  setHeader?(name: string, value: string): unknown
  status(code: number): { json(body: unknown): unknown }
}

/**
 * A Nest exception filter for HTTP routes: a `SoftError` (a business rule
 * said no, a Pre-action veto) or an `EntityValidationError` becomes
 * `400 { errors: [{ attribute, key, message }] }`, Nest's own `HttpException`s
 * (`NotFoundException`, a `ValidationPipe`'s 400) keep their status and body,
 * another error that carries a client status (the body parser's 413, an
 * `http-errors` 404) keeps it with the same `{ errors }` body as a SoftError,
 * and anything else becomes `500` with no internals. A 4xx is logged as one
 * line, a 5xx with the error's stack, the action and the request id. Other
 * contexts (RPC, WebSocket, GraphQL) get the exception back untouched.
 *
 * {@link EventActionsModule} registers it for every route (`filter: false` to
 * leave it out).
 *
 * @example
 * ```ts
 * // a handler's SoftError ...
 * throw new SoftError('title must not be empty', { attribute: 'title' })
 * // ... answers 400 {"errors":[{"attribute":"title","message":"title must not be empty"}]}
 * ```
 */
export class EventActionsExceptionFilter {
  private readonly logger: HttpLogger

  constructor(private readonly options: EventActionsExceptionFilterOptions = {}) {
    this.logger = httpLogger(options.logger, 'EventActionsExceptionFilter: logger')
  }

  /** Called by Nest with an exception a route threw. */
  catch(exception: unknown, host: NestArgumentsHostLike): unknown {
    if (host.getType() !== 'http') return exception
    const http = host.switchToHttp()
    const request = http.getRequest() as NestRequestLike
    const response = http.getResponse()
    const info = requestActionInfo(request)
    const logged = {
      method: request.method,
      // Fastify's url has the query string, which may carry what a log must not (tokens).
      path: request.path ?? (request.url ?? '/').split('?')[0]!,
      requestId: info?.requestId ?? requestIdFrom(request.headers['x-request-id']),
      action: info?.action,
    }
    // The interceptor sets it; a request it never saw gets it here, so that the client can quote it.
    if (!info) this.setHeader(response, 'x-request-id', logged.requestId)
    if (isHttpException(exception)) {
      // What Nest's own filter answers, so that routes keep their 404s and 400s.
      const status = exception.getStatus()
      const answer = exception.getResponse()
      logErrorAnswer(this.logger, logged, status, null, exception)
      this.reply(response, typeof answer === 'object' && answer !== null ? answer : { statusCode: status, message: answer }, status)
      return undefined
    }
    let locale: string | undefined
    try {
      // A request the interceptor never saw (a guard threw, the body parser failed) still gets its language.
      locale = info ? info.locale : requestLocale(this.options, request, request.headers['accept-language'])
    } catch (localeError) {
      logErrorAnswer(this.logger, logged, 500, null, localeError)
    }
    const { status, body } = errorResponse(exception, locale)
    logErrorAnswer(this.logger, logged, status, body.errors[0]?.key ?? null, exception)
    this.reply(response, body, status)
    return undefined
  }

  private setHeader(response: unknown, name: string, value: string): void {
    const adapter = this.options.httpAdapterHost?.httpAdapter
    if (adapter) {
      if (!adapter.isHeadersSent(response)) adapter.setHeader(response, name, value)
      return
    }
    const res = response as ExpressResponseLike
    if (!res.headersSent && typeof res.setHeader === 'function') res.setHeader(name, value)
  }

  private reply(response: unknown, body: unknown, status: number): void {
    const adapter = this.options.httpAdapterHost?.httpAdapter
    if (adapter) {
      if (!adapter.isHeadersSent(response)) adapter.reply(response, body, status)
      return
    }
    // Made without the adapter host (by hand, on Express): answer the Express way.
    const res = response as ExpressResponseLike
    if (!res.headersSent) res.status(status).json(body)
  }
}

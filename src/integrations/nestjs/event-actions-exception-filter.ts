import { errorResponse, logServerError, requestIdFrom, requestLocale } from '../http/http-action'
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
}

interface ExpressResponseLike {
  headersSent?: boolean
  status(code: number): { json(body: unknown): unknown }
}

/**
 * A Nest exception filter for HTTP routes: a `SoftError` (a business rule
 * said no, a Pre-action veto) or an `EntityValidationError` becomes
 * `400 { errors: [{ attribute, message }] }`, Nest's own `HttpException`s
 * (`NotFoundException`, a `ValidationPipe`'s 400) keep their status and body,
 * and anything else becomes `500` with no internals, the error logged on the
 * server with the action and request id. Other contexts (RPC, WebSocket,
 * GraphQL) get the exception back untouched.
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
  constructor(private readonly options: EventActionsExceptionFilterOptions = {}) {}

  /** Called by Nest with an exception a route threw. */
  catch(exception: unknown, host: NestArgumentsHostLike): unknown {
    if (host.getType() !== 'http') return exception
    const http = host.switchToHttp()
    const request = http.getRequest() as NestRequestLike
    const response = http.getResponse()
    if (isHttpException(exception)) {
      // What Nest's own filter answers, so that routes keep their 404s and 400s.
      const status = exception.getStatus()
      const answer = exception.getResponse()
      this.reply(response, typeof answer === 'object' && answer !== null ? answer : { statusCode: status, message: answer }, status)
      return undefined
    }
    const info = requestActionInfo(request)
    const action = info?.action ?? 'unknown'
    const requestId = info?.requestId ?? requestIdFrom(request.headers['x-request-id'])
    let locale: string | undefined
    try {
      // A request the interceptor never saw (a guard threw) still gets its language.
      locale = info ? info.locale : requestLocale(this.options, request, request.headers['accept-language'])
    } catch (localeError) {
      logServerError(localeError, action, requestId)
    }
    const { status, body } = errorResponse(exception, locale)
    if (status === 500) logServerError(exception, action, requestId)
    this.reply(response, body, status)
    return undefined
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

import { runAction } from '../../actions/run-action'
import type { ActionContext, ActionUser } from '../../scope/action-context'
import type { DataSource } from 'typeorm'
import type { ActionEvents } from '../../actions/action-events'
import { defaultActionName, requestIdFrom, requestLocale } from '../http/http-action'
import type { EventActionsRequestOptions } from './event-actions-module-options'
import { rx, type RxSubscriber } from './nest-peers'
import type {
  NestArgumentsHostLike,
  NestCallHandlerLike,
  NestHttpAdapterHostLike,
  NestObservableLike,
  NestRequestLike,
  NestSubscriptionLike,
} from './nest-types'

/**
 * Options of {@link EventActionsInterceptor}; {@link EventActionsModule} fills them in.
 *
 * @example
 * ```ts
 * const options: EventActionsInterceptorOptions = { events, resolveUser: (req) => req.user as ActionUser }
 * ```
 */
export interface EventActionsInterceptorOptions extends EventActionsRequestOptions {
  /** The registry whose handlers bound to a request's action run around it. */
  events?: ActionEvents
  /** Nest's `HttpAdapterHost`, to set the `x-request-id` header on Express and Fastify alike. */
  httpAdapterHost?: NestHttpAdapterHostLike
  /** The DataSource a `{ mode: 'durable' }` binding's job is written to (in a short transaction after the route). */
  dataSource?: DataSource
}

/** @internal What the interceptor knew of a request, for the exception filter's answer and server log. */
export interface RequestActionInfo {
  readonly action: string | undefined
  readonly requestId: string
  readonly locale: string | undefined
}

// The one store of what the interceptor resolved per request, for the exception filter.
const requestInfo = new WeakMap<object, RequestActionInfo>()

/** @internal The action and request id the interceptor gave `request`, if it ran. */
export function requestActionInfo(request: unknown): RequestActionInfo | undefined {
  return typeof request === 'object' && request !== null ? requestInfo.get(request) : undefined
}

// Ends an action whose client went away before the route answered: no Post-action handler runs for it.
class RequestAbandoned extends Error {
  override name = 'RequestAbandoned'
}

function hasSetHeader(response: unknown): response is { setHeader(name: string, value: string): unknown } {
  return typeof (response as { setHeader?: unknown } | null)?.setHeader === 'function'
}

/**
 * A Nest interceptor that runs each HTTP request as an action (`runAction`):
 * the route handler and everything it awaits see the request's user, action
 * name and request id, and audit entries record them. With an
 * {@link ActionEvents} registry, Pre-action handlers run before the route (a
 * veto answers 400 through {@link EventActionsExceptionFilter}) and
 * Post-action handlers after it, with what it returned as `result`; the
 * response is sent once they finished; a `{ mode: 'durable' }` binding's job
 * is written to the module's DataSource in a short transaction after the
 * route. The request id is the client's
 * `x-request-id` or a new UUID, echoed in the response. Other contexts (RPC,
 * WebSocket, GraphQL) pass through untouched.
 *
 * {@link EventActionsModule} registers it for every route; there is no need
 * to create one yourself.
 *
 * @example
 * ```ts
 * @Module({ imports: [TypeOrmModule.forRoot(withEventActions(options)), EventActionsModule.forRoot()] })
 * export class AppModule {}
 * // in any handler: currentAction()?.user is the request's user
 * ```
 */
export class EventActionsInterceptor {
  private readonly events: ActionEvents | undefined
  private readonly dataSource: DataSource | undefined
  private readonly httpAdapterHost: NestHttpAdapterHostLike | undefined
  private readonly resolveAction: (req: NestRequestLike) => string
  private readonly resolveUser: (req: NestRequestLike) => ActionUser | undefined
  private readonly resolveParams: (req: NestRequestLike) => Record<string, unknown>
  private readonly localeOptions: Pick<EventActionsRequestOptions, 'resolveLocale' | 'locales'>

  constructor(options: EventActionsInterceptorOptions = {}) {
    this.events = options.events
    this.dataSource = options.dataSource
    this.httpAdapterHost = options.httpAdapterHost
    this.resolveAction = options.resolveAction ?? ((req) => defaultActionName(req.method, req.path ?? req.url ?? '/'))
    this.resolveUser = options.resolveUser ?? ((req) => req.user as ActionUser | undefined)
    this.resolveParams = options.resolveParams ?? ((req) => ({ ...req.params, query: req.query, body: req.body }))
    this.localeOptions = { resolveLocale: options.resolveLocale, locales: options.locales }
  }

  /** Called by Nest for every request. */
  intercept(context: NestArgumentsHostLike, next: NestCallHandlerLike): NestObservableLike {
    if (context.getType() !== 'http') return next.handle()
    const http = context.switchToHttp()
    const req = http.getRequest() as NestRequestLike
    const requestId = requestIdFrom(req.headers['x-request-id'])
    this.setHeader(http.getResponse(), 'x-request-id', requestId)
    // Recorded before the resolvers run, so that the filter logs a resolver's error with the request id.
    requestInfo.set(req, { action: undefined, requestId, locale: undefined })
    const locale = requestLocale(this.localeOptions, req, req.headers['accept-language'])
    requestInfo.set(req, { action: undefined, requestId, locale })
    const action: ActionContext = {
      name: this.resolveAction(req),
      user: this.resolveUser(req),
      requestId,
      params: this.resolveParams(req),
      locale,
    }
    requestInfo.set(req, { action: action.name, requestId, locale })
    const { Observable } = rx()
    const handlers = this.events?.matching(action.name)
    const bound = handlers && (handlers.pre.length > 0 || handlers.postSync.length > 0 || handlers.postAfterCommit.length > 0 || handlers.postDurable.length > 0)
    if (!bound) {
      // Nest captures the async context when handle() is called, so it must be called inside runAction;
      // the route's values stream through as they come (server-sent events too).
      return new Observable<unknown>((subscriber) => {
        const subscription = runAction(action, () => next.handle().subscribe(subscriber))
        return () => subscription.unsubscribe()
      })
    }
    return new Observable<unknown>((subscriber) => {
      let inner: NestSubscriptionLike | undefined
      let abandon: ((error: unknown) => void) | undefined
      const route = (): Promise<unknown> =>
        new Promise<unknown>((resolve, reject) => {
          if (subscriber.closed) {
            reject(new RequestAbandoned())
            return
          }
          abandon = reject
          let last: unknown
          // The Post-action handlers' result is what the route answered: its last value.
          inner = next.handle().subscribe({ next: (value) => (last = value), error: reject, complete: () => resolve(last) })
        })
      runAction(action, route, { events: this.events, dataSource: this.dataSource }).then(
        (result) => {
          subscriber.next(result)
          subscriber.complete()
        },
        (error: unknown) => settle(subscriber, error),
      )
      return () => {
        inner?.unsubscribe()
        abandon?.(new RequestAbandoned())
      }
    })
  }

  private setHeader(response: unknown, name: string, value: string): void {
    const adapter = this.httpAdapterHost?.httpAdapter
    if (adapter) adapter.setHeader(response, name, value)
    else if (hasSetHeader(response)) response.setHeader(name, value)
  }
}

function settle(subscriber: RxSubscriber<unknown>, error: unknown): void {
  // An abandoned request has nobody left to answer.
  if (!(error instanceof RequestAbandoned)) subscriber.error(error)
}

/**
 * The few shapes of NestJS this library reads, written out structurally so
 * that its type declarations compile in an application without Nest
 * installed. Nest's own objects fit them.
 */

/**
 * The parts of an HTTP request (Express or Fastify, as Nest hands it) the interceptor reads.
 *
 * @example
 * ```ts
 * const resolveUser = (req: NestRequestLike) => (req.user ? { id: (req.user as { sub: string }).sub } : undefined)
 * ```
 */
export interface NestRequestLike {
  /** The request's HTTP method, e.g. `'POST'` (Express `req.method`, Fastify `request.method`). */
  method: string
  /** Express: the path without the query string. */
  path?: string
  /** Fastify and Express: the path with the query string. */
  url?: string
  /** The lower-cased request headers (`req.headers`). */
  headers: Record<string, string | string[] | undefined>
  /** The route parameters (`req.params`, what `@Param()` reads). */
  params?: Record<string, string>
  /** The parsed query string (`req.query`, what `@Query()` reads). */
  query?: unknown
  /** The parsed body (`req.body`, what `@Body()` reads). */
  body?: unknown
  /** Set by an authentication guard (Passport sets it); the acting user by default. */
  user?: unknown
}

/** Nest's `ExecutionContext` / `ArgumentsHost`, as far as the interceptor and the filter use it. */
export interface NestArgumentsHostLike {
  /** `'http'`, `'rpc'`, `'ws'` or `'graphql'`. */
  getType(): string
  /** Nest's `switchToHttp()`: the HTTP view of the host. */
  switchToHttp(): {
    /** Nest's `HttpArgumentsHost.getRequest()`: the platform's request object. */
    getRequest(): unknown
    /** Nest's `HttpArgumentsHost.getResponse()`: the platform's response object. */
    getResponse(): unknown
  }
}

/** Something an Observable's values, error and completion go to. */
export interface NestObserverLike {
  /** rxjs `Observer.next`: receives one value. */
  next(value: unknown): void
  /** rxjs `Observer.error`: receives the error that ended the stream. */
  error(error: unknown): void
  /** rxjs `Observer.complete`: called when the stream ends without error. */
  complete(): void
}

/** A running subscription. */
export interface NestSubscriptionLike {
  /** rxjs `Subscription.unsubscribe()`: stops receiving values. */
  unsubscribe(): void
}

/** The Observable a Nest `CallHandler` returns (an rxjs Observable). */
export interface NestObservableLike {
  /** rxjs `Observable.subscribe(observer)`: starts the stream. */
  subscribe(observer: Partial<NestObserverLike>): NestSubscriptionLike
}

/** Nest's `CallHandler`: `handle()` runs the rest of the chain and the route handler. */
export interface NestCallHandlerLike {
  /** Nest's `CallHandler.handle()`: runs the rest of the chain and the route handler. */
  handle(): NestObservableLike
}

/** The parts of Nest's `AbstractHttpAdapter` (Express or Fastify) the interceptor and the filter use. */
export interface NestHttpAdapterLike {
  /** Nest's `AbstractHttpAdapter.reply()`: sends `body` with `statusCode` on `response`. */
  reply(response: unknown, body: unknown, statusCode?: number): unknown
  /** Nest's `AbstractHttpAdapter.isHeadersSent()`: true once `response` has started. */
  isHeadersSent(response: unknown): boolean
  /** Nest's `AbstractHttpAdapter.setHeader()`: sets a header on `response`. */
  setHeader(response: unknown, name: string, value: string): unknown
}

/** Nest's `HttpAdapterHost`: the HTTP adapter, once the application made it. */
export interface NestHttpAdapterHostLike {
  /** Nest's `HttpAdapterHost.httpAdapter`; undefined until the application made it. */
  readonly httpAdapter: NestHttpAdapterLike | undefined
}

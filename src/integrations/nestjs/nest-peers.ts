import { HardError } from '../../basics/errors'

/** @internal What this library uses of `@nestjs/core`. */
export interface NestCorePeer {
  readonly APP_INTERCEPTOR: string
  readonly APP_FILTER: string
  readonly HttpAdapterHost: abstract new (...args: never[]) => unknown
}

/** @internal What this library uses of `@nestjs/typeorm`. */
export interface NestTypeOrmPeer {
  getDataSourceToken(dataSource?: string): string | (abstract new (...args: never[]) => unknown)
}

/** @internal What this library uses of `rxjs`. */
export interface RxjsPeer {
  readonly Observable: new <T>(subscribe: (subscriber: RxSubscriber<T>) => (() => void) | void) => RxObservable<T>
}

/** @internal An rxjs Subscriber, as far as the interceptor drives it. */
export interface RxSubscriber<T> {
  next(value: T): void
  error(error: unknown): void
  complete(): void
  readonly closed: boolean
}

/** @internal An rxjs Observable, as far as the interceptor hands it back. */
export interface RxObservable<T> {
  subscribe(observer: Partial<RxSubscriber<T>>): { unsubscribe(): void }
}

// Nest and rxjs are optional peers: they are loaded on first use, so that an
// application without them can import the rest of the library.
function load<T>(name: string, what: string): T {
  try {
    return require(name) as T
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
    // Only the package itself missing: a broken install inside it keeps its own error.
    if (code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`)) {
      throw new HardError(`${what} needs the package '${name}': npm install ${name}`, { cause: error })
    }
    throw error
  }
}

// The optional NestJS and rxjs peers, each loaded once on first use.
let core: NestCorePeer | undefined
let typeorm: NestTypeOrmPeer | undefined
let rxjs: RxjsPeer | undefined

/** @internal `@nestjs/core`, loaded on first use. */
export function nestCore(): NestCorePeer {
  return (core ??= load<NestCorePeer>('@nestjs/core', 'EventActionsModule'))
}

/** @internal `@nestjs/typeorm`, loaded on first use. */
export function nestTypeOrm(): NestTypeOrmPeer {
  return (typeorm ??= load<NestTypeOrmPeer>('@nestjs/typeorm', 'EventActionsModule'))
}

/** @internal `rxjs`, loaded on first use. */
export function rx(): RxjsPeer {
  return (rxjs ??= load<RxjsPeer>('rxjs', 'EventActionsInterceptor'))
}

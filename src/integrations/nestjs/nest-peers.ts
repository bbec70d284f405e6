import { loadOptionalPeer } from '../../basics/optional-peer'

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

// Nest and rxjs are optional peers, loaded on first use.
const load = loadOptionalPeer

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

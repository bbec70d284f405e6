import type { ActionUser } from '../../scope/action-context'
import type { ActionEvents } from '../../actions/action-events'
import type { EventActionsConfig } from '../../setup/event-actions-config'
import type { NestRequestLike } from './nest-types'

/**
 * How {@link EventActionsInterceptor} turns a request into an action. Every
 * resolver defaults to what the Express middleware does.
 *
 * @example
 * ```ts
 * const settings: EventActionsRequestOptions = {
 *   resolveUser: (req) => (req.user ? { id: (req.user as { sub: string }).sub } : undefined),
 *   resolveAction: (req) => `${req.method.toLowerCase()}:${req.path}`,
 * }
 * ```
 */
export interface EventActionsRequestOptions {
  /** The action name of a request. Defaults to `${resource}:${verb}` from the method and path (`POST /orders/7/submit` is `orders:submit`). */
  resolveAction?: (req: NestRequestLike) => string
  /** The acting user. Defaults to `req.user` (set by an authentication guard). */
  resolveUser?: (req: NestRequestLike) => ActionUser | undefined
  /** The action's `params` for action-event handlers. Defaults to the route params, `query` and `body`. */
  resolveParams?: (req: NestRequestLike) => Record<string, unknown>
  /**
   * The request's language, for `ctx.locale` and the 400/500 bodies.
   * Defaults to `Accept-Language` (quality values honoured), negotiated
   * against `locales` when given.
   */
  resolveLocale?: (req: NestRequestLike) => string | undefined
  /**
   * The languages the application has texts for, e.g. `['en', 'ru']`: the
   * best one the client accepts is chosen (`fr-CA` finds `fr`). Without it,
   * the client's first choice is taken as it is.
   */
  locales?: readonly string[]
}

/**
 * What a {@link EventActionsModule.forRootAsync} factory returns: the
 * settings that may come from other providers (configuration, secrets).
 *
 * @example
 * ```ts
 * useFactory: (config: ConfigService): EventActionsModuleSettings => ({ config: { maxDepth: config.get('MAX_DEPTH') } })
 * ```
 */
export interface EventActionsModuleSettings extends EventActionsRequestOptions {
  /**
   * The subscriber's settings, used when the module registers the subscriber
   * itself. A DataSource built with `withEventActions(options, config)`
   * already has its settings: giving them here as well is refused.
   */
  config?: EventActionsConfig
  /** The action-event registry; injectable as `ActionEvents`. Defaults to a new, empty one. */
  events?: ActionEvents
  /**
   * Where the exception filter logs error answers (a 4xx as one `warn` line,
   * a 5xx with the error's stack). `console`, pino and winston fit.
   * Defaults to `config.logger`, else `console`.
   */
  logger?: EventActionsConfig['logger']
}

/**
 * Where the module attaches and what it registers; known when the module
 * is declared, so not part of the async factory's result.
 *
 * @example
 * ```ts
 * const where: EventActionsModuleRegistration = { dataSource: 'reporting', filter: false }
 * ```
 */
export interface EventActionsModuleRegistration {
  /** The `name` given to `TypeOrmModule.forRoot`. Defaults to the default data source. */
  dataSource?: string
  /** Register {@link EventActionsInterceptor} for every route. Defaults to `true`. */
  interceptor?: boolean
  /** Register {@link EventActionsExceptionFilter} for every route. Defaults to `true`. */
  filter?: boolean
}

/**
 * Options of {@link EventActionsModule.forRoot}.
 *
 * @example
 * ```ts
 * EventActionsModule.forRoot({ config: { maxDepth: 16 }, resolveUser: (req) => req.user as ActionUser })
 * ```
 */
export interface EventActionsModuleOptions extends EventActionsModuleSettings, EventActionsModuleRegistration {}

/**
 * Options of {@link EventActionsModule.forRootAsync}: the settings come from
 * `useFactory`, which Nest calls with the providers named in `inject`.
 *
 * @example
 * ```ts
 * EventActionsModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ config: { maxDepth: config.get('MAX_DEPTH') } }),
 * })
 * ```
 */
export interface EventActionsModuleAsyncOptions extends EventActionsModuleRegistration {
  /** Modules whose exported providers `useFactory` needs. */
  imports?: readonly unknown[]
  /** The providers `useFactory` is called with, in order. */
  inject?: readonly unknown[]
  /** Returns the settings; may be async. */
  useFactory: (...args: never[]) => EventActionsModuleSettings | Promise<EventActionsModuleSettings>
}

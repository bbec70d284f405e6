import type { DataSource } from 'typeorm'
import { ActionEvents } from '../../actions/action-events'
import { HardError } from '../../basics/errors'
import { checkLogger } from '../../setup/event-actions-config'
import { EventActions } from '../../operations/event-actions'
import { attachEventActions } from './attach-event-actions'
import { EventActionsExceptionFilter } from './event-actions-exception-filter'
import { EventActionsInterceptor } from './event-actions-interceptor'
import type {
  EventActionsModuleAsyncOptions,
  EventActionsModuleOptions,
  EventActionsModuleRegistration,
  EventActionsModuleSettings,
} from './event-actions-module-options'
import { nestCore, nestTypeOrm } from './nest-peers'
import type { NestHttpAdapterHostLike } from './nest-types'

/**
 * What `forRoot`/`forRootAsync` return: a Nest `DynamicModule`. Its
 * providers are Nest's business, so the type shows only what any `imports`
 * list needs.
 */
export interface EventActionsDynamicModule {
  /** `DynamicModule.module`: always {@link EventActionsModule}. */
  readonly module: typeof EventActionsModule
  /** `DynamicModule.global`: always true, so every module can inject `EventActions` and `ActionEvents`. */
  readonly global: boolean
}

const SETTINGS = Symbol('EventActionsModule.settings')
const DATA_SOURCE = Symbol('EventActionsModule.dataSource')

type Token = string | symbol | (abstract new (...args: never[]) => unknown)

interface FactoryProvider {
  provide: Token
  useFactory: (...args: never[]) => unknown
  inject?: (Token | { token: Token; optional: boolean })[]
}

const RESOLVERS = ['resolveAction', 'resolveUser', 'resolveParams', 'resolveLocale'] as const

function checkSettings(settings: EventActionsModuleSettings | null | undefined, where: string): EventActionsModuleSettings {
  if (settings === null || typeof settings !== 'object') {
    throw new HardError(`${where} needs an options object, got ${String(settings)}`)
  }
  for (const name of RESOLVERS) {
    if (settings[name] !== undefined && typeof settings[name] !== 'function') {
      throw new HardError(`${where}: ${name} must be a function, got ${typeof settings[name]}`)
    }
  }
  if (settings.locales !== undefined && (!Array.isArray(settings.locales) || !settings.locales.every((l) => typeof l === 'string'))) {
    throw new HardError(`${where}: locales must be an array of language tags such as ['en', 'ru']`)
  }
  if (settings.events !== undefined && !(settings.events instanceof ActionEvents)) {
    throw new HardError(`${where}: events must be an ActionEvents registry (new ActionEvents())`)
  }
  if (settings.logger !== undefined) checkLogger(settings.logger, `${where}: logger`)
  if (settings.config?.logger !== undefined) checkLogger(settings.config.logger, `${where}: config.logger`)
  return settings
}

/**
 * The NestJS module of event actions. It gives the app's TypeORM DataSource
 * (from `@nestjs/typeorm`) the event-action subscriber unless it has it, and
 * checks it has the `AuditEntry` entity; makes `EventActions` and the
 * `ActionEvents` registry injectable everywhere; and registers, for every
 * route, {@link EventActionsInterceptor} (each request runs as an action with
 * its user) and {@link EventActionsExceptionFilter} (SoftError → 400 with
 * field errors, a client status such as 413 kept, anything else → 500).
 * Nest, `@nestjs/typeorm` and rxjs are loaded only when it is used.
 *
 * Each write in a request commits on its own, as with the Express middleware
 * without `dataSource`: handlers write through injected repositories, which a
 * per-request transaction could not reach.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot(withEventActions({ type: 'postgres', url: process.env.DB_URL, entities: [Order] })),
 *     EventActionsModule.forRoot({ resolveUser: (req) => (req.user ? { id: (req.user as User).id } : undefined) }),
 *   ],
 *   controllers: [OrdersController],
 * })
 * export class AppModule {}
 *
 * // in a service:
 * constructor(@Inject(EventActions) private readonly actions: EventActions) {}
 * ```
 */
export class EventActionsModule {
  /** The module with settings known at startup. */
  static forRoot(options: EventActionsModuleOptions = {}): EventActionsDynamicModule {
    const settings = checkSettings(options, 'EventActionsModule.forRoot')
    return build(options, [], { provide: SETTINGS, useFactory: () => settings })
  }

  /** The module with settings made by `useFactory` from other providers (configuration, secrets). */
  static forRootAsync(options: EventActionsModuleAsyncOptions): EventActionsDynamicModule {
    if (options === null || typeof options !== 'object' || typeof options.useFactory !== 'function') {
      throw new HardError('EventActionsModule.forRootAsync needs { useFactory, inject?, imports? }')
    }
    const factory = options.useFactory as (...args: unknown[]) => EventActionsModuleSettings | Promise<EventActionsModuleSettings>
    return build(options, options.imports ?? [], {
      provide: SETTINGS,
      useFactory: (async (...args: unknown[]) => checkSettings(await factory(...args), 'EventActionsModule.forRootAsync useFactory')) as FactoryProvider['useFactory'],
      inject: [...(options.inject ?? [])] as Token[],
    })
  }
}

// Long: the dynamic module's provider list, one entry per provider, read as one piece.
function build(registration: EventActionsModuleRegistration, imports: readonly unknown[], settings: FactoryProvider): EventActionsDynamicModule {
  const name = registration.dataSource ?? 'default'
  if (typeof name !== 'string' || name === '') {
    throw new HardError(`EventActionsModule: dataSource must be the name given to TypeOrmModule.forRoot, got ${JSON.stringify(name)}`)
  }
  const { APP_FILTER, APP_INTERCEPTOR, HttpAdapterHost } = nestCore()
  const dataSourceToken = nestTypeOrm().getDataSourceToken(name)
  const providers: FactoryProvider[] = [
    settings,
    {
      provide: DATA_SOURCE,
      // Optional, so that a missing TypeOrmModule gets an error that names it.
      inject: [{ token: dataSourceToken, optional: true }, SETTINGS],
      useFactory: ((dataSource: DataSource | undefined, s: EventActionsModuleSettings) => {
        if (!dataSource) {
          throw new HardError(
            `EventActionsModule found no TypeORM DataSource '${name}': import TypeOrmModule.forRoot(${name === 'default' ? '' : `{ name: '${name}', ... }`}) in the application module`,
          )
        }
        attachEventActions(dataSource, s.config, name)
        return dataSource
      }) as FactoryProvider['useFactory'],
    },
    {
      provide: ActionEvents,
      inject: [SETTINGS],
      useFactory: ((s: EventActionsModuleSettings) => s.events ?? new ActionEvents()) as FactoryProvider['useFactory'],
    },
    {
      provide: EventActions,
      inject: [DATA_SOURCE],
      useFactory: ((dataSource: DataSource) => new EventActions(dataSource)) as FactoryProvider['useFactory'],
    },
  ]
  if (registration.interceptor !== false) {
    providers.push({
      provide: APP_INTERCEPTOR,
      // DATA_SOURCE: requests are served only by an app whose DataSource passed the checks.
      inject: [SETTINGS, ActionEvents, HttpAdapterHost, DATA_SOURCE],
      useFactory: ((s: EventActionsModuleSettings, events: ActionEvents, httpAdapterHost: NestHttpAdapterHostLike, dataSource: DataSource) =>
        new EventActionsInterceptor({
          events,
          httpAdapterHost,
          dataSource,
          resolveAction: s.resolveAction,
          resolveUser: s.resolveUser,
          resolveParams: s.resolveParams,
          resolveLocale: s.resolveLocale,
          locales: s.locales,
        })) as FactoryProvider['useFactory'],
    })
  }
  if (registration.filter !== false) {
    providers.push({
      provide: APP_FILTER,
      inject: [SETTINGS, HttpAdapterHost],
      useFactory: ((s: EventActionsModuleSettings, httpAdapterHost: NestHttpAdapterHostLike) =>
        new EventActionsExceptionFilter({
          httpAdapterHost,
          resolveLocale: s.resolveLocale,
          locales: s.locales,
          logger: s.logger ?? s.config?.logger,
        })) as FactoryProvider['useFactory'],
    })
  }
  const module = { module: EventActionsModule, global: true, imports: [...imports], providers, exports: [EventActions, ActionEvents] }
  return module
}

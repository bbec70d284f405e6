import { EventSubscriber } from 'typeorm'
import { Dispatcher } from '../dispatch/dispatcher'
import { HandlerContext } from '../entity/handler-context'
import { EventActionSubscriberBase } from '../typeorm/event-action-subscriber-base'
import { CONFIGURED_LOGGER, JOB_BACKEND } from '../typeorm/our-subscriber'
import { installTypeOrmPatches } from '../typeorm/typeorm-internals'
import { resolveConfig, type EventActionsConfig, type ResolvedConfig } from './event-actions-config'

/** The dispatcher for `config`, whose handlers receive a {@link HandlerContext}. */
function dispatcherFor(resolved: ResolvedConfig): Dispatcher {
  const Context = HandlerContext.withServices({ onAfterCommitError: resolved.onAfterCommitError, jobs: resolved.jobs })
  return new Dispatcher(resolved, (site, entity, timing, group, previousSource, source) => new Context(site, entity, timing, group, previousSource, source))
}

/**
 * The TypeORM subscriber that turns TypeORM's entity events into event
 * actions. Register it with {@link withEventActions} (or list it in
 * `subscribers` yourself for the default settings).
 *
 * @example
 * ```ts
 * const dataSource = new DataSource(withEventActions({ type: 'sqlite', database: 'app.sqlite', entities: [Account] }))
 * ```
 */
@EventSubscriber()
export class EventActionSubscriber extends EventActionSubscriberBase {
  constructor(config?: EventActionsConfig) {
    const resolved = resolveConfig(config)
    super(dispatcherFor(resolved), resolved)
    this[CONFIGURED_LOGGER] = config?.logger
    this[JOB_BACKEND] = resolved.jobs
  }

  /** @internal The config's jobs backend, for runAction's durable bindings and for workers. */
  readonly [JOB_BACKEND]: ResolvedConfig['jobs']

  /** @internal The config's logger, for the HTTP integrations given this DataSource. */
  readonly [CONFIGURED_LOGGER]: EventActionsConfig['logger']

  /**
   * A subscriber class bound to `config`: TypeORM instantiates subscribers
   * from their class, so settings travel in a subclass.
   */
  static withConfig(config: EventActionsConfig): typeof EventActionSubscriber {
    resolveConfig(config)
    // Not registered with @EventSubscriber(): TypeORM's global storage would keep
    // one class per call. The patched buildSubscribers builds it from the list.
    installTypeOrmPatches()
    return class ConfiguredEventActionSubscriber extends EventActionSubscriber {
      constructor() {
        super(config)
      }
    }
  }
}

// Before any DataSource initializes: TypeORM builds subscribers in initialize(), and the
// patched buildSubscribers is what places ours where the application listed it.
installTypeOrmPatches()

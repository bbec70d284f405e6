import { EventSubscriber } from 'typeorm'
import { Dispatcher } from '../dispatch/dispatcher'
import { HandlerContext } from '../entity/handler-context'
import { EventActionSubscriberBase } from '../typeorm/event-action-subscriber-base'
import { resolveConfig, type EventActionsConfig } from './event-actions-config'

/** The dispatcher for `config`, whose handlers receive a {@link HandlerContext}. */
function dispatcherFor(config: EventActionsConfig | undefined): Dispatcher {
  const resolved = resolveConfig(config)
  const { onAfterCommitError } = resolved
  return new Dispatcher(
    resolved,
    (info, entity, timing, type, group, manager, depth, parent, soft, previousSource, source) =>
      new HandlerContext(info, entity, timing, type, group, manager, depth, parent, soft, previousSource, onAfterCommitError, source),
  )
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
    super(dispatcherFor(config))
  }

  /**
   * A subscriber class bound to `config`: TypeORM instantiates subscribers
   * from their class, so settings travel in a subclass.
   */
  static withConfig(config: EventActionsConfig): typeof EventActionSubscriber {
    resolveConfig(config)
    class ConfiguredEventActionSubscriber extends EventActionSubscriber {
      constructor() {
        super(config)
      }
    }
    EventSubscriber()(ConfiguredEventActionSubscriber)
    return ConfiguredEventActionSubscriber
  }
}

import type { DataSourceOptions } from 'typeorm'
import { EventActionSubscriber } from './event-action-subscriber'
import type { EventActionsConfig } from './event-actions-config'

type Subscribers = NonNullable<DataSourceOptions['subscribers']>

function subscriberList(subscribers: Subscribers | undefined): (Function | string)[] {
  if (!subscribers) return []
  return Array.isArray(subscribers) ? [...subscribers] : Object.values(subscribers)
}

function isEventActionSubscriber(s: Function | string): boolean {
  return typeof s === 'function' && (s === EventActionSubscriber || s.prototype instanceof EventActionSubscriber)
}

/**
 * Returns `options` with the event-action subscriber added (replacing one
 * that is already listed, so events never fire twice). Pass the result to
 * `new DataSource(...)`.
 *
 * @example
 * ```ts
 * export const dataSource = new DataSource(
 *   withEventActions({ type: 'postgres', url: process.env.DB_URL, entities: [Account, Order] }, { maxDepth: 16 }),
 * )
 * ```
 */
export function withEventActions<T extends DataSourceOptions>(options: T, config: EventActionsConfig = {}): T {
  const subscribers = subscriberList(options.subscribers).filter((s) => !isEventActionSubscriber(s))
  subscribers.push(EventActionSubscriber.withConfig(config))
  return { ...options, subscribers }
}

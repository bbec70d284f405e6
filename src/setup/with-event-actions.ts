import type { DataSourceOptions } from 'typeorm'
import { AuditEntry } from '../audit/audit-entry'
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

function withAuditEntry(entities: DataSourceOptions['entities']): DataSourceOptions['entities'] {
  if (!entities) return [AuditEntry]
  const list = Array.isArray(entities) ? [...entities] : Object.values(entities)
  return list.includes(AuditEntry) ? list : [...list, AuditEntry]
}

/**
 * Returns `options` with the event-action subscriber and the `AuditEntry`
 * entity added (an already listed subscriber is replaced, so events never
 * fire twice). Pass the result to `new DataSource(...)`.
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
  return { ...options, subscribers, entities: withAuditEntry(options.entities) }
}

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
 * entity added, for `new DataSource(...)`. The subscriber takes the place of
 * one already listed (so events never fire twice), else it comes last: it
 * runs after the application's own subscribers, in the order of the list.
 * `config.auditTable: false` leaves `AuditEntry` out.
 *
 * @example
 * ```ts
 * export const dataSource = new DataSource(
 *   withEventActions({ type: 'postgres', url: process.env.DB_URL, entities: [Account, Order] }, { maxDepth: 16 }),
 * )
 * ```
 */
export function withEventActions<T extends DataSourceOptions>(options: T, config: EventActionsConfig = {}): T {
  const ours = EventActionSubscriber.withConfig(config)
  const listed = subscriberList(options.subscribers)
  const at = listed.findIndex(isEventActionSubscriber)
  const subscribers = at === -1 ? [...listed, ours] : [...listed.slice(0, at), ours, ...listed.slice(at + 1).filter((s) => !isEventActionSubscriber(s))]
  const entities = config.auditTable === false ? options.entities : withAuditEntry(options.entities)
  return { ...options, subscribers, entities }
}

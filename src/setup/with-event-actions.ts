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

function withEntities(entities: DataSourceOptions['entities'], added: readonly Function[]): DataSourceOptions['entities'] {
  const list = !entities ? [] : Array.isArray(entities) ? [...entities] : Object.values(entities)
  for (const entity of added) if (!list.includes(entity)) list.push(entity)
  return list
}

/**
 * Returns `options` with the event-action subscriber and the `AuditEntry`
 * entity added, for `new DataSource(...)`. The subscriber takes the place of
 * one already listed (so events never fire twice), else it comes last: it
 * runs after the application's own subscribers, in the order of the list.
 * `config.auditTable: false` leaves `AuditEntry` out. A `config.jobs`
 * backend that keeps a table (BullMQ's outbox) adds its entity too.
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
  // The jobs backend's own tables (BullMQ's outbox) come with it, as the audit table does.
  const added = [...(config.auditTable === false ? [] : [AuditEntry]), ...(config.jobs?.entities ?? [])]
  const entities = added.length ? withEntities(options.entities, added) : options.entities
  return { ...options, subscribers, entities }
}

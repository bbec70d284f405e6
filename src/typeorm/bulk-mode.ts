import type { DataSource } from 'typeorm'
import type { EntityInfo } from '../metadata/entity-info'
import { BULK_SETTINGS, ourSubscriber, usesEventActionsOn, type BulkSettings } from './our-subscriber'

/**
 * @internal How a bulk write of this entity runs on this DataSource:
 * `'none'` when nothing of the library applies (no subscriber, no event
 * actions, or `bulkWrites: 'allow'`), else the entity's own setting, else
 * the DataSource's (`'events'` by default).
 */
export function bulkModeOf(connection: DataSource, info: EntityInfo): 'none' | 'events' | 'forbid' {
  if (!info.active || info.bulkWritesAllowed || !usesEventActionsOn(connection)) return 'none'
  if (info.bulkWrites === 'events' || info.bulkWrites === 'forbid') return info.bulkWrites
  return bulkSettingsOf(connection).bulkWrites
}

/** @internal The bulk settings of `connection`'s subscriber (the defaults when it has none). */
export function bulkSettingsOf(connection: DataSource): BulkSettings {
  return (ourSubscriber(connection)?.[BULK_SETTINGS] as BulkSettings | undefined) ?? { bulkWrites: 'events', bulkBatchSize: 1000 }
}

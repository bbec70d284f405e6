import type { DataSource, DataSourceOptions } from 'typeorm'
import { AuditEntry } from '../../audit/audit-entry'
import { HardError } from '../../basics/errors'
import { EventActionSubscriber } from '../../setup/event-action-subscriber'
import type { EventActionsConfig } from '../../setup/event-actions-config'
import { SUBSCRIBER_MARK } from '../../typeorm/our-subscriber'

function isSubscriberInstance(s: object): boolean {
  return (s as Record<symbol, unknown>)[SUBSCRIBER_MARK] === true
}

function isSubscriberClass(s: unknown): boolean {
  return typeof s === 'function' && (s === EventActionSubscriber || s.prototype instanceof EventActionSubscriber)
}

type MixedList = DataSourceOptions['entities'] | DataSourceOptions['subscribers']

function listOf(value: MixedList): unknown[] {
  if (!value) return []
  return Array.isArray(value) ? [...(value as unknown[])] : Object.values(value)
}

/**
 * @internal Gives a DataSource made elsewhere (by `TypeOrmModule`) the
 * event-action subscriber, unless it has it already, and checks that it has
 * the `AuditEntry` entity. An initialized DataSource gets a subscriber
 * instance: TypeORM's broadcaster reads `dataSource.subscribers` at every
 * event, so one added now takes part from the next write on. A DataSource not
 * yet initialized (`manualInitialization`) gets the subscriber class and
 * `AuditEntry` in its options, which `initialize()` reads. Never adds a second
 * subscriber: every event would then fire twice.
 */
export function attachEventActions(dataSource: DataSource, config: EventActionsConfig | undefined, label: string): void {
  const where = `EventActionsModule (data source '${label}')`
  if (dataSource.isInitialized) {
    const present = dataSource.subscribers.filter(isSubscriberInstance).length
    if (present > 1) {
      throw new HardError(
        `${where}: the DataSource has the event-action subscriber ${present} times, so every event would fire ${present} times; ` +
          `list it once (withEventActions(options) replaces one already listed)`,
      )
    }
    if (!dataSource.hasMetadata(AuditEntry)) {
      throw new HardError(
        `${where}: the DataSource has no AuditEntry entity, which audit entries are written to; ` +
          `add it to TypeOrmModule.forRoot({ entities: [..., AuditEntry] }), or pass the options through withEventActions(options)`,
      )
    }
    if (present === 1) {
      refuseSecondConfig(where, config)
      return
    }
    dataSource.subscribers.push(new EventActionSubscriber(config))
    return
  }
  const options = dataSource.options
  const subscribers = listOf(options.subscribers)
  const present = subscribers.filter(isSubscriberClass).length
  if (present > 1) {
    throw new HardError(
      `${where}: the DataSource options list the event-action subscriber ${present} times, so every event would fire ${present} times; list it once`,
    )
  }
  if (present === 1) refuseSecondConfig(where, config)
  else subscribers.push(EventActionSubscriber.withConfig(config ?? {}))
  const entities = listOf(options.entities)
  if (!entities.includes(AuditEntry)) entities.push(AuditEntry)
  dataSource.setOptions({ subscribers, entities } as Partial<DataSourceOptions>)
}

function refuseSecondConfig(where: string, config: EventActionsConfig | undefined): void {
  if (config !== undefined && Object.keys(config).length > 0) {
    throw new HardError(
      `${where}: the DataSource already has the event-action subscriber (withEventActions or subscribers), ` +
        `whose settings stand; give the config in one place: withEventActions(options, config) or EventActionsModule.forRoot({ config })`,
    )
  }
}

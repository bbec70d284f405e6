import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm'

/**
 * @internal Marks our subscriber, without importing its class here: its
 * instances carry it, and so does its class (a static), for buildSubscribers.
 */
export const SUBSCRIBER_MARK: unique symbol = Symbol('typeorm-event-actions.subscriber')

/** @internal On our subscriber: true when its config allows clear() (see clear-guard.ts). */
export const CLEAR_ALLOWED: unique symbol = Symbol('typeorm-event-actions.allowClear')

/** @internal On our subscriber: the `logger` of its config, or undefined (integrations log there by default). */
export const CONFIGURED_LOGGER: unique symbol = Symbol('typeorm-event-actions.logger')

/** @internal On our subscriber: the `jobs` backend of its config (a JobSink here; jobs/ knows it as a JobBackend), or undefined. */
export const JOB_BACKEND: unique symbol = Symbol('typeorm-event-actions.jobs')

/** @internal On our subscriber: its {@link BulkSettings} (see bulk-write-guard.ts). */
export const BULK_SETTINGS: unique symbol = Symbol('typeorm-event-actions.bulkSettings')

/** @internal How a DataSource's bulk writes run, from its config. */
export interface BulkSettings {
  readonly bulkWrites: 'events' | 'forbid'
  readonly bulkBatchSize: number
}

/** @internal On our subscriber: fires an Update of an owner whose only change was a many-to-many relation (junction-changes.ts). */
export const JUNCTION_UPDATE: unique symbol = Symbol('typeorm-event-actions.junctionUpdate')

/** @internal What junction-changes.ts hands our subscriber for such an owner. */
export interface JunctionUpdate {
  readonly metadata: EntityMetadata
  readonly entity: ObjectLiteral
  readonly databaseEntity: ObjectLiteral
  readonly queryRunner: QueryRunner
  /** The many-to-many relations whose junction rows the save inserts or deletes. */
  readonly relations: readonly string[]
}

/** @internal True for our subscriber class (or a configured subclass of it). */
export function isOurs(cls: unknown): cls is new () => object {
  return typeof cls === 'function' && (cls as unknown as Record<symbol, unknown>)[SUBSCRIBER_MARK] === true
}

/** @internal Our subscriber on `connection`, if it has one. */
export function ourSubscriber(connection: DataSource): Record<symbol, unknown> | undefined {
  return connection.subscribers.find((s) => (s as unknown as Record<symbol, unknown>)[SUBSCRIBER_MARK] === true) as
    | Record<symbol, unknown>
    | undefined
}

// The one cache of which DataSources have the subscriber.
const usesEventActions = new WeakMap<DataSource, boolean>()

/** @internal True when `connection` has our subscriber (cached once it is initialized with it). */
export function usesEventActionsOn(connection: DataSource): boolean {
  if (usesEventActions.get(connection)) return true
  const uses = ourSubscriber(connection) !== undefined
  // Only a yes is final: a subscriber can still be added to an initialized DataSource (the NestJS module does).
  if (uses && connection.isInitialized) usesEventActions.set(connection, true)
  return uses
}

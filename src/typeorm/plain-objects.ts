import type { DataSource, EntityMetadata, ObjectLiteral } from 'typeorm'
import { EntityPersistExecutor } from 'typeorm/persistence/EntityPersistExecutor'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { bulkModeOf } from './bulk-mode'
import { patchMethod } from './patch-method'

/** The parts of EntityPersistExecutor read here: `connection` on 0.3, `dataSource` on 1.x, the rest on both. */
interface PersistExecutor {
  connection?: DataSource
  dataSource?: DataSource
  target?: Function | string
  entity: ObjectLiteral | ObjectLiteral[]
  options?: { listeners?: boolean }
}

type Execute = (this: PersistExecutor) => Promise<void>

/** @internal Plain objects turned into instances, and how to give the written values back. */
export interface Instances {
  readonly list: ObjectLiteral[]
  /** Gives each plain object what its instance holds after the write: generated ids, defaults, dates, handler changes. */
  copyBack(): void
}

/**
 * @internal The instances for `objects`, built with `create()` where a value
 * is a plain object of an entity with event actions (instances stay as they
 * are); undefined when there is none. Handlers run on instances only: a
 * plain object has no `_eventAction` and is not `this` of a class.
 */
export function instancesFor(connection: DataSource, metadata: EntityMetadata, info: EntityInfo, objects: readonly ObjectLiteral[]): Instances | undefined {
  if (!objects.some((o) => !info.isInstance(o))) return undefined
  const list = objects.map((o) => (info.isInstance(o) ? o : (connection.manager.create(metadata.target, o) as ObjectLiteral)))
  return {
    list,
    copyBack() {
      objects.forEach((plain, i) => {
        if (plain !== list[i]) copyColumns(metadata, list[i]!, plain)
      })
    },
  }
}

/** @internal Gives `to` the column values `from` holds (what was written into an instance, for the caller's object). */
export function copyColumns(metadata: EntityMetadata, from: ObjectLiteral, to: ObjectLiteral): void {
  for (const column of metadata.columns) {
    if (column.isVirtual || (column.relationMetadata && column.propertyName === column.relationMetadata.propertyName)) continue
    if (column.relationMetadata && !column.embeddedMetadata) {
      // A column of its own that is also a relation's join column (`parentId` beside `parent`): getEntityValue reads through the relation.
      if (from[column.propertyName] !== to[column.propertyName]) to[column.propertyName] = from[column.propertyName]
      continue
    }
    const value: unknown = column.getEntityValue(from)
    if (value !== column.getEntityValue(to)) column.setEntityValue(to, value)
  }
}

/** The instances a save()/remove() of plain objects runs on, or undefined when it runs as given. */
function plainInstances(executor: PersistExecutor): Instances | undefined {
  const connection = (executor.dataSource ?? executor.connection)!
  if (executor.target === undefined || executor.options?.listeners === false || !executor.entity || typeof executor.entity !== 'object') return undefined
  if (!connection.hasMetadata(executor.target)) return undefined
  const metadata = connection.getMetadata(executor.target)
  const info = entityInfo(metadata)
  const objects = Array.isArray(executor.entity) ? executor.entity : [executor.entity]
  // Most saves hand over instances: they are told apart before the DataSource's settings are looked up.
  if (!info.active || objects.every((o) => info.isInstance(o)) || bulkModeOf(connection, info) !== 'events') return undefined
  return instancesFor(connection, metadata, info, objects)
}

/**
 * @internal Wraps EntityPersistExecutor.execute (save, remove, softRemove,
 * recover): `repository.save({ ... })` or `manager.save(Entity, { ... })` of
 * a plain object runs as `save(repository.create({ ... }))`, so that its
 * events run on an instance; the caller's object then receives what was
 * written, as TypeORM gives it. A plain object with the primary key of an
 * existing row is an Update of what differs. `{ listeners: false }` and
 * entities set to `bulkWrites: 'forbid'` or `'allow'` are left as they are.
 */
export function convertPlainObjects(): void {
  patchMethod<Execute>(
    EntityPersistExecutor.prototype,
    'execute',
    (original) =>
      function (this: PersistExecutor) {
        let instances: Instances | undefined
        try {
          instances = plainInstances(this)
        } catch (error) {
          // An entity whose declarations are wrong fails here first: as a rejection, like every other failure of save().
          return Promise.reject(error)
        }
        if (!instances) return original.call(this)
        const given = this.entity
        this.entity = Array.isArray(given) ? instances.list : instances.list[0]!
        return original.call(this).then(
          () => {
            this.entity = given
            instances.copyBack()
          },
          (error: unknown) => {
            this.entity = given
            throw error
          },
        )
      },
    'plain-objects',
  )
}

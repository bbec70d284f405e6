import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm'
import { HardError } from '../basics/errors'
import { stableJson } from '../basics/stable-json'
import { AuditEntry } from './audit-entry'

/**
 * The audit entries of one entity, oldest first. `id` is the primary key
 * value (or, for composite keys, an object of them).
 *
 * @example
 * ```ts
 * const history = await auditTrail(dataSource, Order, order.id)
 * history.map((e) => `${e.operation} by ${e.userId}: ${JSON.stringify(e.changes)}`)
 * ```
 */
export async function auditTrail<E extends ObjectLiteral>(
  source: DataSource | EntityManager,
  entity: EntityTarget<E>,
  id: string | number | ObjectLiteral,
): Promise<AuditEntry[]> {
  const manager = 'manager' in source && !('queryRunner' in source) ? source.manager : (source as EntityManager)
  const metadata = manager.connection.getMetadata(entity)
  // An unsaved entity's id would be looked up as the text 'undefined' and quietly find nothing.
  if (id === undefined || id === null || (typeof id === 'number' && !Number.isFinite(id))) {
    throw new HardError(`auditTrail(${metadata.name}) needs a primary key value, got ${String(id)}: is the entity saved?`, {
      entityName: metadata.name,
      attribute: metadata.primaryColumns[0]?.propertyPath,
    })
  }
  return manager.getRepository(AuditEntry).find({
    where: { entityName: metadata.name, entityId: typeof id === 'object' ? stableJson(id) : String(id) },
    order: { id: 'ASC' },
  })
}

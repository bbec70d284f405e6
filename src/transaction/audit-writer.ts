import type { ObjectLiteral, QueryRunner } from 'typeorm'
import { AuditEntry } from '../audit/audit-entry'
import { HardError } from '../basics/errors'
import { stableJson } from '../basics/stable-json'
import type { EntityInfo } from '../metadata/entity-info'
import type { ActionContext } from '../scope/action-context'

/** @internal An audit entry waiting for its transaction to commit. */
export interface PendingAudit {
  readonly info: EntityInfo
  /** Where the key is read at flush time, so a Pre Insert entry gets the generated key. */
  readonly entity: ObjectLiteral
  /** Where the key is read when the entity's was cleared (a removed instance). */
  readonly fallback: ObjectLiteral | undefined
  /** The entity whose event made the entry: outside a transaction, its Post event writes it. */
  readonly owner: ObjectLiteral
  readonly operation: string
  /** The `{ attr: { old, new } }` as JSON, measured when it was recorded. */
  readonly changes: string
  readonly action: ActionContext | undefined
}

/** The key as a string; a composite key as JSON with sorted keys, so that it has one string form. */
function idString(info: EntityInfo, entity: ObjectLiteral | undefined): string | undefined {
  if (!entity) return undefined
  const columns = info.metadata.primaryColumns
  const values = columns.map((c) => c.getEntityValue(entity) as unknown)
  if (values.some((v) => v === undefined || v === null)) return undefined
  if (values.length === 1) return String(values[0])
  return stableJson(Object.fromEntries(columns.map((c, i) => [c.propertyPath, values[i]])))
}

// `at` is written, not left to the column default: the database's clock reads in the
// database's time zone, which the drivers would take for Node's and shift by the difference.
const AUDIT_PROPERTIES = ['entityName', 'entityId', 'operation', 'changes', 'userId', 'actionName', 'requestId', 'transactionId', 'at'] as const

function toValues(audit: PendingAudit, transactionId: string, at: unknown): unknown[] {
  const entityId = idString(audit.info, audit.entity) ?? idString(audit.info, audit.fallback)
  if (entityId === undefined) {
    const key = audit.info.metadata.primaryColumns.map((c) => c.propertyPath).join(', ')
    throw new HardError(`cannot audit ${audit.info.name} '${audit.operation}': it has no primary key value (${key})`, {
      entityName: audit.info.name,
      attribute: audit.info.metadata.primaryColumns[0]?.propertyPath,
    })
  }
  const { action } = audit
  return [
    audit.info.name,
    entityId,
    audit.operation,
    audit.changes,
    action?.user === undefined ? null : String(action.user.id),
    action?.name ?? null,
    action?.requestId ?? null,
    transactionId,
    at,
  ]
}

// SQLite builds may allow only 999 bound parameters per statement (9 columns x 100 rows stays under
// it); PostgreSQL allows 65,535 and MySQL/MariaDB are bounded by packet size, so they take larger batches.
function rowsPerInsert(type: string): number {
  return type === 'sqlite' || type === 'better-sqlite3' ? 100 : 1000
}

/**
 * @internal One parameterized multi-row INSERT per batch. Written by hand rather than
 * through TypeORM's InsertQueryBuilder, whose parameter bookkeeping grows
 * faster than the batch (it tripled the cost of an audited save on PostgreSQL).
 */
export async function insertAudits(queryRunner: QueryRunner, audits: PendingAudit[], transactionId: string): Promise<void> {
  const { driver } = queryRunner.connection
  if (!queryRunner.connection.hasMetadata(AuditEntry)) {
    const first = audits[0]!
    throw new HardError(
      `cannot audit ${first.info.name} '${first.operation}': the DataSource has no AuditEntry entity ` +
        `(withEventActions(options, { auditTable: false }) leaves it out); list AuditEntry in its entities, or audit nothing`,
      { entityName: first.info.name },
    )
  }
  const metadata = queryRunner.connection.getMetadata(AuditEntry)
  const columns = AUDIT_PROPERTIES.map((p) => driver.escape(metadata.findColumnWithPropertyName(p)!.databaseName)).join(', ')
  const table = driver.escape(metadata.tableName)
  const numbered = driver.options.type === 'postgres'
  const batch = rowsPerInsert(driver.options.type)
  const at = driver.preparePersistentValue(new Date(), metadata.findColumnWithPropertyName('at')!)
  for (let i = 0; i < audits.length; i += batch) {
    const params: unknown[] = []
    const tuples: string[] = []
    for (const audit of audits.slice(i, i + batch)) {
      const values = toValues(audit, transactionId, at)
      tuples.push(`(${values.map((v) => (params.push(v), numbered ? `$${params.length}` : '?')).join(', ')})`)
    }
    await queryRunner.query(`INSERT INTO ${table} (${columns}) VALUES ${tuples.join(', ')}`, params)
  }
}

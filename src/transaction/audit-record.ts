import type { EntityManager, ObjectLiteral } from 'typeorm'
import { currentAction } from '../scope/async-scope'
import type { AttributeGroup } from '../basics/attribute-group'
import type { EntityInfo } from '../metadata/entity-info'
import { EventActionType } from '../basics/event-action-type'
import { HardError } from '../basics/errors'
import { recordAudit } from './transaction-state'
import type { AuditChange } from '../audit/audit-entry'

/** Which attributes of an entity an audit records, and how a value is written down. */
interface AuditPlan {
  readonly attributes: readonly string[]
  readonly allowed: ReadonlySet<string>
  value(entity: ObjectLiteral | undefined, path: string): unknown
}

// The one cache of audit plans (which attributes an entry holds) per entity.
const plans = new WeakMap<EntityInfo, AuditPlan>()

function planFor(info: EntityInfo): AuditPlan {
  let plan = plans.get(info)
  if (plan) return plan
  const { metadata } = info
  const options = info.audit ?? {}
  const columns = metadata.columns.filter((c) => !c.isVirtual && !c.isDiscriminator && !c.relationMetadata)
  // Only relations stored in this row (many-to-one, owning one-to-one) are part of its history.
  const relations = metadata.relationsWithJoinColumns
  let attributes = [...columns.map((c) => c.propertyPath), ...relations.map((r) => r.propertyPath)]
  if (options.only) attributes = attributes.filter((a) => options.only!.includes(a))
  if (options.exclude) attributes = attributes.filter((a) => !options.exclude!.includes(a))
  const relationByPath = new Map(relations.map((r) => [r.propertyPath, r]))
  plan = {
    attributes,
    allowed: new Set(attributes),
    value(entity, path) {
      if (!entity) return null
      const raw = info.read(entity, path)
      if (raw === undefined || raw === null) return null
      const relation = relationByPath.get(path)
      // A related entity (or the { id } TypeORM loads for the database copy) is recorded as its id.
      if (relation && typeof raw === 'object') return relation.inverseEntityMetadata.getEntityIdMixedMap(raw) ?? null
      return raw
    },
  }
  plans.set(info, plan)
  return plan
}

/**
 * @internal The `{ attr: { old, new } }` of an event, limited to what the
 * entity's audit settings allow. Insert: the written values; Update: the
 * group, old and new; Delete: the last values; anything else: current values.
 */
export function auditChanges(
  info: EntityInfo,
  entity: ObjectLiteral,
  type: EventActionType,
  group: AttributeGroup | null,
  previous: ObjectLiteral | undefined,
): Record<string, AuditChange> {
  const plan = planFor(info)
  const changes: Record<string, AuditChange> = {}
  if (type === EventActionType.Delete) {
    for (const attr of plan.attributes) changes[attr] = { old: plan.value(previous ?? entity, attr), new: null }
    return changes
  }
  const attrs = group && (type === EventActionType.Insert || type === EventActionType.Update) ? group : plan.attributes
  for (const attr of attrs) {
    if (!plan.allowed.has(attr)) continue
    changes[attr] = {
      old: type === EventActionType.Update ? plan.value(previous, attr) : null,
      new: plan.value(entity, attr),
    }
  }
  return changes
}

const OPERATION: Partial<Record<EventActionType, string>> = {
  [EventActionType.Insert]: 'insert',
  [EventActionType.Update]: 'update',
  [EventActionType.Delete]: 'delete',
}

/** @internal The audit word of an event type: insert/update/delete, or the type in lower case. */
export function operationOf(type: EventActionType): string {
  return OPERATION[type] ?? type.toLowerCase()
}

/**
 * The `changes` column is TEXT on MariaDB/MySQL, 65,535 bytes; PostgreSQL and
 * SQLite would take more, but an entry that only some databases can hold
 * would make the same save fail or pass by database.
 */
const MAX_CHANGES_BYTES = 65_535

function tooLarge(info: EntityInfo, operation: string, changes: Record<string, AuditChange>, bytes: number): HardError {
  const sizes = Object.entries(changes)
    .map(([attribute, change]) => [attribute, Buffer.byteLength(JSON.stringify(change))] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
  const largest = sizes.map(([attribute, size]) => `${attribute} (${size} bytes)`).join(', ')
  return new HardError(
    `the audit entry of ${info.name} '${operation}' is ${bytes} bytes of JSON, more than the ${MAX_CHANGES_BYTES} the audit table ` +
      `holds on every database (TEXT on MariaDB/MySQL); the largest attributes: ${largest}. ` +
      `Leave large attributes out of the audit with @Audited({ exclude: ['${sizes[0]?.[0] ?? ''}'] })`,
    { entityName: info.name, attribute: sizes[0]?.[0] },
  )
}

/** @internal Queues one audit entry for the running transaction (the acting user read now). */
export function writeAuditEntry(
  manager: EntityManager,
  info: EntityInfo,
  entity: ObjectLiteral,
  operation: string,
  changes: Record<string, AuditChange>,
  fallback: ObjectLiteral | undefined,
  owner: ObjectLiteral,
): void | Promise<void> {
  const json = JSON.stringify(changes)
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short JSON needs no byte count.
  if (json.length * 3 > MAX_CHANGES_BYTES) {
    const bytes = Buffer.byteLength(json)
    if (bytes > MAX_CHANGES_BYTES) throw tooLarge(info, operation, changes, bytes)
  }
  return recordAudit(manager, { info, entity, fallback, owner, operation, changes: json, action: currentAction() })
}

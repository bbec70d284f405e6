import type { EntityManager, ObjectLiteral } from 'typeorm'
import { currentAction } from '../action-context'
import type { AttributeGroup } from '../attribute-group'
import type { EntityInfo } from '../entity-info'
import { EventActionType } from '../event-action-type'
import { recordAudit } from '../transaction-state'
import type { AuditChange } from './audit-entry'

/** Which attributes of an entity an audit records, and how a value is written down. */
interface AuditPlan {
  readonly attributes: readonly string[]
  readonly allowed: ReadonlySet<string>
  value(entity: ObjectLiteral | undefined, path: string): unknown
}

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
  return recordAudit(manager, { info, entity, fallback, owner, operation, changes, action: currentAction() })
}

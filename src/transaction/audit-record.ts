import type { EntityManager, ObjectLiteral } from 'typeorm'
import { currentAction } from '../scope/async-scope'
import type { AttributeGroup } from '../basics/attribute-group'
import type { EntityInfo } from '../metadata/entity-info'
import { EventActionType } from '../basics/event-action-type'
import { HardError } from '../basics/errors'
import { describeValue } from '../basics/describe-value'
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

/** True when `names` lists the attribute, or an embedded it belongs to (`creds` names `creds.key`). */
function isNamed(names: readonly string[], attribute: string): boolean {
  return names.some((name) => attribute === name || attribute.startsWith(`${name}.`))
}

function planFor(info: EntityInfo): AuditPlan {
  let plan = plans.get(info)
  if (plan) return plan
  const { metadata } = info
  const options = info.audit ?? {}
  const columns = metadata.columns.filter((c) => !c.isVirtual && !c.isDiscriminator && !c.relationMetadata)
  // Relations stored in this row (many-to-one, owning one-to-one) are recorded as the related id,
  // many-to-many ones (their junction rows) as the list of related ids; one-to-many live in the other rows.
  const relations = metadata.relationsWithJoinColumns
  const manyToMany = metadata.manyToManyRelations
  let attributes = [...columns.map((c) => c.propertyPath), ...relations.map((r) => r.propertyPath), ...manyToMany.map((r) => r.propertyPath)]
  if (options.only) attributes = attributes.filter((a) => isNamed(options.only!, a))
  if (options.exclude) attributes = attributes.filter((a) => !isNamed(options.exclude!, a))
  const relationByPath = new Map([...relations, ...manyToMany].map((r) => [r.propertyPath, r]))
  // A transformed column is recorded as stored: what its transformer writes (a class instance, even a circular one, is not JSON).
  const transformedByPath = new Map(columns.filter((c) => c.transformer).map((c) => [c.propertyPath, c]))
  plan = {
    attributes,
    allowed: new Set(attributes),
    value(entity, path) {
      if (!entity) return null
      const raw = info.read(entity, path)
      if (raw === undefined || raw === null) return null
      const relation = relationByPath.get(path)
      // A related entity (or the { id } TypeORM loads for the database copy) is recorded as its id.
      if (relation && Array.isArray(raw)) return raw.map((item: unknown) => (typeof item === 'object' && item !== null ? relation.inverseEntityMetadata.getEntityIdMixedMap(item) : item))
      if (relation && typeof raw === 'object') return relation.inverseEntityMetadata.getEntityIdMixedMap(raw) ?? null
      const transformed = transformedByPath.get(path)
      return transformed ? (transformed.getEntityValue(entity, true) as unknown) ?? null : raw
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

/** The `operation` column is varchar(50): PostgreSQL and MariaDB refuse a longer word at COMMIT, SQLite stores it. */
const MAX_OPERATION_CHARACTERS = 50

/**
 * @internal Why `operation` cannot be an entry's operation word, or undefined
 * when it can: the same answer on every database, before anything is queued.
 */
export function operationWordProblem(operation: unknown): string | undefined {
  if (typeof operation !== 'string' || operation.trim() === '') return `needs a non-empty operation word, got ${describeValue(operation)}`
  const length = codePoints(operation)
  if (length > MAX_OPERATION_CHARACTERS) {
    return `needs an operation word of at most ${MAX_OPERATION_CHARACTERS} characters (the audit table's column), got ${length}: ${describeValue(operation)}`
  }
  if (/[\u0000-\u001f\u007f]/.test(operation)) return `needs an operation word without control characters, got ${describeValue(operation)}`
  return undefined
}

/** The length as the databases count characters (code points), not UTF-16 units. */
function codePoints(text: string): number {
  if (text.length <= MAX_OPERATION_CHARACTERS) return text.length
  let n = text.length
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xdc00 && unit <= 0xdfff) n--
  }
  return n
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

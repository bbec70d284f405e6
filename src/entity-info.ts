import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { AttributeGroup } from './attribute-group'
import type { EventActionContext } from './event-action-context'
import type { EventActionTiming } from './event-action-timing'
import type { EventActionType } from './event-action-type'
import { entityOptionsOf } from './event-action-options'
import { auditedOptionsOf, type AuditedOptions } from './audit/audited'

/** @internal The `_eventAction` method, as the dispatcher calls it. */
export type EventActionHandler = (
  this: ObjectLiteral,
  timing: EventActionTiming,
  type: EventActionType,
  group: AttributeGroup | null,
  ctx: EventActionContext,
) => unknown

/** @internal One attribute slot: how to read it from an instance. */
interface AttributeSlot {
  readonly path: string
  /** The column, for column attributes; undefined for relations. */
  readonly column: ColumnMetadata | undefined
  read(entity: ObjectLiteral): unknown
}

/**
 * @internal What the dispatcher needs to know about one entity, computed
 * once per EntityMetadata so that the per-event cost is a lookup.
 */
export interface EntityInfo {
  readonly name: string
  readonly target: Function | undefined
  /** The prototype's `_eventAction`, or undefined when the entity has none. */
  readonly handler: EventActionHandler | undefined
  /** `@Audited` options, or undefined when the entity is not audited. */
  readonly audit: Readonly<AuditedOptions> | undefined
  /** True when events of this entity do anything: a handler or an audit. */
  readonly active: boolean
  readonly bulkWritesAllowed: boolean
  /** The entity's own `validate` option; undefined means "use the global setting". */
  readonly validate: boolean | undefined
  readonly attributes: ReadonlySet<string>
  /** The group of a recover(): the delete-date attribute. */
  readonly deleteDateGroup: AttributeGroup
  readonly metadata: EntityMetadata
  /** True when `value` is an instance the handler can run on. */
  isInstance(value: unknown): boolean
  /** The group of attributes whose value is not `undefined`; shared between instances with the same shape. */
  definedGroup(entity: ObjectLiteral): AttributeGroup
  /** Which columns a query selected, as a key for {@link loadGroup}. */
  selectionKey(isSelected: (column: ColumnMetadata) => boolean): number | string
  /** The Load group: the selected columns and the relations that hold a value. */
  loadGroup(entity: ObjectLiteral, selection: number | string): AttributeGroup
  /** Reads an attribute by its path (embedded columns: `address.postcode`). */
  read(entity: ObjectLiteral, path: string): unknown
  /** The values of every attribute, to tell later what a handler changed. */
  snapshot(entity: ObjectLiteral): unknown[]
  /** The attributes whose value differs from `snapshot` (dates by time). */
  changedSince(entity: ObjectLiteral, snapshot: unknown[]): string[]
  /** A printable id for messages: `1`, `{"a":1,"b":2}` or `new`. */
  idOf(entity: ObjectLiteral | undefined): string
}

const infoByMetadata = new WeakMap<EntityMetadata, EntityInfo>()

/** @internal */
export function entityInfo(metadata: EntityMetadata): EntityInfo {
  let info = infoByMetadata.get(metadata)
  if (!info) {
    info = buildEntityInfo(metadata)
    infoByMetadata.set(metadata, info)
  }
  return info
}

function columnSlot(column: ColumnMetadata): AttributeSlot {
  const name = column.propertyName
  return column.embeddedMetadata
    ? { path: column.propertyPath, column, read: (e) => column.getEntityValue(e) }
    : { path: name, column, read: (e) => e[name] }
}

function relationSlot(relation: RelationMetadata): AttributeSlot {
  const name = relation.propertyName
  if (relation.embeddedMetadata) {
    return { path: relation.propertyPath, column: undefined, read: (e) => relation.getEntityValue(e) }
  }
  // Reading a lazy relation's getter would start a query: only an assigned value counts.
  if (relation.isLazy) {
    const own = `__${name}__`
    return { path: name, column: undefined, read: (e) => (Object.prototype.hasOwnProperty.call(e, own) ? e[own] : undefined) }
  }
  return { path: name, column: undefined, read: (e) => e[name] }
}

function buildEntityInfo(metadata: EntityMetadata): EntityInfo {
  const target = typeof metadata.target === 'function' ? metadata.target : undefined
  const proto: ObjectLiteral | undefined = target?.prototype
  const handler = typeof proto?._eventAction === 'function' ? (proto._eventAction as EventActionHandler) : undefined
  const options = target ? entityOptionsOf(target) : {}
  const audit = target ? auditedOptionsOf(target) : undefined

  const slots: AttributeSlot[] = []
  for (const column of metadata.columns) {
    if (column.isVirtual || column.isDiscriminator || column.relationMetadata) continue
    slots.push(columnSlot(column))
  }
  for (const relation of metadata.relations) slots.push(relationSlot(relation))
  const slotByPath = new Map(slots.map((s) => [s.path, s]))
  const attributes = new Set<string>(slotByPath.keys())
  for (const embedded of metadata.embeddeds) attributes.add(embedded.propertyPath)

  // Groups are shared per shape (which attributes are in them), so that N rows
  // of one query cost N small key computations and one AttributeGroup. Keys
  // are bitmasks up to 30 attributes, '0'/'1' strings beyond.
  const groupCache = new Map<number | string, AttributeGroup>()
  const useBitmask = slots.length <= 30
  const relationSlots = slots.map((slot, i) => [slot, i] as const).filter(([slot]) => !slot.column)

  const keyOf = (inGroup: (slot: AttributeSlot) => boolean): number | string => {
    if (useBitmask) {
      let mask = 0
      for (let i = 0; i < slots.length; i++) if (inGroup(slots[i]!)) mask |= 1 << i
      return mask
    }
    let bits = ''
    for (let i = 0; i < slots.length; i++) bits += inGroup(slots[i]!) ? '1' : '0'
    return bits
  }

  const groupFor = (key: number | string): AttributeGroup => {
    let group = groupCache.get(key)
    if (!group) {
      const member = (i: number): boolean =>
        typeof key === 'number' ? (key & (1 << i)) !== 0 : key.charCodeAt(i) === 49 /* '1' */
      group = new AttributeGroup(slots.filter((_, i) => member(i)).map((s) => s.path))
      groupCache.set(key, group)
    }
    return group
  }

  const definedGroup = (entity: ObjectLiteral): AttributeGroup => groupFor(keyOf((slot) => slot.read(entity) !== undefined))

  const selectionKey = (isSelected: (column: ColumnMetadata) => boolean): number | string =>
    keyOf((slot) => slot.column !== undefined && isSelected(slot.column))

  const loadGroup = (entity: ObjectLiteral, selection: number | string): AttributeGroup => {
    if (relationSlots.length === 0) return groupFor(selection)
    if (typeof selection === 'number') {
      let mask = selection
      for (const [slot, i] of relationSlots) if (slot.read(entity) !== undefined) mask |= 1 << i
      return groupFor(mask)
    }
    const bits = selection.split('')
    for (const [slot, i] of relationSlots) if (slot.read(entity) !== undefined) bits[i] = '1'
    return groupFor(bits.join(''))
  }

  const read = (entity: ObjectLiteral, path: string): unknown => {
    const slot = slotByPath.get(path)
    if (slot) return slot.read(entity)
    let value: unknown = entity
    for (const part of path.split('.')) value = value == null ? undefined : (value as ObjectLiteral)[part]
    return value
  }

  const snapshot = (entity: ObjectLiteral): unknown[] => slots.map((s) => s.read(entity))
  const changedSince = (entity: ObjectLiteral, before: unknown[]): string[] => {
    const changed: string[] = []
    for (let i = 0; i < slots.length; i++) {
      const now = slots[i]!.read(entity)
      const then = before[i]
      if (now === then) continue
      if (now instanceof Date && then instanceof Date && now.getTime() === then.getTime()) continue
      changed.push(slots[i]!.path)
    }
    return changed
  }

  const idOf = (entity: ObjectLiteral | undefined): string => {
    if (!entity) return 'new'
    const ids = metadata.primaryColumns.map((c) => c.getEntityValue(entity) as unknown)
    if (ids.some((v) => v === undefined || v === null)) return 'new'
    if (ids.length === 1) return String(ids[0])
    return JSON.stringify(Object.fromEntries(metadata.primaryColumns.map((c, i) => [c.propertyPath, ids[i]])))
  }

  return {
    name: metadata.name,
    target,
    handler,
    audit,
    active: handler !== undefined || audit !== undefined,
    bulkWritesAllowed: options.bulkWrites === 'allow',
    validate: options.validate,
    attributes,
    deleteDateGroup: new AttributeGroup(metadata.deleteDateColumn ? [metadata.deleteDateColumn.propertyPath] : []),
    metadata,
    isInstance: target ? (value) => value instanceof target : () => false,
    definedGroup,
    selectionKey,
    loadGroup,
    read,
    snapshot,
    changedSince,
    idOf,
  }
}

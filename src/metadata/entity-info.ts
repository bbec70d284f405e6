import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata'
import { AttributeGroup } from '../basics/attribute-group'
import { HardError } from '../basics/errors'
import { compileValuesReader } from './values-reader'
import { entityOptionsOf } from './event-action-options'
import { auditedOptionsOf, type AuditedOptions } from '../audit/audited'
import { declaredAutomatics, type AutomaticAttribute } from './declared-automatics'
import { composeHandler } from './compose-handler'
import type { EventActionHandler } from './event-action-handler'
import { declaredHandlers } from './declared-handlers'
import { handledTypes } from './handled-types'
import type { EventActionType } from '../basics/event-action-type'

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
  /** True when events of this entity do anything: a handler, an audit or automatic attributes. */
  readonly active: boolean
  /** True when bulk writes go through as TypeORM runs them, without events (`bulkWrites: 'allow'`). */
  readonly bulkWritesAllowed: boolean
  /** The entity's own `bulkWrites` option; undefined means "use the global setting". */
  readonly bulkWrites: 'events' | 'allow' | 'forbid' | undefined
  /** By event type: true when a handler of the entity observes it (the others are not dispatched). */
  readonly handles: Readonly<Record<EventActionType, boolean>>
  /** True when loaded and saved instances keep a snapshot for `reset()` (else reset() reloads the row). */
  readonly keepsState: boolean
  /** The entity's own `validate` option; undefined means "use the global setting". */
  readonly validate: boolean | undefined
  readonly attributes: ReadonlySet<string>
  /** The attributes a copy takes by default: stored columns and relations but keys, generated and automatic ones. */
  readonly copyable: readonly string[]
  /** The `@Automatic` attributes. */
  readonly automatics: readonly AutomaticAttribute[]
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
  /** One attribute's value in a snapshot. */
  snapshotValue(snapshot: unknown[], path: string): unknown
  /** A copy of `snapshot` with the given attributes taken from `entity`. */
  patchSnapshot(snapshot: unknown[], entity: ObjectLiteral, paths: Iterable<string>): unknown[]
  /** Writes an attribute by its path. */
  write(entity: ObjectLiteral, path: string, value: unknown): void
  /** The attributes whose value differs from `snapshot` (dates by time). */
  changedSince(entity: ObjectLiteral, snapshot: unknown[]): string[]
  /** A printable id for messages: `1`, `{"a":1,"b":2}` or `new`. */
  idOf(entity: ObjectLiteral | undefined): string
}

// The one cache of compiled entities, per TypeORM metadata (so per DataSource).
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

/**
 * The test of "an instance the handlers can run on". The prototype test comes
 * first: TypeORM builds rows with `new target()`, and it is cheaper than
 * instanceof. A single-table-inheritance child also takes instances of its
 * parents: `getRepository(Animal).create({ type: 'cat' })` is an Animal that
 * TypeORM saves as a Cat, with Cat's metadata, so Cat's handlers run on it.
 */
function instanceTest(metadata: EntityMetadata, target: Function | undefined, proto: object | undefined): (value: unknown) => boolean {
  if (!target) return () => false
  const parents = metadata.parentEntityMetadata ? metadata.inheritanceTree.filter((cls) => cls !== target) : []
  const own = (value: unknown): boolean => (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === proto) || value instanceof target
  return parents.length === 0 ? own : (value) => own(value) || parents.some((cls) => value instanceof cls)
}

// Long: one closure per entity, so that each reader below is compiled once and shares the slots.
function buildEntityInfo(metadata: EntityMetadata): EntityInfo {
  const target = typeof metadata.target === 'function' ? metadata.target : undefined
  const proto: ObjectLiteral | undefined = target?.prototype
  const own = typeof proto?._eventAction === 'function' ? (proto._eventAction as EventActionHandler) : undefined
  const declared = target ? declaredHandlers.of(target) : []
  const options = target ? entityOptionsOf(target) : {}
  if (options.bulkWrites !== undefined && !['events', 'allow', 'forbid'].includes(options.bulkWrites)) {
    throw new HardError(`@EventActionOptions bulkWrites of ${metadata.name} must be 'events', 'allow' or 'forbid', got ${String(options.bulkWrites)}`)
  }
  const audit = target ? auditedOptionsOf(target) : undefined
  const { handles, keepsState } = handledTypes(metadata.name, options, own !== undefined, declared)

  const slots: AttributeSlot[] = []
  for (const column of metadata.columns) {
    if (column.isVirtual || column.isDiscriminator || column.relationMetadata) continue
    slots.push(columnSlot(column))
  }
  for (const relation of metadata.relations) slots.push(relationSlot(relation))
  const slotByPath = new Map(slots.map((s) => [s.path, s]))
  const attributes = new Set<string>(slotByPath.keys())
  for (const embedded of metadata.embeddeds) attributes.add(embedded.propertyPath)
  const handler = composeHandler(metadata.name, own, declared, attributes, proto, options.handles)
  const automatics = target ? declaredAutomatics.of(target) : []
  for (const a of automatics) {
    if (!attributes.has(a.attribute)) throw new HardError(`${metadata.name}.${a.attribute} has @Automatic but is not a column`, { entityName: metadata.name, attribute: a.attribute })
  }
  const automaticNames = new Set(automatics.map((a) => a.attribute))
  const copyable = [
    ...metadata.columns
      .filter((c) => !c.isVirtual && !c.isDiscriminator && !c.relationMetadata && !c.isPrimary && !c.isGenerated)
      .filter((c) => !c.isCreateDate && !c.isUpdateDate && !c.isDeleteDate && !c.isVersion)
      .map((c) => c.propertyPath),
    ...metadata.relationsWithJoinColumns.filter((r) => !r.isPrimary).map((r) => r.propertyPath),
  ].filter((path) => !automaticNames.has(path))
  const indexByPath = new Map(slots.map((s, i) => [s.path, i]))

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

  const snapshot = compileValuesReader(slots.map((s) => (s.column && !s.column.embeddedMetadata ? { property: s.path } : s)))
  const snapshotValue = (snap: unknown[], path: string): unknown => {
    const i = indexByPath.get(path)
    return i === undefined ? undefined : snap[i]
  }
  const patchSnapshot = (snap: unknown[], entity: ObjectLiteral, paths: Iterable<string>): unknown[] => {
    const copy = [...snap]
    for (const path of paths) {
      const i = indexByPath.get(path)
      if (i !== undefined) copy[i] = slots[i]!.read(entity)
    }
    return copy
  }
  const write = (entity: ObjectLiteral, path: string, value: unknown): void => {
    const column = slotByPath.get(path)?.column
    if (column?.embeddedMetadata) column.setEntityValue(entity, value)
    else entity[path] = value
  }
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
    active: handler !== undefined || audit !== undefined || automatics.length > 0,
    bulkWritesAllowed: options.bulkWrites === 'allow',
    bulkWrites: options.bulkWrites,
    handles,
    keepsState,
    validate: options.validate,
    attributes,
    copyable,
    automatics,
    deleteDateGroup: new AttributeGroup(metadata.deleteDateColumn ? [metadata.deleteDateColumn.propertyPath] : []),
    metadata,
    isInstance: instanceTest(metadata, target, proto),
    definedGroup,
    selectionKey,
    loadGroup,
    read,
    snapshot,
    snapshotValue,
    patchSnapshot,
    write,
    changedSince,
    idOf,
  }
}

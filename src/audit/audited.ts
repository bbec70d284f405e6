import { getMetadataArgsStorage } from 'typeorm'
import { attributeNamesOf, inheritanceTree } from '../basics/entity-attributes'
import { HardError } from '../basics/errors'
import { describeValue } from '../basics/describe-value'

/** What {@link Audited} records. */
export interface AuditedOptions {
  /**
   * Attributes that never appear in `changes` (passwords, tokens). An
   * embedded's name leaves out all its columns. Every name must be an
   * attribute of the entity (checked when the DataSource initializes; with a
   * subscriber added later, at the entity's first event).
   */
  exclude?: string[]
  /** When given, only these attributes appear in `changes` (an embedded's name: all its columns). */
  only?: string[]
}

// The one registry of @Audited options, per class.
const auditedByClass = new WeakMap<Function, Readonly<AuditedOptions>>()
// The classes whose @Audited names were found to be attributes (checked once per class, not per DataSource).
const checkedClasses = new WeakSet<Function>()

function checkedList(options: AuditedOptions, key: 'exclude' | 'only'): string[] | undefined {
  const list: unknown = options[key]
  if (list === undefined) return undefined
  if (!Array.isArray(list) || list.some((name) => typeof name !== 'string' || name.trim() === '')) {
    throw new HardError(`@Audited({ ${key} }) needs a list of attribute names, got ${describeValue(list)}`)
  }
  return [...(list as string[])]
}

/**
 * Class decorator: every Insert, Update and Delete of the entity writes an
 * {@link AuditEntry} in the same transaction.
 *
 * @example
 * ```ts
 * @Entity() @Audited({ exclude: ['passwordHash'] })
 * class Account { ... }
 * ```
 */
export function Audited(options: AuditedOptions = {}): ClassDecorator {
  if (options === null || typeof options !== 'object') throw new HardError(`@Audited takes an options object, got ${describeValue(options)}`)
  const unknownKey = Object.keys(options).find((key) => key !== 'exclude' && key !== 'only')
  if (unknownKey !== undefined) throw new HardError(`@Audited takes exclude or only, got an option '${unknownKey}'`)
  if (options.exclude && options.only) {
    throw new HardError('@Audited takes exclude or only, not both')
  }
  const exclude = checkedList(options, 'exclude')
  const only = checkedList(options, 'only')
  const frozen: Readonly<AuditedOptions> = Object.freeze({
    ...(exclude ? { exclude: Object.freeze(exclude) as string[] } : {}),
    ...(only ? { only: Object.freeze(only) as string[] } : {}),
  })
  // The names are checked later (auditedOptionsOf): when a decorator runs, the
  // subclasses (single-table children) and the embedded classes declared below
  // the entity are not known yet.
  return (target) => {
    auditedByClass.set(target, frozen)
  }
}

/**
 * The attribute names `@Audited` on `declaring` may name: those of the class,
 * its ancestors and embeddeds, and of every class that extends it (the
 * entities that share the options, single-table children included), read
 * from TypeORM's decorator storage.
 */
function namesFor(declaring: Function): ReadonlySet<string> {
  const names = new Set(attributeNamesOf(declaring))
  const storage = getMetadataArgsStorage()
  const descendants = new Set<Function>()
  for (const arg of [...storage.columns, ...storage.relations, ...storage.embeddeds]) {
    const cls = arg.target
    if (typeof cls === 'function' && cls !== declaring && cls.prototype instanceof declaring) descendants.add(cls)
  }
  for (const cls of descendants) for (const name of attributeNamesOf(cls)) names.add(name)
  return names
}

/** Throws a HardError naming entity and attribute for a name in `exclude`/`only` that is no attribute. */
function checkNames(entity: Function, declaring: Function, options: Readonly<AuditedOptions>): void {
  const key = options.exclude ? 'exclude' : 'only'
  const list = options.exclude ?? options.only
  if (!list || list.length === 0) return
  const names = namesFor(declaring)
  // A class described by an EntitySchema has no decorators to check against.
  if (names.size === 0) return
  const where = `@Audited({ ${key} })${declaring === entity ? '' : ` of ${declaring.name}`}`
  for (const name of list) if (!names.has(name)) throw HardError.unknownAttribute(entity.name, name, where)
}

/**
 * @internal The audit options of a class or its nearest audited ancestor.
 * Called when an entity is compiled (its first event): a name in `exclude`
 * or `only` that is not an attribute throws a HardError naming entity and
 * attribute, so that a misspelled exclusion never lets a secret into the
 * audit table.
 */
export function auditedOptionsOf(target: Function): Readonly<AuditedOptions> | undefined {
  for (const cls of inheritanceTree(target)) {
    const found = auditedByClass.get(cls)
    if (!found) continue
    if (!checkedClasses.has(cls)) {
      checkNames(target, cls, found)
      checkedClasses.add(cls)
    }
    return found
  }
  return undefined
}

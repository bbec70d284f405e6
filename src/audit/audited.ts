import { inheritanceTree } from '../basics/entity-attributes'
import { HardError } from '../basics/errors'

/** What {@link Audited} records. */
export interface AuditedOptions {
  /** Attributes that never appear in `changes` (passwords, tokens). */
  exclude?: string[]
  /** When given, only these attributes appear in `changes`. */
  only?: string[]
}

// The one registry of @Audited options, per class.
const auditedByClass = new WeakMap<Function, Readonly<AuditedOptions>>()

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
  if (options.exclude && options.only) {
    throw new HardError('@Audited takes exclude or only, not both')
  }
  return (target) => {
    auditedByClass.set(target, Object.freeze({ ...options }))
  }
}

/** @internal The audit options of a class or its nearest audited ancestor. */
export function auditedOptionsOf(target: Function): Readonly<AuditedOptions> | undefined {
  for (const cls of inheritanceTree(target)) {
    const found = auditedByClass.get(cls)
    if (found) return found
  }
  return undefined
}

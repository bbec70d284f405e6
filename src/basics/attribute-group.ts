/**
 * The immutable set of attribute (property) names an event touches: the
 * CaseMaster `group`. Relations appear under their property name, embedded
 * columns under their dotted path (`address.postcode`).
 *
 * @example
 * ```ts
 * if (group?.hasAny('street', 'postcode')) this.postcode = formatPostcode(this.postcode)
 * ```
 */
export class AttributeGroup implements Iterable<string> {
  /** A group with no attributes. */
  static readonly empty: AttributeGroup = new AttributeGroup([])

  private readonly names: ReadonlySet<string>

  constructor(names: Iterable<string>) {
    this.names = new Set(names)
    Object.freeze(this)
  }

  /** How many attributes the group holds. */
  get size(): number {
    return this.names.size
  }

  /** True when `name` is in the group. */
  has(name: string): boolean {
    return this.names.has(name)
  }

  /**
   * True when `name` is in the group, or `name` is an embedded whose column is:
   * `touches('address')` when `address.street` changed. `inGroup`, `anyInGroup`
   * and `@OnEventAction({ when })` judge names this way.
   */
  touches(name: string): boolean {
    if (this.names.has(name)) return true
    const prefix = `${name}.`
    for (const member of this.names) if (member.startsWith(prefix)) return true
    return false
  }

  /** True when at least one of `names` is in the group. */
  hasAny(...names: string[]): boolean {
    for (const name of names) if (this.names.has(name)) return true
    return false
  }

  /** True when every one of `names` is in the group (true for no names). */
  hasAll(...names: string[]): boolean {
    for (const name of names) if (!this.names.has(name)) return false
    return true
  }

  /** The names, in the entity's column order. */
  toArray(): string[] {
    return [...this.names]
  }

  /** Iterates the names, in the same order as {@link toArray}. */
  [Symbol.iterator](): Iterator<string> {
    return this.names.values()
  }

  /** `'AttributeGroup(a, b)'`, for logs and messages. */
  toString(): string {
    return `AttributeGroup(${this.toArray().join(', ')})`
  }

  /** The names as an array, so that `JSON.stringify` writes a group as `["a","b"]`. */
  toJSON(): string[] {
    return this.toArray()
  }
}

import type { ObjectLiteral } from 'typeorm'
import type { EventActionContext } from './event-action-context'
import { inheritanceTree } from './entity-attributes'
import { HardError } from './errors'

/** Computes an automatic attribute's value (may be async). */
export type AutomaticFn<E extends ObjectLiteral = ObjectLiteral> = (entity: E, ctx: EventActionContext<E>) => unknown

/** @internal One `@Automatic` attribute. */
export interface AutomaticAttribute {
  readonly attribute: string
  readonly fn: AutomaticFn
}

const automaticsByClass = new Map<Function, AutomaticAttribute[]>()

/**
 * Property decorator: the attribute is set automatically by `fn(entity, ctx)`
 * when it is still `undefined`, by `EventActions.create`, by
 * `EventActions.setAutomatics`, and before Pre Insert (SetAutomatics events
 * fire around it). Timestamps, sequence numbers, defaults computed from
 * other attributes.
 *
 * @example
 * ```ts
 * @Column() @Automatic(() => new Date().toISOString().slice(0, 10)) orderDate!: string
 * @Column() @Automatic(async (order, ctx) => (await ctx.manager.count(Order)) + 1) number!: number
 * ```
 */
export function Automatic<E extends ObjectLiteral = ObjectLiteral>(fn: AutomaticFn<E>): PropertyDecorator {
  if (typeof fn !== 'function') throw new HardError(`@Automatic needs a function, got ${String(fn)}`)
  return (prototype, property) => {
    if (typeof property !== 'string') throw new HardError('@Automatic works on string-named properties')
    const target = prototype.constructor
    const list = automaticsByClass.get(target) ?? []
    list.push({ attribute: property, fn: fn as AutomaticFn })
    automaticsByClass.set(target, list)
  }
}

/** @internal The automatic attributes of a class, ancestors' first. */
export function automaticsOf(target: Function): readonly AutomaticAttribute[] {
  const chain = inheritanceTree(target).reverse()
  return chain.flatMap((cls) => automaticsByClass.get(cls) ?? [])
}

import type { ObjectLiteral } from 'typeorm'
import type { EventActionContext } from './event-action-context'
import { declaredAutomatics, type AutomaticCompute } from '../metadata/declared-automatics'
import { HardError } from '../basics/errors'

/** Computes an automatic attribute's value (may be async). */
export type AutomaticFn<E extends ObjectLiteral = ObjectLiteral> = (entity: E, ctx: EventActionContext<E>) => unknown

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
    // The registry knows the context only as an object: its full type lives up here, with the decorator.
    declaredAutomatics.add(prototype.constructor, { attribute: property, fn: fn as unknown as AutomaticCompute })
  }
}

import type { ObjectLiteral } from 'typeorm'
import { classRegistry } from './class-registry'

/** @internal How an automatic value is computed; `ctx` is the handler context (typed where the decorator is). */
export type AutomaticCompute = (entity: ObjectLiteral, ctx: object) => unknown

/** @internal One `@Automatic` attribute. */
export interface AutomaticAttribute {
  readonly attribute: string
  readonly fn: AutomaticCompute
}

/**
 * @internal The one registry of `@Automatic` attributes: the decorator
 * (entity/automatic.ts) adds here; entity-info reads it when it compiles an
 * entity.
 */
export const declaredAutomatics = classRegistry<AutomaticAttribute>()

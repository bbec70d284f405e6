import type { ObjectLiteral } from 'typeorm'
import { HardError } from '../basics/errors'
import { isThenable } from '../basics/is-thenable'
import type { DeclaredHandler } from './declared-handlers'
import type { EventActionHandler } from './event-action-handler'
import type { EventActionType } from '../basics/event-action-type'

/**
 * @internal The handler the dispatcher calls: `_eventAction`, then the declarative
 * handlers that match the event, in declaration order, one at a time.
 * Synchronous handlers stay synchronous (no promise). A `when` naming an
 * attribute the entity does not have fails here, once, loudly.
 */
export function composeHandler(
  entityName: string,
  own: EventActionHandler | undefined,
  declared: readonly DeclaredHandler[],
  attributes: ReadonlySet<string>,
  // The saved-as class's prototype: an STI parent instance saved as a child lacks the child's methods.
  methods: ObjectLiteral | undefined,
  // The types `own` declares it handles (`@EventActionOptions({ handles })`); undefined: all.
  ownTypes: readonly EventActionType[] | undefined = undefined,
): EventActionHandler | undefined {
  if (declared.length === 0) return own
  for (const d of declared) {
    for (const w of d.when ?? []) {
      if (!attributes.has(w)) throw HardError.unknownAttribute(entityName, w, `@OnEventAction on ${d.method}`)
    }
  }
  const byEvent = new Map<string, DeclaredHandler[]>()
  for (const d of declared) for (const type of d.types) {
    const key = `${d.timing} ${type}`
    byEvent.set(key, [...(byEvent.get(key) ?? []), d])
  }
  return function (this: ObjectLiteral, timing, type, group, ctx) {
    const matching = byEvent.get(`${timing} ${type}`)
    const runDeclared = (from: number): unknown => {
      if (!matching) return undefined
      for (let i = from; i < matching.length; i++) {
        const d = matching[i]!
        if (d.when && !(group && d.when.some((w) => group.touches(w)))) continue
        const method = (this[d.method] ?? methods?.[d.method]) as unknown
        if (typeof method !== 'function') throw new HardError(`${entityName}.${d.method} is not a method`, { entityName })
        const result = (method as (...args: unknown[]) => unknown).call(this, group, ctx)
        if (isThenable(result)) return Promise.resolve(result).then(() => runDeclared(i + 1))
      }
      return undefined
    }
    const first = own && (!ownTypes || ownTypes.includes(type)) ? own.call(this, timing, type, group, ctx) : undefined
    return isThenable(first) ? Promise.resolve(first).then(() => runDeclared(0)) : runDeclared(0)
  }
}

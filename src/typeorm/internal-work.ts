import { scopes, type AsyncScope } from '../scope/async-scope'

/**
 * @internal True while TypeORM does its own work for a save/remove (reloads
 * of database copies, tree bookkeeping): no Load events, no bulk-write guard.
 * A caller that has read the async scope already passes it.
 */
export function isInternalLoad(scope: AsyncScope | undefined = scopes.getStore()): boolean {
  return scope?.internal === true
}

/** @internal Runs `work` as TypeORM's own work of a save/remove (see isInternalLoad). */
export function asInternal<T>(work: () => T): T {
  const outer = scopes.getStore()
  // Spelled out: the outer scope may be a handler's context, whose fields are getters a spread would miss.
  return scopes.run({ frame: outer?.frame, runningAction: outer?.runningAction, internal: true, changeLists: outer?.changeLists }, work)
}

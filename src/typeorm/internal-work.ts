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
  return scopes.run({ ...(outer ?? { frame: undefined, action: undefined, changes: undefined }), internal: true }, work)
}

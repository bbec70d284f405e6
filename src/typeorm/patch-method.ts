// Lists the patches a TypeORM method carries, so that a second copy of this library in one process
// applies none of them twice, while different patches of one method stack.
const PATCHES: unique symbol = Symbol('typeorm-event-actions.patches')

/**
 * @internal Replaces `owner[name]` with `wrap(original)`, once per `id`: a
 * method that already carries that patch (from this or another loaded copy
 * of the library) is left as it is; another patch of the same method wraps
 * the patched one. A missing method is left alone too;
 * tests/unit/typeorm-internals fails by name when TypeORM moves one.
 */
export function patchMethod<F extends Function>(owner: object, name: string, wrap: (original: F) => F, id: string = name): void {
  const target = owner as Record<string, unknown>
  const original = target[name]
  if (typeof original !== 'function') return
  const applied = (original as unknown as Record<symbol, ReadonlySet<string> | undefined>)[PATCHES]
  if (applied?.has(id)) return
  const patched = wrap(original as F)
  Object.defineProperty(patched, PATCHES, { value: new Set([...(applied ?? []), id]) })
  target[name] = patched
}

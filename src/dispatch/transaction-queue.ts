/**
 * @internal Runs the handlers of one broadcast one at a time, in broadcast
 * order.
 *
 * TypeORM calls a subscriber for every entity of a save (or every row of a
 * find) in one synchronous loop and awaits the returned promises together,
 * so two async handlers of one save would otherwise run concurrently (and,
 * say, lose an update to a shared order total). All calls made in the same
 * synchronous turn on the same query runner form a batch; each call of a
 * batch starts after the previous one settled. A write started inside a
 * handler broadcasts in a later turn and so forms a batch of its own: it
 * never waits for the handler that is waiting for it.
 *
 * A synchronous handler costs no promise: while nothing in the batch is
 * pending, units run immediately.
 */
interface Batch {
  tail: Promise<void> | undefined
}

// The one queue of pending event work per query runner.
const batches = new WeakMap<object, Batch>()

/**
 * @internal Runs `unit(arg)` in its turn: the argument saves a closure per
 * call on the Load path, where this runs for every row.
 */
export function runInOrder(key: object, unit: () => void | Promise<void>): void | Promise<void>
export function runInOrder<A>(key: object, unit: (arg: A) => void | Promise<void>, arg: A): void | Promise<void>
export function runInOrder<A>(key: object, unit: (arg?: A) => void | Promise<void>, arg?: A): void | Promise<void> {
  let batch = batches.get(key)
  if (!batch) {
    const fresh: Batch = { tail: undefined }
    batches.set(key, fresh)
    queueMicrotask(() => {
      if (batches.get(key) === fresh) batches.delete(key)
    })
    batch = fresh
  }
  if (batch.tail) {
    const next = batch.tail.then(() => unit(arg))
    batch.tail = next
    return next
  }
  const result = unit(arg)
  if (result) batch.tail = result
  return result
}

import { HardError } from '../basics/errors'

/**
 * @internal `promise`, or a HardError saying `what` took over `ms`. The timer
 * does not keep the process alive: a hand-over still waiting when the app
 * exits leaves its rows to a worker's sweep.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HardError(`the outbox relay: ${what} took over ${ms} ms (is Redis up?)`)), ms)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** @internal Waits until `promises` settled or `ms` passed; true when they all settled in time. */
export async function settleWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = Promise.allSettled([...promises]).then(() => true)
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  return Promise.race([settled, late]).finally(() => clearTimeout(timer))
}

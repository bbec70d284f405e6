import { HardError, type EventActionErrorOptions } from '../basics/errors'

/**
 * A job that cannot be stored: its payload is not plain JSON (a bigint, a
 * cycle, a function, a Map, NaN...) or its JSON is larger than the backend's
 * `maxPayloadBytes`. Thrown by `ctx.enqueue` (and by an action with a durable
 * binding whose context is not JSON), before anything is stored: the
 * transaction rolls back.
 */
export class JobPayloadError extends HardError {
  /** Always 'JobPayloadError': stable across versions, for checks that cannot use instanceof. */
  override name = 'JobPayloadError'

  constructor(
    message: string,
    /** The job's name, e.g. `'mail:welcome'`. */
    readonly jobName: string,
    /** Where in the payload the bad value is, e.g. `'$.items[2].price'`. */
    readonly path: string | undefined,
    options: EventActionErrorOptions = {},
  ) {
    super(message, options)
  }
}

/** Options of `EventActions.fromRecordSet`. */
export interface FromRecordSetOptions {
  /** Throw a `HardError` for a key that matches no column, instead of ignoring it. Defaults to `false`. */
  strict?: boolean
}

/** Options of `EventActions.setAutomatics`. */
export interface SetAutomaticsOptions {
  /** Set every automatic attribute, not only those still `undefined`. Defaults to `false`. */
  force?: boolean
}

/** An entity class that can be constructed without arguments, as the `EventActions` operations take it. */
export type EntityClass<E> = new () => E

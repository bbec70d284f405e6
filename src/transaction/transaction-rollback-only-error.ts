import { HardError } from '../basics/errors'

/** @internal The write that made a transaction rollback-only. */
export interface FailedWrite {
  /** The entity class the failed save()/remove() was for. */
  readonly entityName: string
  /** `'save'`, `'remove'`, `'soft-remove'` or `'recover'`, as TypeORM names the call. */
  readonly operation: string
  /** What the write rejected with. */
  readonly error: unknown
}

/**
 * COMMIT of a transaction in which a `save()`/`remove()` of an entity with
 * event actions failed, and the caller went on. That write's row, audit
 * entries and after-commit callbacks are part of the transaction (TypeORM
 * runs a write inside an open transaction without one of its own), so the
 * transaction must not commit: it is rolled back instead, and this error
 * says why, with the write's error as `cause`. To go on after a failed
 * write, give the write its own nested transaction (a savepoint).
 *
 * @example
 * ```ts
 * await dataSource.transaction(async (manager) => {
 *   await manager.save(order)
 *   try {
 *     await manager.transaction((inner) => inner.save(risky)) // a savepoint: its failure leaves nothing
 *   } catch (error) {
 *     console.warn('risky skipped', error)
 *   }
 * })
 * ```
 */
export class TransactionRollbackOnlyError extends HardError {
  /** Always 'TransactionRollbackOnlyError': stable across versions, for checks that cannot use instanceof. */
  override name = 'TransactionRollbackOnlyError'

  /** @internal */
  constructor(failure: FailedWrite) {
    const reason = failure.error instanceof Error ? `${failure.error.name}: ${failure.error.message}` : String(failure.error)
    super(
      `the transaction was rolled back instead of committed: a ${failure.operation}() of ${failure.entityName} failed inside it ` +
        `(${reason.length > 300 ? `${reason.slice(0, 300)}...` : reason}), and what that write did is part of the transaction. ` +
        `To go on after a failed write, run the write in its own nested transaction: manager.transaction((inner) => inner.${failure.operation === 'soft-remove' ? 'softRemove' : failure.operation}(...)).`,
      { entityName: failure.entityName, cause: failure.error },
    )
  }
}

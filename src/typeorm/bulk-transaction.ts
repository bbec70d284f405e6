import type { QueryRunner } from 'typeorm'
import type { WriteBuilder } from './write-builder'

/**
 * @internal Runs a bulk write with events in a transaction of its own on the
 * builder's query runner: a new one, or a savepoint inside the caller's. A
 * handler that throws on any row rolls back every row of the call (and what
 * its handlers wrote), while the caller's transaction stays usable; audit
 * entries and after-commit callbacks go with it, as for a save().
 */
export async function inBulkTransaction<T>(builder: WriteBuilder, work: (queryRunner: QueryRunner) => Promise<T>): Promise<T> {
  const queryRunner = builder.queryRunner ?? builder.connection.createQueryRunner()
  try {
    await queryRunner.startTransaction()
    let result: T
    try {
      result = await work(queryRunner)
    } catch (error) {
      await rollBack(queryRunner, error)
      throw error
    }
    await queryRunner.commitTransaction()
    return result
  } finally {
    if (queryRunner !== builder.queryRunner) await queryRunner.release()
  }
}

/** A rollback that fails too is reported, with the first error as its cause: neither is lost. */
async function rollBack(queryRunner: QueryRunner, error: unknown): Promise<void> {
  try {
    await queryRunner.rollbackTransaction()
  } catch (rollbackError) {
    if (rollbackError instanceof Error && rollbackError.cause === undefined) rollbackError.cause = error
    throw rollbackError
  }
}

import { createHash } from 'node:crypto'
import { QueryFailedError, type QueryRunner } from 'typeorm'

/** @internal What a statement returns: its rows and how many rows it touched. */
export interface StatementResult {
  readonly rows: Record<string, unknown>[]
  readonly rowCount: number
}

/** The part of node-postgres's client that a named query needs. */
interface PgClient {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows?: Record<string, unknown>[]; rowCount?: number | null }>
}

const names = new Map<string, string>()

/** A name per text: node-postgres refuses one name for two texts on a connection. */
function statementName(text: string): string {
  let name = names.get(text)
  if (!name) names.set(text, (name = `tea_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`))
  return name
}

/**
 * @internal Runs `text` on a PostgreSQL query runner's connection as a named
 * prepared statement: PostgreSQL plans it on its first runs on that
 * connection and may keep a generic plan afterwards. TypeORM's `query()` has
 * no way to name a statement, and a statement as complex as pg-boss's job
 * INSERT (a join, a CTE, a partitioned table) spends more time being planned
 * than executed. Logged and failed as TypeORM's own queries are (its logger,
 * QueryFailedError); TypeORM's beforeQuery/afterQuery subscriber events are
 * not sent for it.
 */
export async function runPrepared(queryRunner: QueryRunner, text: string, values: readonly unknown[]): Promise<StatementResult> {
  const client = (await queryRunner.connect()) as PgClient
  const { logger } = queryRunner.connection
  const parameters = [...values]
  logger.logQuery(text, parameters, queryRunner)
  try {
    const raw = await client.query({ name: statementName(text), text, values })
    return { rows: raw.rows ?? [], rowCount: raw.rowCount ?? 0 }
  } catch (error) {
    logger.logQueryError(error as Error, text, parameters, queryRunner)
    throw new QueryFailedError(text, parameters, error as Error)
  }
}

import type { DataSource } from 'typeorm'
import { HardError } from '../basics/errors'
import type { PgBossConfig } from './pg-boss-peer'

/** The connection fields of a TypeORM PostgreSQL DataSource (or of its replication master). */
interface PostgresCredentials {
  readonly url?: string
  readonly host?: string
  readonly port?: number
  readonly username?: string
  readonly password?: unknown
  readonly database?: string
  readonly ssl?: unknown
}

/** @internal Where pg-boss's own pool connects, as its constructor takes it. */
export type PgBossConnection = Pick<PgBossConfig, 'connectionString' | 'host' | 'port' | 'user' | 'password' | 'database' | 'ssl'>

/** @internal Throws unless `dataSource` is PostgreSQL, the only database pg-boss keeps its jobs in. */
export function checkPostgres(dataSource: DataSource, what: string): void {
  const type = (dataSource?.options as { type?: unknown } | undefined)?.type
  if (type !== 'postgres') {
    throw new HardError(
      `${what}: pgBossJobs() keeps the jobs in PostgreSQL, through the DataSource's transactions, but this DataSource is of type '${String(type)}'; use bullMqJobs({ connection }) for other databases`,
    )
  }
}

/**
 * @internal pg-boss's connection: `connectionString` when given, else the
 * DataSource's own (of its replication master), field for field as TypeORM
 * hands them to pg (a `url` wins over the separate fields, there as here).
 */
export function pgBossConnection(dataSource: DataSource, connectionString: string | undefined): PgBossConnection {
  if (connectionString !== undefined) return { connectionString }
  const options = dataSource.options as PostgresCredentials & { replication?: { master?: PostgresCredentials } }
  const source = options.replication?.master ?? options
  const connection: Record<string, unknown> = {
    connectionString: source.url,
    host: source.host,
    port: source.port,
    user: source.username,
    password: source.password,
    database: source.database,
    ssl: source.ssl ?? options.ssl,
  }
  // Unset fields are left out rather than undefined: pg then falls back to PGHOST and friends, as TypeORM's pool does.
  for (const key of Object.keys(connection)) if (connection[key] === undefined) delete connection[key]
  return connection as PgBossConnection
}

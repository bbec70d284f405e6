import type { DataSource } from 'typeorm'

/**
 * @internal True when the database locks rows read for a write
 * (`SELECT ... FOR UPDATE`): PostgreSQL and MariaDB/MySQL. SQLite has no row
 * locks (TypeORM refuses the option there); its writers are serialized anyway.
 */
export function locksRows(connection: DataSource): boolean {
  const type = connection.driver.options.type
  return type === 'postgres' || type === 'mysql' || type === 'mariadb'
}

import 'reflect-metadata'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { withEventActions } from './src'
import { demoEntities } from './demo/entities'

/** The databases the project runs on, chosen with `DB`. */
export type DatabaseName = 'sqlite' | 'postgres' | 'mariadb'

const DEFAULT_URLS: Record<Exclude<DatabaseName, 'sqlite'>, string> = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mariadb: 'mysql://root@127.0.0.1:3306/test',
}

/** The `DB` environment variable, checked. */
export function databaseName(value: string | undefined = process.env.DB): DatabaseName {
  const db = value ?? 'sqlite'
  if (db !== 'sqlite' && db !== 'postgres' && db !== 'mariadb') {
    throw new Error(`DB must be sqlite, postgres or mariadb, got '${db}'`)
  }
  return db
}

/** The major version of the TypeORM that `import 'typeorm'` loads (its exports map hides package.json). */
export function typeormMajor(): number {
  const pkg = JSON.parse(readFileSync(join(dirname(require.resolve('typeorm')), 'package.json'), 'utf8')) as { version: string }
  return Number(pkg.version.split('.')[0])
}

/**
 * Connection options for `DB` (default: embedded SQLite) with `DB_URL` to
 * override the server address. SQLite uses `sqlite3` on TypeORM 0.3 and
 * `better-sqlite3` on TypeORM 1.x, which dropped the `sqlite3` driver.
 */
export function databaseOptions(db: DatabaseName = databaseName(), sqliteFile = ':memory:'): DataSourceOptions {
  const url = process.env.DB_URL
  switch (db) {
    case 'sqlite':
      return typeormMajor() >= 1
        ? ({ type: 'better-sqlite3', database: sqliteFile } as DataSourceOptions)
        : { type: 'sqlite', database: sqliteFile }
    case 'postgres':
      return { type: 'postgres', url: url ?? DEFAULT_URLS.postgres }
    case 'mariadb':
      return { type: 'mariadb', url: url ?? DEFAULT_URLS.mariadb }
  }
}

/** The demo's DataSource; also usable by the TypeORM CLI (`typeorm -d ormconfig.ts`). */
export const dataSource = new DataSource(
  withEventActions({ ...databaseOptions(), entities: demoEntities, synchronize: true } as DataSourceOptions),
)

export default dataSource

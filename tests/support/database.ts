import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm'
import { DataSource } from 'typeorm'
import { databaseName, databaseOptions, typeormMajor } from '../../ormconfig'
import { withEventActions, type EventActionsConfig } from '../../src'

/** The database this run of the suite is for (`DB`, default sqlite). */
export const DB = databaseName()

/** The TypeORM major version under test (0 or 1). */
export const TYPEORM_MAJOR = typeormMajor()

/**
 * A fresh schema with `entities`, the event-action subscriber registered.
 * Pass `config: null` for a DataSource without event actions.
 */
export async function openDataSource(
  entities: MixedList<Function | string | EntitySchema>,
  config: EventActionsConfig | null = {},
  extra: Partial<DataSourceOptions> = {},
): Promise<DataSource> {
  const base = { ...databaseOptions(DB), entities, synchronize: true, dropSchema: true, ...extra } as DataSourceOptions
  const ds = new DataSource(config === null ? base : withEventActions(base, config))
  await ds.initialize()
  return ds
}

/** Counts rows with SQL, bypassing TypeORM's entity machinery. */
export async function countRows(ds: DataSource, table: string): Promise<number> {
  const q = ds.driver.escape(table)
  const rows: { n: number | string }[] = await ds.query(`SELECT COUNT(*) AS n FROM ${q}`)
  return Number(rows[0]!.n)
}

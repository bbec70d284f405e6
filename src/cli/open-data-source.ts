import type { DataSource, DataSourceOptions } from 'typeorm'
import { CliError, oneLine } from './cli-error'

/**
 * Options the tool forces before it initializes a DataSource: it only reads,
 * so it must never change the schema, even when the application's file asks
 * for `synchronize`, `dropSchema` or `migrationsRun` (TypeORM's own CLI does
 * the same). Query logging would mix SQL into the output; `--verbose` keeps it.
 */
function readOnlyOptions(verbose: boolean): Partial<DataSourceOptions> {
  return { synchronize: false, dropSchema: false, migrationsRun: false, ...(verbose ? {} : { logging: false }) }
}

/**
 * Runs `work` with the DataSource initialized (initializing it first when
 * the file did not) and destroys it afterwards, whatever `work` did.
 */
export async function openDataSource<T>(dataSource: DataSource, verbose: boolean, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  if (!dataSource.isInitialized) {
    dataSource.setOptions(readOnlyOptions(verbose) as DataSourceOptions)
    try {
      await dataSource.initialize()
    } catch (error) {
      throw new CliError(`cannot initialize the data source (${dataSource.options.type}): ${oneLine(error)}`, { cause: error })
    }
  }
  let result: T
  try {
    result = await work(dataSource)
  } catch (error) {
    try {
      if (dataSource.isInitialized) await dataSource.destroy()
    } catch (closing) {
      // Both failed: the work's error is the one to act on, but the second one is not dropped.
      const kind = error instanceof CliError ? error.kind : 'failure'
      throw new CliError(`${oneLine(error)} (closing the data source failed too: ${oneLine(closing)})`, { kind, cause: error })
    }
    throw error
  }
  try {
    if (dataSource.isInitialized) await dataSource.destroy()
  } catch (error) {
    throw new CliError(`cannot close the data source: ${oneLine(error)}`, { cause: error })
  }
  return result
}

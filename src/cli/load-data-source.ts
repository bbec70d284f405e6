import type { DataSource } from 'typeorm'
import { CliError, oneLine } from './cli-error'
import { loadModule } from './load-module'

/** A DataSource taken from a data source file. */
export interface LoadedDataSource {
  readonly dataSource: DataSource
  /** The absolute path of the file. */
  readonly file: string
  /** The export that holds it: `default` or the export's name. */
  readonly exportName: string
}

/**
 * TypeORM marks its DataSources with this symbol; checking it instead of
 * `instanceof` accepts a DataSource made by another copy of TypeORM than the
 * one this tool would load (a hoisted copy, TypeORM 1.x next to 0.3).
 */
function isDataSource(value: unknown): value is DataSource {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['@instanceof'] === Symbol.for('DataSource')
}

/**
 * Loads a data source file the way TypeORM's own CLI reads `-d`: a .js or
 * .ts file whose default export or one named export is a DataSource (or a
 * promise of one). Several different DataSources are accepted only when one
 * of them is the default export.
 */
export async function loadDataSource(path: string, cwd: string = process.cwd()): Promise<LoadedDataSource> {
  const { file, exported } = loadModule(path, 'data source file', cwd)
  if (isDataSource(exported)) return { dataSource: exported, file, exportName: 'module.exports' }

  const found: { name: string; dataSource: DataSource }[] = []
  const names = exported !== null && typeof exported === 'object' ? Object.keys(exported) : []
  for (const name of names) {
    let value: unknown
    try {
      // Awaited like TypeORM's CLI does: a file may export a promise of a DataSource.
      value = await (exported as Record<string, unknown>)[name]
    } catch (error) {
      throw new CliError(`export '${name}' of ${file} failed: ${oneLine(error)}`, { cause: error })
    }
    if (isDataSource(value)) found.push({ name, dataSource: value })
  }
  const distinct = [...new Set(found.map((f) => f.dataSource))]
  if (distinct.length === 0) {
    const shown = names.length > 8 ? [...names.slice(0, 8), `and ${names.length - 8} more`] : names
    const listed = names.length ? `its exports: ${shown.join(', ')}` : 'it exports nothing'
    throw new CliError(`${file} exports no DataSource (${listed}); export one as default or as a named export`)
  }
  const byDefault = found.find((f) => f.name === 'default')
  const chosen = distinct.length === 1 ? (byDefault ?? found[0]!) : byDefault
  if (!chosen) {
    throw new CliError(
      `${file} exports several DataSources (${found.map((f) => f.name).join(', ')}); make the one to use the default export`,
    )
  }
  return { dataSource: chosen.dataSource, file, exportName: chosen.name }
}

import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, relative, resolve } from 'node:path'
import type { DataSource } from 'typeorm'
import { CliError, oneLine } from './cli-error'

/** A DataSource taken from a data source file. */
export interface LoadedDataSource {
  readonly dataSource: DataSource
  /** The absolute path of the file. */
  readonly file: string
  /** The export that holds it: `default` or the export's name. */
  readonly exportName: string
}

const TYPESCRIPT = new Set(['.ts', '.cts', '.mts'])

/**
 * TypeORM marks its DataSources with this symbol; checking it instead of
 * `instanceof` accepts a DataSource made by another copy of TypeORM than the
 * one this tool would load (a hoisted copy, TypeORM 1.x next to 0.3).
 */
function isDataSource(value: unknown): value is DataSource {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['@instanceof'] === Symbol.for('DataSource')
}

function isModuleNotFound(error: unknown, request: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.includes(`'${request}'`)
  )
}

/**
 * Makes `require` compile TypeScript, with ts-node in transpile-only mode,
 * found next to the data source file first (the project's own ts-node), then
 * next to this tool. The tsconfig is searched from the file's directory, not
 * from the working directory, so that the project's `experimentalDecorators`
 * apply wherever the tool is started from.
 */
function registerTypeScript(file: string): void {
  // Something (ts-node, tsx, @swc-node) already compiles .ts: keep it.
  if (require.extensions['.ts']) return
  for (const from of [file, __filename]) {
    let tsNode: { register(options: object): unknown }
    try {
      tsNode = createRequire(from)('ts-node') as typeof tsNode
    } catch (error) {
      if (isModuleNotFound(error, 'ts-node')) continue
      throw new CliError(`cannot load ts-node for ${file}: ${oneLine(error)}`, { cause: error })
    }
    tsNode.register({ transpileOnly: true, projectSearchDir: dirname(file) })
    return
  }
  throw new CliError(
    `${file} is a TypeScript file, which needs ts-node: npm install --save-dev ts-node, or point -d at the compiled .js file`,
  )
}

/**
 * Loads a data source file the way TypeORM's own CLI reads `-d`: a .js or
 * .ts file whose default export or one named export is a DataSource (or a
 * promise of one). Several different DataSources are accepted only when one
 * of them is the default export.
 */
export async function loadDataSource(path: string, cwd: string = process.cwd()): Promise<LoadedDataSource> {
  const file = resolve(cwd, path)
  if (!existsSync(file)) throw new CliError(`data source file not found: ${file}`)
  if (!statSync(file).isFile()) throw new CliError(`data source file is not a file: ${file}`)
  if (TYPESCRIPT.has(extname(file))) registerTypeScript(file)

  let exported: unknown
  try {
    exported = require(file) as unknown
  } catch (error) {
    throw new CliError(`cannot load ${relative(cwd, file) || file}: ${oneLine(error)}`, { cause: error })
  }
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

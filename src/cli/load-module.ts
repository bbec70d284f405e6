import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, relative, resolve } from 'node:path'
import { CliError, oneLine } from './cli-error'

/** A module of the application, loaded. */
export interface LoadedModule {
  /** The absolute path of the file. */
  readonly file: string
  /** What `require` returned. */
  readonly exported: unknown
}

const TYPESCRIPT = new Set(['.ts', '.cts', '.mts'])

/** True when `request` itself is missing (not a module it requires). */
export function isModuleNotFound(error: unknown, request: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && error.message.includes(`'${request}'`)
}

/**
 * Makes `require` compile TypeScript, with ts-node in transpile-only mode,
 * found next to `file` first (the project's own ts-node), then next to this
 * tool. The tsconfig is searched from the file's directory, not from the
 * working directory, so that the project's `experimentalDecorators` apply
 * wherever the tool is started from.
 */
export function registerTypeScript(file: string): void {
  // Something (ts-node, tsx, @swc-node, an earlier .ts file of this run) already compiles .ts: keep it.
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
  throw new CliError(`${file} is a TypeScript file, which needs ts-node: npm install --save-dev ts-node, or point to the compiled .js file`)
}

/**
 * Loads a .js or .ts file of the application (`what` names it in errors:
 * "handlers module"). Errors are one-line CliErrors naming the file: the
 * operator typed its path and needs to know which one failed.
 */
export function loadModule(path: string, what: string, cwd: string = process.cwd()): LoadedModule {
  const file = resolve(cwd, path)
  if (!existsSync(file)) throw new CliError(`${what} not found: ${file}`)
  if (!statSync(file).isFile()) throw new CliError(`${what} is not a file: ${file}`)
  if (TYPESCRIPT.has(extname(file))) registerTypeScript(file)
  try {
    return { file, exported: require(file) as unknown }
  } catch (error) {
    throw new CliError(`cannot load ${relative(cwd, file) || file}: ${oneLine(error)}`, { cause: error })
  }
}

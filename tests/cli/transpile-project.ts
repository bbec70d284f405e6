import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import * as ts from 'typescript'

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return typescriptFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/**
 * Transpiles the TypeScript the CLI tests run (the library, the CLI, the
 * fixtures and what they import) into `outDir`, in the same layout, the way
 * ts-node's transpile-only mode does. Each spawned CLI then starts as plain
 * JavaScript: without ts-node a spawn costs a third of the CPU time, which is
 * what keeps this test file within its time on a busy two-core machine.
 * Bare imports resolve through NODE_PATH to the repository's node_modules.
 */
export function transpileProject(root: string, outDir: string, sources: readonly string[]): void {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path))
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const { options, errors } = ts.convertCompilerOptionsFromJson(config.config.compilerOptions, root)
  if (errors.length) throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('; '))
  const files = sources.flatMap((source) => (source.endsWith('.ts') ? [join(root, source)] : typescriptFiles(join(root, source))))
  for (const file of files) {
    const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { ...options, sourceMap: false, declaration: false },
      fileName: file,
      reportDiagnostics: true,
    })
    if (diagnostics?.length) throw new Error(`${file}: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`)
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js')
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, outputText)
  }
}

/**
 * Every TypeScript code block of README.md and docs/*.md compiles.
 *
 * Each fenced block tagged `ts` or `typescript` is written as its own module
 * into a temporary folder and all of them are typechecked in one TypeScript
 * program, with the repository's compiler options (strict, decorators, ...)
 * and `typeorm-event-actions` mapped to src/index.ts. A block must compile on
 * its own, imports included, as a reader would copy it; what a snippet needs
 * but does not show is declared in the block (`declare const dataSource:
 * DataSource`). Blocks that are not TypeScript (shell, output, diagrams) use
 * another tag (`sh`, `text`, `js`) and are not checked.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import ts from 'typescript'

const repoRoot = path.resolve(__dirname, '..', '..')

/** One fenced TypeScript block of a Markdown file. */
interface CodeBlock {
  /** The Markdown file, relative to the repository root, e.g. `docs/audit.md`. */
  readonly file: string
  /** 1-based line of the block's first code line in that file. */
  readonly line: number
  /** The code, with the fence's indentation removed. */
  readonly code: string
}

/** The Markdown files whose blocks are checked: README.md and docs/*.md. */
function markdownFiles(): string[] {
  const docs = path.join(repoRoot, 'docs')
  const pages = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`)
    : []
  return ['README.md', ...pages]
}

const fence = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)(.*)$/

/** The fenced blocks tagged `ts` or `typescript` (also inside list items, indented). */
function typescriptBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split(/\r?\n/)
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i]!)
    if (!open) continue
    const [, indent = '', marks = '', tag = ''] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const line = lines[j]!
      const close = /^(\s*)(`{3,}|~{3,})\s*$/.exec(line)
      if (close && close[2]![0] === marks[0] && close[2]!.length >= marks.length) break
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart())
    }
    if (tag === 'ts' || tag === 'typescript') blocks.push({ file, line: i + 2, code: body.join('\n') + '\n' })
    i = j
  }
  return blocks
}

const blocks = markdownFiles().flatMap((file) => typescriptBlocks(file, fs.readFileSync(path.join(repoRoot, file), 'utf8')))

/** The repository's compiler options (tsconfig.json), with the package name mapped to the source. */
function compilerOptions(): ts.CompilerOptions {
  const configFile = path.join(repoRoot, 'tsconfig.json')
  const read = ts.readConfigFile(configFile, ts.sys.readFile)
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, repoRoot, undefined, configFile)
  return {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    // What a reader's app has: Node's types, not jest's globals.
    types: ['node'],
    typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
    // The package name resolves to the source, as the published package resolves to dist/.
    baseUrl: repoRoot,
    paths: { 'typeorm-event-actions': [path.relative(repoRoot, path.join(repoRoot, 'src', 'index.ts'))] },
  }
}

interface BlockResult {
  readonly block: CodeBlock
  readonly errors: string[]
}

/** Typechecks every block in one program; returns per-block errors and the errors outside any block. */
function typecheck(): { results: BlockResult[]; elsewhere: string[] } {
  // Inside the repository (.tmp/ is git-ignored), so that `typeorm`, `class-validator`,
  // `@nestjs/common`, ... resolve from its node_modules as they would in an app.
  const tmpRoot = path.join(repoRoot, '.tmp')
  fs.mkdirSync(tmpRoot, { recursive: true })
  const folder = fs.mkdtempSync(path.join(tmpRoot, 'docs-code-blocks-'))
  try {
    const byFile = new Map<string, CodeBlock>()
    for (const block of blocks) {
      const name = `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-line-${block.line}.ts`
      const file = path.join(folder, name)
      fs.writeFileSync(file, block.code)
      byFile.set(path.normalize(file), block)
    }
    const program = ts.createProgram([...byFile.keys()], compilerOptions())
    const results = new Map<CodeBlock, string[]>(blocks.map((block) => [block, []]))
    const elsewhere: string[] = []
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
      const source = diagnostic.file
      const block = source ? byFile.get(path.normalize(source.fileName)) : undefined
      if (source && block && diagnostic.start !== undefined) {
        const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start)
        const code = block.code.split('\n')[line] ?? ''
        results
          .get(block)!
          .push(`${block.file}:${block.line + line}:${character + 1} TS${diagnostic.code}: ${message}\n    ${code.trim()}`)
      } else if (source) {
        const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
        elsewhere.push(`${path.relative(repoRoot, source.fileName)}:${line + 1}:${character + 1} TS${diagnostic.code}: ${message}`)
      } else {
        elsewhere.push(`TS${diagnostic.code}: ${message}`)
      }
    }
    return { results: blocks.map((block) => ({ block, errors: results.get(block)! })), elsewhere }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true })
  }
}

// The check does not touch a database. The test matrix runs the whole suite once
// per database and TypeORM major; this runs only in the default run (SQLite,
// TypeORM 0.3), so that it is checked once, not six times. The blocks are
// written against TypeORM 0.3's types, which are what the repository installs.
const runsHere = (process.env.DB === undefined || process.env.DB === 'sqlite') && process.env.TYPEORM !== '1'
const describeHere = runsHere ? describe : describe.skip

describeHere('code blocks of README.md and docs/*.md', () => {
  let checked: { results: BlockResult[]; elsewhere: string[] }

  beforeAll(() => {
    checked = typecheck()
  }, 120_000)

  it('finds the TypeScript blocks (README.md has some)', () => {
    expect(blocks.some((block) => block.file === 'README.md')).toBe(true)
  })

  it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))('%s compiles on its own', (_name, block) => {
    const errors = checked.results.find((result) => result.block === block)!.errors
    if (errors.length > 0) throw new Error(`the block at ${block.file}:${block.line} does not compile:\n${errors.join('\n')}`)
  })

  it('compiles without errors outside the blocks (the library source they import)', () => {
    if (checked.elsewhere.length > 0) throw new Error(checked.elsewhere.join('\n'))
  })
})

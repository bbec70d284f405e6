#!/usr/bin/env node
/**
 * The `typeorm-event-actions` command line tool: `audit` and `explain`.
 * Not part of the library's API; run it with `npx typeorm-event-actions`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { auditCommand } from './audit-command'
import { CliError, oneLine } from './cli-error'
import type { CommandIo, CommandOptions } from './command-io'
import { explainCommand } from './explain-command'
import { AUDIT_USAGE, EXPLAIN_USAGE, GENERAL_USAGE } from './usage'

const PROGRAM = 'typeorm-event-actions'

const USAGE: Record<string, string> = { audit: AUDIT_USAGE, explain: EXPLAIN_USAGE }

/** Both in src/cli and dist/cli the package's package.json is two levels up. */
function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'data-source': { type: 'string', short: 'd' },
        // TypeORM's CLI spells it --dataSource.
        dataSource: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    })
  } catch (error) {
    throw CliError.usage(`${oneLine(error)} (see ${PROGRAM} --help)`)
  }
}

/** The error, its stack and the stacks of its causes. */
function verboseReport(error: unknown): string {
  const parts: string[] = []
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const stack = typeof e === 'object' && e !== null ? (e as { stack?: unknown }).stack : undefined
    parts.push(`${depth ? 'caused by: ' : ''}${typeof stack === 'string' ? stack : oneLine(e)}`)
    if (typeof e !== 'object' || e === null) break
  }
  return `${parts.join('\n')}\n`
}

/**
 * Runs the tool with `argv` (without `node` and the script) and returns the
 * exit code: 0 done, 1 failed, 2 wrong command line. Errors end as one line
 * on `io.err`, with their stacks under `--verbose`.
 */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const verbose = argv.includes('--verbose')
  try {
    const { values, positionals } = parse(argv)
    if (values.version) {
      io.out(`${version()}\n`)
      return 0
    }
    const [command, ...args] = positionals
    if (command === undefined || command === 'help') {
      const about = command === 'help' ? USAGE[args[0] ?? ''] : undefined
      if (values.help || command === 'help') {
        io.out(about ?? GENERAL_USAGE)
        return 0
      }
      io.err(GENERAL_USAGE)
      return 2
    }
    const usage = USAGE[command]
    if (!usage) throw CliError.usage(`unknown command '${command}'; the commands are: audit, explain (see ${PROGRAM} --help)`)
    if (values.help) {
      io.out(usage)
      return 0
    }
    const expected = command === 'audit' ? 2 : 1
    if (args.length !== expected) {
      const shape = command === 'audit' ? '<Entity> <id>' : '<Entity>'
      throw CliError.usage(`${command} takes ${shape}, got ${args.length ? args.map((a) => `'${a}'`).join(' ') : 'nothing'} (see ${PROGRAM} ${command} --help)`)
    }
    const dataSourceFile = values['data-source'] ?? values.dataSource
    if (!dataSourceFile) throw CliError.usage(`${command} needs the data source file: -d <file> (see ${PROGRAM} ${command} --help)`)
    const options: CommandOptions = { dataSourceFile, json: values.json ?? false, verbose: values.verbose ?? false }
    if (command === 'audit') await auditCommand(args[0]!, args[1]!, options, io)
    else await explainCommand(args[0]!, options, io)
    return 0
  } catch (error) {
    if (error instanceof CliError) {
      io.err(verbose ? verboseReport(error) : `${PROGRAM}: ${error.message}\n`)
      return error.exitCode
    }
    // Not one of ours: name it, so that a HardError from the library reads as one.
    const name = typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string' ? (error as { name: string }).name : 'error'
    io.err(verbose ? verboseReport(error) : `${PROGRAM}: ${name}: ${oneLine(error)} (run with --verbose for the stack)\n`)
    return 1
  }
}

if (require.main === module) {
  const io: CommandIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }
  void main(process.argv.slice(2), io).then((code) => {
    // Exit once the output is flushed, even if the data source file left a timer or a pool behind.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
  })
}

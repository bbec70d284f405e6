#!/usr/bin/env node
/**
 * The `typeorm-event-actions` command line tool: `audit`, `explain`,
 * `worker` and `jobs`.
 * Not part of the library's API; run it with `npx typeorm-event-actions`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { auditCommand } from './audit-command'
import { CliError, oneLine } from './cli-error'
import type { CommandIo, CommandOptions } from './command-io'
import { explainCommand } from './explain-command'
import { jobsCommand, type JobsAction } from './jobs-command'
import { AUDIT_USAGE, EXPLAIN_USAGE, GENERAL_USAGE, JOBS_USAGE, WORKER_USAGE } from './usage'
import { workerCommand } from './worker-command'

const PROGRAM = 'typeorm-event-actions'

const USAGE: Record<string, string> = { audit: AUDIT_USAGE, explain: EXPLAIN_USAGE, worker: WORKER_USAGE, jobs: JOBS_USAGE }

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
        handlers: { type: 'string' },
        concurrency: { type: 'string' },
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

type Values = ReturnType<typeof parse>['values']

/** A usage error saying what `command` takes and what it got. */
function wrongArguments(command: string, shape: string, args: readonly string[]): CliError {
  const got = args.length ? args.map((a) => `'${a}'`).join(' ') : 'nothing'
  return CliError.usage(`${command} takes ${shape}, got ${got} (see ${PROGRAM} ${command} --help)`)
}

/** What `jobs` was asked, from its arguments: nothing, `retry <id>` or `discard <id>`. */
function jobsAction(args: readonly string[]): JobsAction {
  if (args.length === 0) return { kind: 'list' }
  const [kind, id] = args
  if ((kind === 'retry' || kind === 'discard') && args.length === 2 && id) return { kind, id }
  throw wrongArguments('jobs', 'nothing, retry <id> or discard <id>', args)
}

/** `--concurrency`: a whole number of at least 1, checked here so that a typo is a usage error, not a failure. */
function concurrencyOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 1) throw CliError.usage(`--concurrency takes a whole number of at least 1, got '${value}' (see ${PROGRAM} worker --help)`)
  return n
}

/** Checks the arguments and options of `command` and runs it. */
async function runCommand(command: string, args: readonly string[], values: Values, io: CommandIo): Promise<void> {
  const shapes: Record<string, [string, number] | undefined> = { audit: ['<Entity> <id>', 2], explain: ['<Entity>', 1], worker: ['no arguments', 0] }
  const shape = shapes[command]
  if (shape && args.length !== shape[1]) throw wrongArguments(command, shape[0], args)
  // The worker's options mean nothing to the other commands: say so rather than ignore a misplaced flag.
  for (const option of ['handlers', 'concurrency'] as const) {
    if (command !== 'worker' && values[option] !== undefined) throw CliError.usage(`--${option} is an option of worker, not of ${command} (see ${PROGRAM} ${command} --help)`)
  }
  if (command === 'worker' && values.json) throw CliError.usage(`worker has no --json: it prints what it does, line by line (see ${PROGRAM} worker --help)`)
  const action = command === 'jobs' ? jobsAction(args) : undefined
  const dataSourceFile = values['data-source'] ?? values.dataSource
  if (!dataSourceFile) throw CliError.usage(`${command} needs the data source file: -d <file> (see ${PROGRAM} ${command} --help)`)
  const options: CommandOptions = { dataSourceFile, json: values.json ?? false, verbose: values.verbose ?? false }
  if (command === 'audit') return auditCommand(args[0]!, args[1]!, options, io)
  if (command === 'explain') return explainCommand(args[0]!, options, io)
  if (action) return jobsCommand(action, options, io)
  const handlersFile = values.handlers
  if (!handlersFile) throw CliError.usage(`worker needs the job handlers: --handlers <module> (see ${PROGRAM} worker --help)`)
  return workerCommand({ ...options, handlersFile, concurrency: concurrencyOf(values.concurrency) }, io)
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
    if (!usage) throw CliError.usage(`unknown command '${command}'; the commands are: audit, explain, jobs, worker (see ${PROGRAM} --help)`)
    if (values.help) {
      io.out(usage)
      return 0
    }
    await runCommand(command, args, values, io)
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

/**
 * The `typeorm-event-actions` command line tool (issue 8), end to end: each
 * case spawns the CLI the way a user runs it, against a database with a
 * history written here, and checks what it prints and its exit code.
 *
 * The suite runs without a build, so the CLI, the library and the fixtures
 * are transpiled once into a temporary directory and spawned as JavaScript.
 * One case runs that CLI on the TypeScript data source file, which imports
 * src/: the CLI must register ts-node and work with a second copy of the
 * library. The built dist/cli/main.js runs too when a build exists (CI builds
 * first). Under TYPEORM=1 the spawned process gets no jest moduleNameMapper,
 * so a preload maps `typeorm` to TypeORM 1.x there.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../src'
import { main } from '../../src/cli/main'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { cliEntities, Customer, Pair, Ticket } from './fixtures/entities'
import { transpileProject } from './transpile-project'

const ROOT = join(__dirname, '..', '..')
const DIST_MAIN = join(ROOT, 'dist', 'cli', 'main.js')
/** The data source file as the application wrote it, in TypeScript. */
const TS_DATA_SOURCE = join('tests', 'cli', 'fixtures', 'data-source.ts')

interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

let tempDir: string
let sqliteFile: string
/** The transpiled project. */
let build: string
/** The transpiled data source file. */
let dataSource: string

/** Runs the CLI with `args` in the repository root: the transpiled one, or with `dist` the built one. */
function cli(args: readonly string[], entry: 'build' | 'dist' = 'build'): Promise<CliRun> {
  const node = [
    ...(TYPEORM_MAJOR >= 1 ? ['-r', join(__dirname, 'fixtures', 'typeorm-v1.js')] : []),
    entry === 'build' ? join(build, 'src', 'cli', 'main.js') : DIST_MAIN,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...node, ...args], {
      cwd: ROOT,
      env: { ...process.env, CLI_SQLITE_FILE: sqliteFile, NODE_PATH: join(ROOT, 'node_modules') },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A failure as the CLI must report it: one line, no stack trace. */
function expectOneLineError(run: CliRun, code: number, message: RegExp): void {
  expect(run.code).toBe(code)
  expect(run.stdout).toBe('')
  expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)])
  expect(run.stderr).not.toMatch(/^\s+at /m)
}

/** The table rows of `audit`: lines that start with a time, split on the column gaps. */
function auditRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/.test(line))
    .map((line) => line.split(/\s{2,}/))
}

/** The last column of the `index`-th entry of the `audit` table: its lines `attribute: old -> new`. */
function changesOf(stdout: string, index: number): string[] {
  const lines = stdout.split('\n')
  const starts = lines.map((l, i) => (/^\d{4}-/.test(l) ? i : -1)).filter((i) => i >= 0)
  const column = lines.find((l) => l.startsWith('when'))!.indexOf('attribute')
  return lines
    .slice(starts[index], starts[index + 1] ?? lines.length)
    .map((l) => l.slice(column).trim())
    .filter(Boolean)
}

let customerId: number
let ticketId: string
const startedAt = Date.now()

beforeAll(async () => {
  tempDir = mkdtempSync(join(tmpdir(), 'tea-cli-'))
  sqliteFile = join(tempDir, 'app.sqlite')
  build = join(tempDir, 'build')
  transpileProject(ROOT, build, ['src', 'tests/cli/fixtures', 'ormconfig.ts', 'demo'])
  dataSource = join(build, 'tests', 'cli', 'fixtures', 'data-source.js')
  // The same database the fixture's data source file opens: a SQLite file, or the server of DB/DB_URL.
  const ds = await openDataSource(cliEntities, {}, DB === 'sqlite' ? { database: sqliteFile } : {})
  try {
    const customers = ds.getRepository(Customer)
    const customer = await runAction({ name: 'customers:create', user: { id: 42 } }, () =>
      customers.save(customers.create({ name: ' Ada ', email: 'Ada@Example.COM', password: 'secret' })),
    )
    customerId = customer.id
    await runAction({ name: 'customers:rename', user: { id: 'u-7' } }, async () => {
      customer.name = 'Ada K.'
      await customers.save(customer)
    })
    customer.email = 'ada@k.example'
    await customers.save(customer)
    await runAction({ name: 'customers:delete', user: { id: 42 } }, () => customers.remove(customer))

    const pairs = ds.getRepository(Pair)
    const pair = await pairs.save(pairs.create({ region: 'eu', number: 7, label: 'first' }))
    pair.label = 'second'
    pair.hits = 3
    await pairs.save(pair)

    const tickets = ds.getRepository(Ticket)
    ticketId = (await tickets.save(tickets.create({ title: 'T1' }))).id
  } finally {
    await ds.destroy()
  }
})

afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true })
})

describe(`typeorm-event-actions CLI (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  it('audit prints the timeline oldest first: when, who, action, operation, attribute: old -> new', async () => {
    const run = await cli(['audit', 'Customer', String(customerId), '-d', dataSource])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    // The file asks for dropSchema and synchronize: had the CLI let them through, the trail would be empty.
    expect(run.stdout.split('\n')[0]).toBe(`Customer ${customerId}: 4 audit entries, oldest first`)
    expect(run.stdout).toMatch(/^when \(UTC\) +who +action +operation +attribute: old -> new$/m)
    expect(auditRows(run.stdout).map((r) => r.slice(1, 4))).toEqual([
      ['42', 'customers:create', 'insert'],
      ['u-7', 'customers:rename', 'update'],
      ['-', '-', 'update'],
      ['42', 'customers:delete', 'delete'],
    ])
    // What the handlers made of the input is what was recorded; the password never is.
    expect(changesOf(run.stdout, 0)).toEqual([
      `id: null -> ${customerId}`,
      'name: null -> "Ada"',
      'email: null -> "ada@example.com"',
      'status: null -> "new"',
    ])
    expect(changesOf(run.stdout, 1)).toEqual(['name: "Ada" -> "Ada K."'])
    expect(changesOf(run.stdout, 2)).toEqual(['email: "ada@example.com" -> "ada@k.example"'])
    expect(changesOf(run.stdout, 3)).toEqual([
      `id: ${customerId} -> null`,
      'name: "Ada K." -> null',
      'email: "ada@k.example" -> null',
      'status: "new" -> null',
    ])
    expect(run.stdout).not.toContain('password')
    // "when" is UTC whatever the process's time zone (the TypeORM 1.x half of the matrix runs in
    // New York): a mix-up would be hours away. Only on SQLite: on PostgreSQL and MariaDB the
    // database fills in `at` in its own time zone and the drivers read it as the process's, so
    // `at` itself is off by the difference there (a library issue, not the CLI's).
    if (DB === 'sqlite') {
      for (const [when] of auditRows(run.stdout)) {
        expect(Math.abs(Date.parse(when!.replace(' ', 'T')) - startedAt)).toBeLessThan(30 * 60 * 1000)
      }
    }
  })

  it('audit --json gives every column for scripts; a composite key is typed as key=value pairs', async () => {
    const run = await cli(['audit', 'Pair', 'number=7,region=eu', '-d', dataSource, '--json'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const entries = JSON.parse(run.stdout) as Record<string, unknown>[]
    expect(entries.map((e) => [e.operation, e.changes])).toEqual([
      ['insert', { label: { old: null, new: 'first' } }],
      ['update', { label: { old: 'first', new: 'second' } }],
    ])
    for (const entry of entries) {
      expect(entry).toMatchObject({ entityName: 'Pair', entityId: '{"number":7,"region":"eu"}', userId: null, actionName: null, requestId: null })
      expect(entry.transactionId).toEqual(expect.any(String))
      expect(entry.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    }
    expect(entries[0]!.transactionId).not.toBe(entries[1]!.transactionId)
  })

  it('audit takes a uuid key as typed; an id without entries is no error', async () => {
    const [found, none] = await Promise.all([
      cli(['audit', 'ticket', ticketId, '-d', dataSource]),
      cli(['audit', 'Ticket', '00000000-0000-4000-8000-000000000000', '-d', dataSource]),
    ])
    expect(found.stderr).toBe('')
    expect(found.code).toBe(0)
    expect(found.stdout.split('\n')[0]).toBe(`Ticket ${ticketId}: 1 audit entry, oldest first`)
    expect(changesOf(found.stdout, 0)).toEqual([`id: null -> "${ticketId}"`, 'title: null -> "T1"'])
    expect(none).toEqual({ code: 0, stderr: '', stdout: 'no audit entries for Ticket 00000000-0000-4000-8000-000000000000\n' })
  })

  it('explain lists the handlers, automatics, audit and validation settings, and the event order', async () => {
    const run = await cli(['explain', 'Customer', '-d', dataSource])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const out = run.stdout
    expect(out).toMatch(/^Customer \(table cli_customer, key id\)$/m)
    expect(out).toMatch(/^ {2}_eventAction +yes$/m)
    expect(out).toMatch(/^ {2}@OnEventAction +lowercaseEmail: Pre Insert, Pre Update; when email$/m)
    expect(out).toMatch(/^ {2}@Automatic +status$/m)
    expect(out).toMatch(/^ {2}@Audited +yes, all but password$/m)
    expect(out).toMatch(/^ {2}validation +after Pre Insert and Pre Update: email$/m)
    expect(out).toMatch(/^ {2}bulk writes +each matching row fires its events, with set-based SQL/m)

    // The Insert block: its steps in the order they happen.
    const insert = out.slice(out.indexOf('  Insert:'), out.indexOf('  Update:'))
    const steps = insert
      .split('\n')
      .slice(1)
      .filter((l) => /^\s+\d+\./.test(l))
      .map((l) => l.trim().split(/\s{2,}/).slice(1))
    expect(steps).toEqual([
      ['Pre SetAutomatics', '_eventAction'],
      ['set automatics', expect.stringMatching(/^status /)],
      ['Post SetAutomatics', '_eventAction'],
      ['Pre Insert', '_eventAction, lowercaseEmail (when email)'],
      ['validate', expect.stringMatching(/^class-validator/)],
      ['INSERT'],
      ['audit entry', expect.stringMatching(/^insert/)],
      ['Post Insert', '_eventAction'],
    ])
    const events = [...out.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1])
    expect(events).toEqual(['Insert', 'Update', 'Delete', 'Load', 'Create', 'SetAutomatics', 'Reset', 'BO2BO', 'RS2BO'])
  })

  it('explain --json: per-entity options; an entity with only an audit has no handler to run', async () => {
    const run = await cli(['explain', 'Pair', '-d', dataSource, '--json'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const pair = JSON.parse(run.stdout) as {
      primaryKey: string[]
      eventAction: boolean
      handlers: unknown[]
      audited: unknown
      validation: { runs: boolean; attributes: string[]; note: string }
      bulkWrites: { refused: boolean }
      events: { event: string; steps: { step: string; detail: string }[] }[]
    }
    expect(pair).toMatchObject({ primaryKey: ['region', 'number'], eventAction: false, handlers: [], audited: { only: ['label'] }, bulkWrites: { refused: false } })
    expect(pair.validation).toEqual({ runs: false, attributes: ['label'], note: 'off for this entity (@EventActionOptions validate: false)' })
    expect(pair.events.map((e) => e.event)).toEqual(['Insert', 'Update', 'Delete'])
    expect(pair.events[1]!.steps).toEqual([
      { step: 'Pre Update', detail: '-' },
      { step: 'UPDATE', detail: '' },
      { step: 'audit entry', detail: expect.stringMatching(/^update/) },
      { step: 'Post Update', detail: '-' },
    ])
  })

  it('reads a TypeScript data source file, with the handlers and the trail of the library copy that file imports', async () => {
    // The CLI is the transpiled copy; the file imports src/ through ts-node, which the CLI registers: two copies.
    const [explain, audit] = await Promise.all([
      cli(['explain', 'Customer', '-d', TS_DATA_SOURCE]),
      cli(['audit', 'Customer', String(customerId), '-d', TS_DATA_SOURCE, '--json']),
    ])
    expect(explain.stderr).toBe('')
    expect(explain.code).toBe(0)
    expect(explain.stdout).toMatch(/^ {2}@OnEventAction +lowercaseEmail: Pre Insert, Pre Update; when email$/m)
    expect(explain.stdout).toMatch(/^ {2}@Audited +yes, all but password$/m)
    expect(audit.stderr).toBe('')
    expect(audit.code).toBe(0)
    expect((JSON.parse(audit.stdout) as { operation: string }[]).map((e) => e.operation)).toEqual(['insert', 'update', 'update', 'delete'])
  })

  it('an unknown entity fails with the entities the data source has; a malformed composite key with the expected form', async () => {
    const [unknown, badId] = await Promise.all([
      cli(['audit', 'Nope', '1', '-d', dataSource]),
      cli(['audit', 'Pair', '7', '-d', dataSource]),
    ])
    expectOneLineError(unknown, 1, /^typeorm-event-actions: unknown entity 'Nope'; the data source has: AuditEntry, Customer, Pair, Plain, Ticket$/)
    expectOneLineError(badId, 2, /Pair has a composite key: give the id as '\{"region":"a","number":1\}' or region=\.\.\.,number=\.\.\./)
  })

  it('a file without a DataSource and an unreachable database fail on one line with exit code 1', async () => {
    const [noDataSource, unreachable] = await Promise.all([
      cli(['explain', 'Customer', '-d', join(build, 'tests', 'cli', 'fixtures', 'no-data-source.js')]),
      cli(['explain', 'Customer', '-d', join(build, 'tests', 'cli', 'fixtures', 'unreachable-data-source.js')]),
    ])
    expectOneLineError(noDataSource, 1, /^typeorm-event-actions: .*no-data-source\.js exports no DataSource \(its exports: options, connect\)/)
    expectOneLineError(unreachable, 1, /^typeorm-event-actions: cannot initialize the data source \(postgres\): .*ECONNREFUSED/)
  })
})

/**
 * What needs no database is checked in this process, through the same
 * main() the binary calls: a spawn per help text would cost seconds each.
 */
describe('typeorm-event-actions CLI: command line and help', () => {
  async function run(...argv: string[]): Promise<CliRun> {
    let stdout = ''
    let stderr = ''
    const code = await main(argv, { out: (text) => (stdout += text), err: (text) => (stderr += text) })
    return { code, stdout, stderr }
  }

  it('--help, <command> --help and --version print on stdout', async () => {
    const help = await run('--help')
    expect(help).toMatchObject({ code: 0, stderr: '' })
    expect(help.stdout).toMatch(/^Usage: typeorm-event-actions <command>/)
    expect(help.stdout).toMatch(/^ {2}audit <Entity> <id> /m)
    expect(help.stdout).toMatch(/^ {2}explain <Entity> /m)
    const audit = await run('audit', '--help')
    expect(audit).toMatchObject({ code: 0, stderr: '' })
    expect(audit.stdout).toMatch(/^Usage: typeorm-event-actions audit <Entity> <id> -d <file>/)
    const explain = await run('explain', '-h')
    expect(explain).toMatchObject({ code: 0, stderr: '' })
    expect(explain.stdout).toMatch(/^Usage: typeorm-event-actions explain <Entity> -d <file>/)
    // No command at all: the help, but on stderr and as a usage error.
    const version = await run('--version')
    expect(version).toEqual({ code: 0, stderr: '', stdout: `${(require('../../package.json') as { version: string }).version}\n` })
    const nothing = await run()
    expect(nothing).toMatchObject({ code: 2, stdout: '' })
    expect(nothing.stderr).toMatch(/^Usage: typeorm-event-actions <command>/)
  })

  it('a missing data source file fails on one line', async () => {
    expectOneLineError(
      await run('explain', 'Customer', '-d', 'tests/cli/fixtures/missing.ts'),
      1,
      /^typeorm-event-actions: data source file not found: .*tests\/cli\/fixtures\/missing\.ts$/,
    )
  })

  it('a wrong command line exits with 2 and says what to type', async () => {
    expectOneLineError(await run('history', 'Customer'), 2, /^typeorm-event-actions: unknown command 'history'; the commands are: audit, explain/)
    expectOneLineError(await run('audit', 'Customer', '1'), 2, /^typeorm-event-actions: audit needs the data source file: -d <file>/)
    expectOneLineError(await run('audit', 'Customer', '-d', dataSource), 2, /^typeorm-event-actions: audit takes <Entity> <id>, got 'Customer'/)
    expectOneLineError(await run('explain', 'Customer', '--jsn', '-d', dataSource), 2, /^typeorm-event-actions: Unknown option '--jsn'/)
  })

  it('--verbose prints the stack trace instead of the one line', async () => {
    const quiet = await run('explain', 'Customer', '-d', 'tests/cli/fixtures/missing.ts')
    const verbose = await run('explain', 'Customer', '-d', 'tests/cli/fixtures/missing.ts', '--verbose')
    expect(quiet.code).toBe(1)
    expect(verbose.code).toBe(1)
    expect(verbose.stderr).toMatch(/^CliError: data source file not found: /)
    expect(verbose.stderr).toMatch(/^\s+at /m)
  })
})

// CI builds before it tests; a local run without dist/ has nothing to run here.
const describeDist = existsSync(DIST_MAIN) ? describe : describe.skip
describeDist(`the built CLI, dist/cli/main.js (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  it('explains an entity of the TypeScript data source file', async () => {
    const run = await cli(['explain', 'Customer', '-d', TS_DATA_SOURCE], 'dist')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^ {2}@OnEventAction +lowercaseEmail: Pre Insert, Pre Update; when email$/m)
  })
})

/**
 * The `worker` and `jobs` commands of the CLI (issue 19), end to end, on the
 * database chosen by DB: jobs are written here, in the test process, through
 * the actions' transactions, and the spawned CLI runs, counts, retries and
 * discards them. The backend is the table-backed one of
 * fixtures/jobs-backend.ts, so every database of the suite runs this file.
 *
 * As in cli.test.ts, the project is transpiled once into a temporary
 * directory and the CLI spawned as JavaScript; the worker is spawned, waited
 * for (its started line), then stopped with SIGTERM like a process manager
 * stops it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DataSource } from 'typeorm'
import { runAction } from '../../src'
import { main } from '../../src/cli/main'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { CliJob, cliJobs } from './fixtures/jobs-backend'
import { JobMark, JobTicket, jobsEntities } from './fixtures/jobs-entities'
import { events } from './fixtures/jobs-handlers'
import { transpileProject } from './transpile-project'

const ROOT = join(__dirname, '..', '..')

interface CliRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A spawned CLI still running: its output so far, and its end. */
interface Spawned {
  readonly child: ChildProcessWithoutNullStreams
  readonly output: { stdout: string; stderr: string }
  readonly exited: Promise<CliRun>
}

let tempDir: string
let sqliteFile: string
let closeLog: string
let build: string
let ds: DataSource
/** The worker processes of the running test, killed afterwards if a test failed before it stopped them. */
const running = new Set<Spawned>()

const fixture = (name: string): string => join(build, 'tests', 'cli', 'fixtures', name)
const dataSourceArgs = (): string[] => ['-d', fixture('jobs-data-source.js')]

function spawnCli(args: readonly string[], env: Record<string, string> = {}): Spawned {
  const node = [...(TYPEORM_MAJOR >= 1 ? ['-r', join(__dirname, 'fixtures', 'typeorm-v1.js')] : []), join(build, 'src', 'cli', 'main.js')]
  const child = spawn(process.execPath, [...node, ...args], {
    cwd: ROOT,
    env: { ...process.env, CLI_SQLITE_FILE: sqliteFile, CLI_JOBS_CLOSE_LOG: closeLog, NODE_PATH: join(ROOT, 'node_modules'), ...env },
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()))
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, ...output }))
  })
  return { child, output, exited }
}

/** Runs a CLI command to its end. */
function cli(args: readonly string[], env?: Record<string, string>): Promise<CliRun> {
  return spawnCli(args, env).exited
}

/** Polls `check` until it returns something truthy; fails with `what` after `ms`. */
async function waitFor<T>(what: string, check: () => T | Promise<T>, ms = 20000): Promise<Exclude<T, false | null | undefined>> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value as Exclude<T, false | null | undefined>
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Starts `worker` (by default on the transpiled data source file and
 * handlers module) and waits for its started line; a worker that exits
 * first fails the test with its output.
 */
async function startWorker(args: readonly string[] = [], env?: Record<string, string>, files?: readonly string[]): Promise<Spawned> {
  const worker = spawnCli(['worker', ...(files ?? [...dataSourceArgs(), '--handlers', fixture('jobs-handlers.js')]), ...args], env)
  running.add(worker)
  let ended: CliRun | undefined
  void worker.exited.then((run) => (ended = run))
  // Long enough for ts-node to compile the library on a busy machine.
  await waitFor('the worker to start', () => {
    if (ended) throw new Error(`the worker exited with ${ended.code}: ${ended.stderr}${ended.stdout}`)
    return /^typeorm-event-actions worker started /m.test(worker.output.stdout)
  }, 45000)
  return worker
}

/** Stops a worker the way a process manager does, and waits for its end. */
async function stopWorker(worker: Spawned): Promise<CliRun> {
  worker.child.kill('SIGTERM')
  const run = await worker.exited
  running.delete(worker)
  return run
}

/** A ticket saved in an action: its Post Insert enqueues the job named `job`. */
async function saveTicket(title: string, job = 'ticket:created', user: { id: string | number } = { id: 7 }): Promise<JobTicket> {
  const tickets = ds.getRepository(JobTicket)
  return runAction({ name: 'tickets:open', user }, () => tickets.save(tickets.create({ title, job })))
}

const marks = (): Promise<JobMark[]> => ds.getRepository(JobMark).find({ order: { id: 'ASC' } })
const jobRows = (): Promise<CliJob[]> => ds.getRepository(CliJob).find({ order: { name: 'ASC', key: 'ASC' } })

/** Failed jobs of 'report:print', made by a worker whose printer is broken: one per title. */
async function failedReports(...titles: string[]): Promise<CliJob[]> {
  for (const title of titles) await saveTicket(title, 'report:print')
  const worker = await startWorker(['--concurrency', '1'], { CLI_JOBS_PRINTER: 'broken' })
  const failed = await waitFor('the reports to fail', async () => {
    const rows = (await jobRows()).filter((j) => j.state === 'failed')
    return rows.length === titles.length && rows
  })
  const run = await stopWorker(worker)
  expect(run.code).toBe(0)
  for (const title of titles) expect(run.stderr).toMatch(new RegExp(`job 'report:print' \\(key ticket:\\d+\\) failed on attempt 1: printer on fire \\(${title}\\)`))
  return failed
}

/** A failure as the CLI reports it: one line on stderr, nothing on stdout. */
function expectOneLineError(run: CliRun, code: number, message: RegExp): void {
  expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)])
  expect(run.stdout).toBe('')
  expect(run.code).toBe(code)
}

/** The rows of a text table that follow the header line starting with `header`, split on the column gaps. */
function tableRows(stdout: string, header: string): string[][] {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => l.startsWith(header))
  if (start === -1) return []
  const end = lines.findIndex((l, i) => i > start && l.trim() === '')
  return lines.slice(start + 1, end === -1 ? undefined : end).map((l) => l.split(/\s{2,}/))
}

beforeAll(async () => {
  tempDir = mkdtempSync(join(tmpdir(), 'tea-jobs-cli-'))
  sqliteFile = join(tempDir, 'app.sqlite')
  closeLog = join(tempDir, 'closed.log')
  build = join(tempDir, 'build')
  transpileProject(ROOT, build, ['src', 'tests/cli/fixtures', 'ormconfig.ts', 'demo'])
  const sqlite = DB === 'sqlite' ? { database: sqliteFile, ...(TYPEORM_MAJOR >= 1 ? {} : { busyTimeout: 10000 }) } : {}
  ds = await openDataSource(jobsEntities, { jobs: cliJobs() }, sqlite)
})

beforeEach(async () => {
  for (const table of ['cli_job', 'cli_job_ticket', 'cli_job_mark', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
  rmSync(closeLog, { force: true })
})

afterEach(async () => {
  for (const worker of running) worker.child.kill('SIGKILL')
  await Promise.all([...running].map((w) => w.exited))
  running.clear()
})

afterAll(async () => {
  await ds?.destroy()
  if (tempDir) rmSync(tempDir, { recursive: true, force: true })
})

describe(`typeorm-event-actions worker and jobs (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  it('worker runs the jobs of ctx.enqueue and of a durable binding as their users, and stops on SIGTERM with 0', async () => {
    // One job waits before the worker starts, the other comes while it runs.
    const ticket = await saveTicket('printer')
    const worker = await startWorker(['--concurrency', '2'])
    expect(worker.output.stdout).toMatch(
      /^typeorm-event-actions worker started \(pid \d+\): engine cli-table, concurrency 2, jobs ticket:created, ticket:slow, report:print, tickets:close \(durable\)$/m,
    )
    await runAction({ name: 'tickets:close', user: { id: 'u-9' }, params: { id: ticket.id } }, async () => 'closed', { events, dataSource: ds })

    const done = await waitFor('both jobs to run', async () => {
      const rows = await marks()
      return rows.length === 2 && rows
    })
    expect(done.map((m) => ({ job: m.job, jobKey: m.jobKey, note: m.note, userId: m.userId })).sort((a, b) => a.job.localeCompare(b.job))).toEqual([
      { job: 'ticket:created', jobKey: `ticket:${ticket.id}`, note: 'printer', userId: '7' },
      { job: 'tickets:close', jobKey: expect.stringMatching(/^[0-9a-f-]{36}:0$/), note: JSON.stringify({ id: ticket.id }), userId: 'u-9' },
    ])
    expect((await jobRows()).map((j) => [j.name, j.state, j.attempts])).toEqual([
      ['ticket:created', 'done', 1],
      ['tickets:close', 'done', 1],
    ])

    const run = await stopWorker(worker)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout.split('\n').slice(1)).toEqual([
      'typeorm-event-actions worker: SIGTERM: stopping, the running jobs finish first (send it again to exit at once)',
      'typeorm-event-actions worker stopped',
      '',
    ])
    expect(readFileSync(closeLog, 'utf8')).toMatch(/^closed \d+\n$/)
  })

  it('SIGTERM while a slow job runs: the job finishes first, then the worker exits with 0', async () => {
    const ticket = await saveTicket('slow', 'ticket:slow')
    const worker = await startWorker([], { CLI_JOBS_SLOW_MS: '1500' })
    await waitFor('the slow job to start', async () => (await marks()).some((m) => m.note === 'started'))
    const run = await stopWorker(worker)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    // Had the worker destroyed the DataSource at once, the job could not have written its end, nor been marked done.
    expect((await marks()).map((m) => [m.jobKey, m.note])).toEqual([
      [`ticket:${ticket.id}`, 'started'],
      [`ticket:${ticket.id}`, 'finished'],
    ])
    expect((await jobRows()).map((j) => j.state)).toEqual(['done'])
  })

  it('runs a TypeScript data source file and handlers module with the library copy they import, not its own', async () => {
    // The CLI is the transpiled copy; both files import src/ through ts-node: a second copy, whose
    // subscriber keeps the jobs backend and whose startWorker must run the jobs.
    const ts = (name: string): string => join('tests', 'cli', 'fixtures', name)
    const ticket = await saveTicket('typescript')
    const worker = await startWorker([], {}, ['-d', ts('jobs-data-source.ts'), '--handlers', ts('jobs-handlers.ts')])
    const [mark] = await waitFor('the job to run', async () => {
      const rows = await marks()
      return rows.length > 0 && rows
    })
    expect([mark!.job, mark!.jobKey, mark!.note]).toEqual(['ticket:created', `ticket:${ticket.id}`, 'typescript'])
    const run = await stopWorker(worker)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
  })

  it('a handlers module without handlers or events, and a data source without a jobs backend, fail with exit code 1', async () => {
    const noBackend = ['-d', fixture('jobs-no-backend-data-source.js')]
    const [missing, noExports, typescript, workerNoBackend, jobsNoBackend] = await Promise.all([
      cli(['worker', ...dataSourceArgs(), '--handlers', fixture('jobs-missing.js')]),
      cli(['worker', ...dataSourceArgs(), '--handlers', fixture('jobs-no-handlers.js')]),
      // A .ts module next to a .js data source file: the CLI registers ts-node for it.
      cli(['worker', ...dataSourceArgs(), '--handlers', join('tests', 'cli', 'fixtures', 'jobs-no-handlers.ts')]),
      cli(['worker', ...noBackend, '--handlers', fixture('jobs-handlers.js')]),
      cli(['jobs', ...noBackend]),
    ])
    expectOneLineError(missing, 1, /^typeorm-event-actions: handlers module not found: .*jobs-missing\.js$/)
    const noHandlers = /exports no job handlers \(its exports: handler, jobs\); export 'handlers' \(job handlers by job name, .*\) and\/or 'events' \(the ActionEvents with the \{ mode: 'durable' \} bindings\)$/
    expectOneLineError(noExports, 1, new RegExp(`^typeorm-event-actions: .*jobs-no-handlers\\.js ${noHandlers.source}`))
    expectOneLineError(typescript, 1, new RegExp(`^typeorm-event-actions: .*tests/cli/fixtures/jobs-no-handlers\\.ts ${noHandlers.source}`))
    const configure = /^typeorm-event-actions: the data source has no jobs backend \(its withEventActions\(\) has no jobs backend\): configure withEventActions\(options, \{ jobs: /
    expectOneLineError(workerNoBackend, 1, configure)
    expectOneLineError(jobsNoBackend, 1, configure)
  })

  it('jobs shows the counts per job name and the failed job with its error; --json gives the same to scripts', async () => {
    const [failed] = await failedReports('q3')
    const pending = [await saveTicket('q4', 'report:print'), await saveTicket('hello')]
    const [text, json] = await Promise.all([cli(['jobs', ...dataSourceArgs()]), cli(['jobs', ...dataSourceArgs(), '--json'])])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout.split('\n')[0]).toBe('jobs by name (engine cli-table): 2 pending, 0 active, 1 failed')
    expect(tableRows(text.stdout, 'name ')).toEqual([
      ['report:print', '1', '0', '1'],
      ['ticket:created', '1', '0', '0'],
    ])
    expect(text.stdout).toMatch(/^failed jobs, newest first \(retry: jobs retry <id>, delete: jobs discard <id>\):$/m)
    expect(tableRows(text.stdout, 'id ')).toEqual([[failed!.id, 'report:print', failed!.key, '1', 'printer on fire (q3)']])

    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({
      engine: 'cli-table',
      counts: [
        { name: 'report:print', pending: 1, active: 0, failed: 1 },
        { name: 'ticket:created', pending: 1, active: 0, failed: 0 },
      ],
      failed: [{ id: failed!.id, name: 'report:print', key: failed!.key, attempts: 1, error: 'printer on fire (q3)' }],
    })
    expect(pending.map((t) => `ticket:${t.id}`)).not.toContain(failed!.key)
    // Each run closed the backend before it destroyed the DataSource.
    expect(readFileSync(closeLog, 'utf8').trimEnd().split('\n')).toHaveLength(3)
  })

  it('jobs retry puts a failed job back and a worker runs it; jobs discard deletes one; ids of no failed job fail', async () => {
    const [first, second] = (await failedReports('a', 'b')).sort((x, y) => x.key.localeCompare(y.key, 'en', { numeric: true }))
    const retried = await cli(['jobs', 'retry', first!.id, ...dataSourceArgs()])
    expect(retried).toMatchObject({ code: 0, stderr: '', stdout: `job ${first!.id} is pending again: a worker runs it\n` })
    const discarded = await cli(['jobs', 'discard', second!.id, ...dataSourceArgs(), '--json'])
    expect(discarded.stderr).toBe('')
    expect(discarded.code).toBe(0)
    expect(JSON.parse(discarded.stdout)).toEqual({ id: second!.id, discarded: true })
    expect((await jobRows()).map((j) => [j.id, j.state])).toEqual([[first!.id, 'pending']])

    // The retried job is pending, the discarded one gone, the other id no job's at all: nothing to retry or discard.
    const [again, gone, unknown] = await Promise.all([
      cli(['jobs', 'retry', first!.id, ...dataSourceArgs()]),
      cli(['jobs', 'discard', second!.id, ...dataSourceArgs()]),
      cli(['jobs', 'retry', 'no-such-job', ...dataSourceArgs()]),
    ])
    expectOneLineError(again, 1, new RegExp(`^typeorm-event-actions: no failed job has the id '${first!.id}' \\(typeorm-event-actions jobs -d .* lists them\\)$`))
    expectOneLineError(gone, 1, new RegExp(`^typeorm-event-actions: no failed job has the id '${second!.id}'`))
    expectOneLineError(unknown, 1, /^typeorm-event-actions: no failed job has the id 'no-such-job'/)

    // The printer works again; the handlers come from a module's default export this time.
    const worker = await startWorker([], {}, [...dataSourceArgs(), '--handlers', fixture('jobs-handlers-default.js')])
    const ran = await waitFor('the retried job to run', async () => (await marks())[0])
    expect([ran.job, ran.jobKey, ran.note]).toEqual(['report:print', first!.key, 'a'])
    const run = await stopWorker(worker)
    expect(run.code).toBe(0)
    expect((await jobRows()).map((j) => [j.id, j.state, j.attempts])).toEqual([[first!.id, 'done', 2]])
  })
})

/** What needs no database, through main() in this process. */
describe('typeorm-event-actions worker and jobs: command line and help', () => {
  async function run(...argv: string[]): Promise<Omit<CliRun, 'signal'>> {
    let stdout = ''
    let stderr = ''
    const code = await main(argv, { out: (text) => (stdout += text), err: (text) => (stderr += text) })
    return { code, stdout, stderr }
  }

  it('the general help lists worker and jobs; each has its own help', async () => {
    const help = await run('--help')
    expect(help.stdout).toMatch(/^ {2}worker --handlers <module> +run the durable jobs/m)
    expect(help.stdout).toMatch(/^ {2}jobs \[retry\|discard <id>\] +jobs per name and state/m)
    const worker = await run('worker', '--help')
    expect(worker).toMatchObject({ code: 0, stderr: '' })
    expect(worker.stdout).toMatch(/^Usage: typeorm-event-actions worker -d <file> --handlers <module> \[--concurrency <n>\]$/m)
    expect(worker.stdout).toMatch(/^ {2}--concurrency <n> +jobs run at once in this process \(default 4\)$/m)
    expect(worker.stdout).not.toMatch(/--json/)
    const jobs = await run('help', 'jobs')
    expect(jobs).toMatchObject({ code: 0, stderr: '' })
    expect(jobs.stdout).toMatch(/^ {7}typeorm-event-actions jobs retry <id> -d <file>$/m)
    expect(jobs.stdout).toMatch(/^ {7}typeorm-event-actions jobs discard <id> -d <file>$/m)
  })

  it('a wrong command line exits with 2 and says what to type', async () => {
    const d = ['-d', 'tests/cli/fixtures/jobs-data-source.ts']
    const cases: [string[], RegExp][] = [
      [['jobs', 'retry', ...d], /^typeorm-event-actions: jobs takes nothing, retry <id> or discard <id>, got 'retry' \(see typeorm-event-actions jobs --help\)$/],
      [['jobs', 'list', ...d], /jobs takes nothing, retry <id> or discard <id>, got 'list'/],
      [['jobs', 'retry', '1', '2', ...d], /jobs takes nothing, retry <id> or discard <id>, got 'retry' '1' '2'/],
      [['jobs', 'retry', '1'], /^typeorm-event-actions: jobs needs the data source file: -d <file>/],
      [['worker', ...d], /^typeorm-event-actions: worker needs the job handlers: --handlers <module> \(see typeorm-event-actions worker --help\)$/],
      [['worker', 'now', ...d, '--handlers', 'h.js'], /^typeorm-event-actions: worker takes no arguments, got 'now'/],
      [['worker', ...d, '--handlers', 'h.js', '--concurrency', '0'], /^typeorm-event-actions: --concurrency takes a whole number of at least 1, got '0'/],
      [['worker', ...d, '--handlers', 'h.js', '--concurrency', '2x'], /--concurrency takes a whole number of at least 1, got '2x'/],
      [['worker', ...d, '--handlers', 'h.js', '--json'], /^typeorm-event-actions: worker has no --json/],
      [['jobs', ...d, '--handlers', 'h.js'], /^typeorm-event-actions: --handlers is an option of worker, not of jobs/],
      [['explain', 'Customer', ...d, '--concurrency', '2'], /^typeorm-event-actions: --concurrency is an option of worker, not of explain/],
    ]
    for (const [argv, message] of cases) expectOneLineError({ ...(await run(...argv)), signal: null }, 2, message)
  })

})

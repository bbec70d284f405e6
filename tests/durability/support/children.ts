/**
 * The child processes of the durability tests: the project transpiled once
 * into a temporary directory (as tests/cli does: a spawn of plain JavaScript
 * starts in a fraction of ts-node's time), then the CLI's `worker` and `jobs`
 * commands and the app script spawned from it. Every child is tracked, and
 * `killAll()` (afterEach / afterAll) ends those still running.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'
import { TYPEORM_MAJOR } from '../../support/database'
import { transpileProject } from '../../cli/transpile-project'

export const ROOT = join(__dirname, '..', '..', '..')

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Child {
  readonly child: ChildProcessWithoutNullStreams
  readonly pid: number
  readonly output: { stdout: string; stderr: string }
  readonly exited: Promise<Exit>
  /** Set once it exited. */
  exit?: Exit
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Polls `check` until it returns something truthy other than an empty array;
 * fails with `what` (and `detail()`) after `ms`. A check that throws (a read
 * on a connection a server restart cut) is tried again; its last error is
 * part of the timeout's message.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, ms = 20_000, detail?: () => string | Promise<string>): Promise<Exclude<T, false | null | undefined | 0>> {
  const until = Date.now() + ms
  for (;;) {
    let failure: string | undefined
    try {
      const value = await check()
      if (value && !(Array.isArray(value) && value.length === 0)) return value as Exclude<T, false | null | undefined | 0>
    } catch (error) {
      failure = (error as Error)?.message ?? String(error)
    }
    if (Date.now() > until) {
      const said = detail ? await Promise.resolve(detail()).catch((error: unknown) => `(no detail: ${(error as Error)?.message})`) : undefined
      throw new Error(`timed out after ${ms} ms waiting for ${what}${failure ? ` (its check failed: ${failure})` : ''}${said ? `: ${said}` : ''}`)
    }
    await sleep(50)
  }
}

export class Children {
  readonly running = new Set<Child>()

  private constructor(
    readonly build: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Transpiles the library, the CLI and the fixtures into `build`. */
  static prepare(build: string, env: Record<string, string>): Children {
    transpileProject(ROOT, build, ['src', 'tests/durability/fixtures', 'ormconfig.ts', 'demo'])
    return new Children(build, env)
  }

  fixture(name: string): string {
    return join(this.build, 'tests', 'durability', 'fixtures', name)
  }

  /** Spawns `node <script> ...args` from the build, with the shared environment plus `env`. */
  spawn(script: string, args: readonly string[] = [], env: Record<string, string> = {}): Child {
    // Under TYPEORM=1 a child gets no jest moduleNameMapper: the preload maps typeorm the same way.
    const preload = TYPEORM_MAJOR >= 1 ? ['-r', join(__dirname, 'typeorm-v1.js')] : []
    const child = spawn(process.execPath, [...preload, script, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), ...this.env, ...env },
    })
    const output = { stdout: '', stderr: '' }
    child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()))
    const tracked: Child = {
      child,
      pid: child.pid!,
      output,
      exited: new Promise<Exit>((resolve, reject) => {
        child.on('error', reject)
        child.on('close', (code, signal) => {
          this.running.delete(tracked)
          tracked.exit = { code, signal, ...output }
          resolve(tracked.exit)
        })
      }),
    }
    this.running.add(tracked)
    return tracked
  }

  /** The CLI (`typeorm-event-actions ...`) on the durability data source file. */
  cli(args: readonly string[], env: Record<string, string> = {}): Child {
    return this.spawn(join(this.build, 'src', 'cli', 'main.js'), [...args, '-d', this.fixture('data-source.js')], env)
  }

  /** Starts `worker` with the fixture handlers and waits for its started line. */
  async worker(concurrency: number, env: Record<string, string> = {}): Promise<Child> {
    const worker = this.cli(['worker', '--handlers', this.fixture('handlers.js'), '--concurrency', String(concurrency)], env)
    await waitFor('a worker to start', () => worker.exit || /^typeorm-event-actions worker started /m.test(worker.output.stdout), 30_000)
    if (worker.exit) throw new Error(`the worker exited with ${worker.exit.code ?? worker.exit.signal}: ${worker.exit.stderr}${worker.exit.stdout}`)
    return worker
  }

  /** Stops a worker as a process manager does (SIGTERM) and waits for its end. */
  async stop(worker: Child): Promise<Exit> {
    if (!worker.exit) worker.child.kill('SIGTERM')
    return worker.exited
  }

  /** SIGKILLs every child still running, and waits for them. */
  async killAll(): Promise<void> {
    const left = [...this.running]
    for (const c of left) c.child.kill('SIGKILL')
    await Promise.all(left.map((c) => c.exited.catch(() => undefined)))
  }
}

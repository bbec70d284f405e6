/** Helpers of the durability suite: the engines' state of one run, retrying writes, reading the CLI's tables. */
import { Queue } from 'bullmq'
import IORedis from 'ioredis'
import type { DataSource } from 'typeorm'
import type { JobBackend } from '../../../src'
import { durabilityDataSource, durabilityJobs } from '../fixtures/setup'
import { sleep, type Child, type Children } from './children'

export type Engine = 'pg-boss' | 'bullmq'

/** bullMqJobs' default queue name. */
const BULL_QUEUE = 'event-actions'

/** The rows of a text table that follow the header line starting with `header`, split on the column gaps. */
export function tableRows(stdout: string, header: string): string[][] {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => l.startsWith(header))
  if (start === -1) return []
  const end = lines.findIndex((l, i) => i > start && l.trim() === '')
  return lines.slice(start + 1, end === -1 ? undefined : end).map((l) => l.trim().split(/\s{2,}/))
}

/** Runs `fn` until it resolves (the database may be restarting); gives up after `ms`. Returns how many attempts failed. */
export async function persist(what: string, fn: () => Promise<unknown>, ms = 30_000): Promise<number> {
  const until = Date.now() + ms
  for (let failed = 0; ; failed++) {
    try {
      await fn()
      return failed
    } catch (error) {
      if (Date.now() > until) throw new Error(`${what} kept failing for ${ms} ms: ${(error as Error)?.message ?? String(error)}`)
      await sleep(100)
    }
  }
}

/** Empties the engine's jobs of the run `run` (its pg-boss queue, or its BullMQ prefix on the Redis at 6379). */
export async function clearEngine(engine: Engine, ds: DataSource, run: string): Promise<void> {
  if (engine === 'pg-boss') {
    await ds.query('DELETE FROM pgboss.job WHERE name = $1', [run])
    return
  }
  const queue = new Queue(BULL_QUEUE, { connection: { host: '127.0.0.1', port: 6379 }, prefix: run })
  try {
    await queue.obliterate({ force: true })
  } finally {
    await queue.close()
  }
}

/** Removes what the run `run` left in the engine: its pg-boss queue and jobs, or every Redis key of its BullMQ prefix. */
export async function dropEngine(engine: Engine, ds: DataSource, run: string): Promise<void> {
  if (engine === 'pg-boss') {
    await ds.query('DELETE FROM pgboss.job WHERE name = $1', [run])
    await ds.query('DELETE FROM pgboss.archive WHERE name = $1', [run])
    await ds.query('SELECT pgboss.delete_queue($1)', [run])
    return
  }
  const redis = new IORedis({ host: '127.0.0.1', port: 6379 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000)
      if (keys.length) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** What the workers wrote on stderr: the failed attempts and the engine errors they survived. */
export function stderrOf(workers: readonly Child[]): string {
  return workers.map((w) => w.output.stderr).join('')
}

/** Runs `body`; a failure gets what the workers said and how they ended appended (a crash tells itself apart from a lost job). */
export async function explained(workers: readonly Child[], body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (error) {
    const said = workers.map((w) => `worker ${w.pid}${w.exit ? ` (exited: ${w.exit.code ?? w.exit.signal})` : ''} on stderr:\n${w.output.stderr.slice(-3000)}`)
    if (error instanceof Error) error.message += `\n\n${said.join('\n')}`
    throw error
  }
}

/** What a restart test uses in this process: its own DataSource and backend, the environment of its workers. */
export interface RestartSetup {
  readonly env: Record<string, string>
  readonly jobs: JobBackend
  readonly ds: DataSource
  /** What its hand-overs after commit reported (BullMQ). */
  readonly relayErrors: unknown[]
}

/**
 * The restart tests' own DataSource, and the environment of their workers:
 * `env` with retries that outlast a restart (a handler whose write failed
 * while the server was away runs again a second later, up to 10 times), and
 * `extra` (the test's own Redis).
 */
export async function restartSetup(env: Record<string, string>, extra: Record<string, string> = {}): Promise<RestartSetup> {
  const restartEnv = { ...env, DUR_RETRY_LIMIT: '10', DUR_RETRY_DELAY: '1', ...extra }
  const relayErrors: unknown[] = []
  const jobs = durabilityJobs(restartEnv, (error) => relayErrors.push(error))
  const ds = durabilityDataSource({}, jobs, restartEnv)
  await ds.initialize()
  return { env: restartEnv, jobs, ds, relayErrors }
}

/** Kills the test's children, closes its backend and its DataSource. */
export async function restartTeardown(children: Children, setup: RestartSetup | undefined): Promise<void> {
  await children.killAll()
  if (!setup) return
  await setup.jobs.close(setup.ds).catch(() => undefined)
  if (setup.ds.isInitialized) await setup.ds.destroy()
}

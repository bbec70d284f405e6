/**
 * The servers the restart tests take down: the machine's PostgreSQL (through
 * pg_ctlcluster; DURABILITY_PG_CTL replaces the command, e.g. to restart a
 * private cluster while developing) and a Redis of the test's own, on a free
 * port, with append-only persistence in a temporary directory.
 */
import { exec, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import IORedis from 'ioredis'
import { sleep, waitFor } from './children'

const sh = promisify(exec)

/** pg_ctlcluster of the machine's cluster (`main` of its one version), or DURABILITY_PG_CTL. */
const PG_CTL = process.env.DURABILITY_PG_CTL ?? 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main'

/**
 * Restarts PostgreSQL: stops it (fast shutdown: open connections are cut),
 * keeps it down `downMs` (so that every worker's next query fails, not only
 * those in flight at the moment of the stop), starts it, and resolves once it
 * accepts connections again.
 */
export async function restartPostgres(downMs = 1000): Promise<void> {
  await sh(`${PG_CTL} stop`, { timeout: 60_000 })
  await sleep(downMs)
  await sh(`${PG_CTL} start`, { timeout: 60_000 })
}

/** Starts PostgreSQL unless it runs: the finally of a restart test, so that a failed restart never leaves it down. */
export async function ensurePostgresUp(): Promise<void> {
  try {
    await sh(`${PG_CTL} status`, { timeout: 30_000 })
  } catch {
    await sh(`${PG_CTL} start`, { timeout: 60_000 })
  }
}

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A redis-server of the test's own: started, stopped and started again by its pid, with its data kept in `dir`. */
export class OwnRedis {
  /** The servers not disposed yet: an afterAll disposes those a failed or timed-out test left. */
  static readonly alive = new Set<OwnRedis>()

  private process: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), 'tea-durability-redis-')))
    OwnRedis.alive.add(redis)
    await redis.up()
    return redis
  }

  get pid(): number | undefined {
    return this.process?.pid
  }

  /** Starts redis-server (AOF, fsync at every write, no RDB snapshots) and waits until it answers PING. */
  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir, '--save', '', '--daemonize', 'no']
    const child = spawn('redis-server', args, { stdio: 'ignore' })
    this.process = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    await waitFor(`redis-server on port ${this.port} to answer`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      const client = new IORedis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      // Refused while it starts: connect() rejects with it, and without a listener ioredis would print it too.
      client.on('error', () => undefined)
      try {
        await client.connect()
        return (await client.ping()) === 'PONG'
      } catch {
        return false
      } finally {
        client.disconnect()
      }
    }, 10_000)
  }

  /** Stops it by its pid (SIGTERM: it flushes the AOF and exits) and waits for the exit. */
  async down(): Promise<void> {
    const child = this.process
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    process.kill(child.pid!, 'SIGTERM')
    // A redis-server that does not exit within 10 s is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await this.exited
    clearTimeout(timer)
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.down()
    rmSync(this.dir, { recursive: true, force: true })
    OwnRedis.alive.delete(this)
  }
}

/**
 * The process-level acceptance tests of durable jobs (issue 19), run for one
 * engine by pg-boss.test.ts and bullmq.test.ts. Everything a user would see
 * happens in child processes started from the transpiled project: the
 * application that commits and dies, the `worker` command (several of them,
 * one killed mid-job), the `jobs` command; the test process makes jobs,
 * restarts the servers and reads the tables the handlers write.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DataSource } from 'typeorm'
import { JobOutboxEntry, type JobBackend, type JobCounts } from '../../../src'
import { DB, TYPEORM_MAJOR } from '../../support/database'
import { DurBatch, DurFlag, DurOrder, DurResult, DurRun } from '../fixtures/entities'
import { durabilityDataSource, durabilityJobs } from '../fixtures/setup'
import { Children, sleep, waitFor } from './children'
import { clearEngine, dropEngine, explained, persist, restartSetup, restartTeardown, stderrOf, tableRows, type Engine, type RestartSetup } from './helpers'
import { ensurePostgresUp, OwnRedis, restartPostgres } from './servers'

export function durabilitySuite(engine: Engine): void {
  // pg-boss keeps its jobs in PostgreSQL; BullMQ runs on every database of the suite. CI's Node 22
  // and 24 legs set SKIP_DURABILITY=1: these tests are of the engines and processes, run on Node 20.
  const selected = (engine === 'bullmq' || DB === 'postgres') && process.env.SKIP_DURABILITY !== '1'
  const describeIf = selected ? describe : describe.skip
  const itOnPostgres = DB === 'postgres' ? it : it.skip
  const itOnBullMq = engine === 'bullmq' ? it : it.skip

  describeIf(`durable jobs across processes: ${engine} (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
    // The pg-boss queue, or the BullMQ prefix, of this run alone.
    const RUN = `tea-dur-${DB}-${process.pid}-${Date.now().toString(36)}`
    let tempDir: string
    let env: Record<string, string>
    let children: Children
    let jobs: JobBackend
    let ds: DataSource
    const relayErrors: unknown[] = []
    let postgresRestarted = false

    /** The results, by key (sorted here: the databases' collations order keys differently). */
    const results = async (): Promise<DurResult[]> => (await ds.getRepository(DurResult).find()).sort((a, b) => (a.jobKey < b.jobKey ? -1 : a.jobKey > b.jobKey ? 1 : 0))
    const runsOf = async (jobKey: string): Promise<DurRun[]> => ds.getRepository(DurRun).find({ where: { jobKey }, order: { id: 'ASC' } })
    const outbox = async (): Promise<JobOutboxEntry[]> => ds.getRepository(JobOutboxEntry).find({ order: { createdAt: 'ASC', name: 'ASC' } })
    const sorted = (counts: JobCounts[]): JobCounts[] => [...counts].sort((a, b) => a.name.localeCompare(b.name))
    /** Nothing pending, running or failed: every job the engine holds is done. */
    const settled = async (backend = jobs, on = ds): Promise<boolean> => (await backend.counts(on)).every((c) => c.pending + c.active + c.failed === 0)

    /** One batch row, whose insert enqueues `count` jobs `job` keyed `<label>:<n>`, in one transaction. */
    async function makeBatch(label: string, count: number, job = 'bulk:item', slow: number | null = null, on = ds): Promise<void> {
      const batches = on.getRepository(DurBatch)
      await batches.save(batches.create({ label, job, count, slow }))
    }
    const keysOf = (label: string, count: number): string[] => Array.from({ length: count }, (_, n) => `${label}:${n}`)

    beforeAll(async () => {
      tempDir = mkdtempSync(join(tmpdir(), 'tea-durability-'))
      env = {
        DUR_ENGINE: engine,
        DUR_QUEUE: RUN,
        DUR_LOST_JOB_SECONDS: '3',
        DUR_RETRY_LIMIT: '2',
        DUR_RETRY_DELAY: '0',
        ...(DB === 'sqlite' ? { DUR_SQLITE_FILE: join(tempDir, 'app.sqlite') } : {}),
      }
      children = Children.prepare(join(tempDir, 'build'), env)
      jobs = durabilityJobs(env, (error) => relayErrors.push(error))
      ds = durabilityDataSource({ synchronize: true, dropSchema: true }, jobs, env)
      await ds.initialize()
      // pg-boss: its schema and this run's queue exist before the first worker or app starts.
      await jobs.counts(ds)
    }, 60_000)

    beforeEach(async () => {
      relayErrors.length = 0
      const tables = ['dur_order', 'dur_batch', 'dur_result', 'dur_run', 'dur_flag', ...(engine === 'bullmq' ? ['event_action_job_outbox'] : [])]
      for (const table of tables) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
      await clearEngine(engine, ds, RUN)
    })

    afterEach(async () => {
      await children.killAll()
      // Lets the hand-overs after commit of this process finish before the next test clears the queue.
      if (engine === 'bullmq') await jobs.close(ds)
    })

    afterAll(async () => {
      await children?.killAll()
      // What a test that failed or timed out half-way may have left: its Redis, PostgreSQL down.
      for (const redis of OwnRedis.alive) await redis.dispose()
      if (postgresRestarted) await ensurePostgresUp()
      try {
        if (ds?.isInitialized) await dropEngine(engine, ds, RUN)
      } finally {
        await jobs?.close(ds)
        await ds?.destroy()
        if (tempDir) rmSync(tempDir, { recursive: true, force: true })
      }
    }, 30_000)

    it('an app killed (SIGKILL) right after COMMIT, before any after-commit code ran: a worker still runs its enqueued and its durable job', async () => {
      const marker = join(tempDir, 'after-commit-ran')
      const app = children.spawn(children.fixture('app-crash.js'), [], { DUR_AFTER_COMMIT_MARKER: marker })
      const exit = await app.exited
      expect([exit.signal, exit.code, exit.stderr]).toEqual(['SIGKILL', null, ''])
      const orderId = Number(/^order (\d+)$/m.exec(exit.stdout)?.[1])
      expect(exit.stdout).toBe(`order ${orderId}\n`)
      // It committed: the order is there, with its two jobs waiting...
      expect(await ds.getRepository(DurOrder).findBy({ id: orderId })).toEqual([expect.objectContaining({ name: 'crash' })])
      expect(sorted(await jobs.counts(ds))).toEqual([
        { name: 'order:placed', pending: 1, active: 0, failed: 0 },
        { name: 'orders:submit', pending: 1, active: 0, failed: 0 },
      ])
      // ...and it died before the library's after-commit code: its ctx.afterCommit callback never ran,
      // and (BullMQ) the relay never handed the outbox rows to Redis.
      expect(existsSync(marker)).toBe(false)
      if (engine === 'bullmq') expect((await outbox()).map((r) => [r.name, r.sentAt])).toEqual([['order:placed', null], ['orders:submit', null]])
      expect(await results()).toEqual([])

      const worker = await children.worker(2)
      await waitFor('both jobs to be handled', async () => (await results()).length === 2, 20_000, async () => JSON.stringify(await jobs.counts(ds)))
      const handled = (await results()).sort((a, b) => a.job.localeCompare(b.job))
      expect(handled.map((r) => [r.job, r.jobKey, r.pid])).toEqual([
        ['order:placed', `order:${orderId}`, worker.pid],
        ['orders:submit', expect.stringMatching(/^[0-9a-f-]{36}:\d+$/), worker.pid],
      ])
      await waitFor('the engine to mark both done', () => settled())
      // BullMQ: it was the worker's sweep that sent them.
      if (engine === 'bullmq') expect((await outbox()).every((r) => r.sentAt !== null)).toBe(true)
      const stopped = await children.stop(worker)
      expect(stopped.code).toBe(0)
    }, 45_000)

    it('3 workers, 2,000 jobs: every job handled, its result written once; a worker SIGKILLed mid-job leaves its job to another', async () => {
      // The marked job first (it is fetched among the first), then 1,999 others.
      const SLOW = 'slow:0'
      const expected = [SLOW, ...keysOf('bulk', 1999)].sort()
      const [workers] = await Promise.all([
        Promise.all([0, 1, 2].map(() => children.worker(8))),
        makeBatch('slow', 1, 'bulk:item', 0).then(() => makeBatch('bulk', 1999)),
      ])
      await explained(workers, async () => {
        // The slow job logs its start, then sleeps: its worker is killed while running it (and others).
        const [started] = await waitFor('the slow job to start', () => runsOf(SLOW), 30_000)
        expect(started!.note).toBe('started')
        const victim = workers.find((w) => w.pid === started!.pid)!
        expect(victim).toBeDefined()
        victim.child.kill('SIGKILL')
        expect((await victim.exited).signal).toBe('SIGKILL')

        await waitFor('2,000 results', async () => (await results()).length === expected.length, 45_000, async () => `${(await results()).length} results, ${JSON.stringify(await jobs.counts(ds))}`)
        const written = await results()
        expect(written.map((r) => r.jobKey)).toEqual(expected)
        const survivors = workers.filter((w) => w !== victim).map((w) => w.pid)
        // The slow job was run again, to its end, by a surviving worker.
        const slowRuns = await runsOf(SLOW)
        expect(slowRuns[0]).toMatchObject({ note: 'started', pid: victim.pid })
        expect(slowRuns.at(-1)!.note).toBe('resumed')
        expect(survivors).toContain(slowRuns.at(-1)!.pid)
        expect(survivors).toContain(written.find((r) => r.jobKey === SLOW)!.pid)
        // Each surviving worker took its share.
        for (const pid of survivors) expect(written.filter((r) => r.pid === pid).length).toBeGreaterThan(100)
        await waitFor('the engine to mark every job done', () => settled(), 20_000, async () => JSON.stringify(await jobs.counts(ds)))
        // This process's hand-overs after its commits (BullMQ) went through.
        expect(relayErrors).toEqual([])

        for (const worker of workers.filter((w) => w !== victim)) expect((await children.stop(worker)).code).toBe(0)
      })
    }, 90_000)

    itOnPostgres('PostgreSQL restarted while workers run: they reconnect, and jobs made before, during and after the restart are all handled', async () => {
      let setup: RestartSetup | undefined
      try {
        setup = await restartSetup(env)
        const { jobs: jobs3, ds: ds3 } = setup
        const workers = await Promise.all([children.worker(4, { ...setup.env, DUR_ITEM_MS: '100' }), children.worker(4, { ...setup.env, DUR_ITEM_MS: '100' })])
        await explained(workers, async () => {
          await makeBatch('before', 80, 'restart:item', null, ds3)
          // Jobs made while PostgreSQL restarts: each commit is tried again until it succeeds.
          const during: string[] = []
          let failedCommits = 0
          let restarting = true
          const making = (async () => {
            for (let i = 0; restarting; i++) {
              const label = `during${i}`
              failedCommits += await persist(`the commit of ${label}`, () => makeBatch(label, 5, 'restart:item', null, ds3))
              during.push(label)
              await sleep(100)
            }
          })()
          // This process's own pg-boss (the writer) reports the connections it lost on console.error.
          const lost = jest.spyOn(console, 'error').mockImplementation(() => undefined)
          try {
            await waitFor('jobs to be running', async () => (await jobs3.counts(ds3)).some((c) => c.active > 0))
            postgresRestarted = true
            await restartPostgres()
          } finally {
            try {
              await ensurePostgresUp()
            } finally {
              restarting = false
              lost.mockRestore()
              await making
            }
          }
          // The restart cut the loop's connections: some commits failed and were made again.
          expect(failedCommits).toBeGreaterThan(0)
          await persist('the commit of after', () => makeBatch('after', 40, 'restart:item', null, ds3))

          const expected = [...keysOf('before', 80), ...during.flatMap((label) => keysOf(label, 5)), ...keysOf('after', 40)].sort()
          const progress = async () => `${(await results()).length} of ${expected.length}, ${JSON.stringify(await jobs3.counts(ds3))}`
          await waitFor('every job to be handled', async () => (await results()).length === expected.length, 45_000, progress)
          expect((await results()).map((r) => r.jobKey)).toEqual(expected)
          await waitFor('the engine to mark every job done', () => settled(jobs3, ds3), 20_000, progress)
          // Both workers lived through it, saw the connections go, and stop as usual.
          expect(workers.map((w) => w.exit)).toEqual([undefined, undefined])
          expect(stderrOf(workers)).toMatch(/terminat|ECONNREFUSED|shutdown|Connection/i)
          for (const worker of workers) expect((await children.stop(worker)).code).toBe(0)
        })
      } finally {
        await restartTeardown(children, setup)
      }
    }, 120_000)

    itOnBullMq('Redis restarted while workers run: workers and relays reconnect, and jobs made before, during and after are all handled', async () => {
      const redis = await OwnRedis.start()
      let setup: RestartSetup | undefined
      try {
        setup = await restartSetup(env, { DUR_REDIS_PORT: String(redis.port) })
        const { jobs: jobs2, ds: ds2, relayErrors: errors } = setup
        const workers = await Promise.all([children.worker(4, { ...setup.env, DUR_ITEM_MS: '100' }), children.worker(4, { ...setup.env, DUR_ITEM_MS: '100' })])
        await explained(workers, async () => {
          await makeBatch('before', 80, 'restart:item', null, ds2)
          await waitFor('some jobs to be handled', async () => (await results()).length > 10)
          await redis.down()
          // While Redis is down, commits succeed (the jobs wait in the outbox) and the hand-overs after them fail.
          for (let i = 0; i < 3; i++) await makeBatch(`during${i}`, 10, 'restart:item', null, ds2)
          await waitFor('the hand-overs after commit to fail', () => errors.length > 0)
          expect((await outbox()).filter((r) => r.sentAt === null).length).toBeGreaterThanOrEqual(30)
          await redis.up()
          // The app's producer reconnects: once it answers again, its hand-over after commit sends at once, without an error.
          await persist('the app to reach Redis again', () => jobs2.counts(ds2))
          const errorsBefore = errors.length
          await makeBatch('after', 40, 'restart:item', null, ds2)
          await waitFor('the jobs made after the restart to be sent', async () => (await outbox()).filter((r) => (r.payload as { label: string }).label === 'after' && r.sentAt !== null).length === 40)
          expect(errors.slice(errorsBefore)).toEqual([])

          const expected = [...keysOf('before', 80), ...keysOf('during0', 10), ...keysOf('during1', 10), ...keysOf('during2', 10), ...keysOf('after', 40)].sort()
          await waitFor('every job to be handled', async () => (await results()).length === expected.length, 45_000, async () => `${(await results()).length} of ${expected.length}, ${JSON.stringify(await jobs2.counts(ds2))}`)
          expect((await results()).map((r) => r.jobKey)).toEqual(expected)
          await waitFor('the engine to mark every job done', () => settled(jobs2, ds2), 20_000, async () => JSON.stringify(await jobs2.counts(ds2)))
          expect((await outbox()).every((r) => r.sentAt !== null)).toBe(true)
          expect(workers.map((w) => w.exit)).toEqual([undefined, undefined])
          for (const worker of workers) expect((await children.stop(worker)).code).toBe(0)
        })
      } finally {
        await restartTeardown(children, setup)
        await redis.dispose()
      }
    }, 120_000)

    it('a handler that always throws ends failed after retryLimit with its error; the jobs command shows it and jobs retry runs it again', async () => {
      const orders = ds.getRepository(DurOrder)
      const order = await orders.save(orders.create({ name: 'report', job: 'report:print' }))
      const key = `order:${order.id}`
      const worker = await children.worker(2)
      const [failed] = await waitFor('the job to fail for good', () => jobs.failed(ds), 20_000)
      // The first attempt and retryLimit (2) retries, each with its error.
      expect((await runsOf(key)).map((r) => r.note)).toEqual(['attempt 1', 'attempt 2', 'attempt 3'])
      expect(failed).toMatchObject({ name: 'report:print', key, attempts: 3, error: `printer on fire (${key})` })

      const listed = await children.cli(['jobs']).exited
      expect(listed.stderr).toBe('')
      expect(listed.code).toBe(0)
      expect(listed.stdout.split('\n')[0]).toBe(`jobs by name (engine ${engine}): 0 pending, 0 active, 1 failed`)
      expect(tableRows(listed.stdout, 'name ')).toEqual([['report:print', '0', '0', '1']])
      expect(tableRows(listed.stdout, 'id ')).toEqual([[failed!.id, 'report:print', key, '3', `printer on fire (${key})`]])
      expect(await results()).toEqual([])

      // The printer is fixed; the job is retried by hand, and the running worker handles it.
      await ds.getRepository(DurFlag).insert({ name: 'printer-fixed' })
      const retried = await children.cli(['jobs', 'retry', failed!.id]).exited
      expect(retried).toMatchObject({ code: 0, stderr: '', stdout: `job ${failed!.id} is pending again: a worker runs it\n` })
      await waitFor('the retried job to be handled', async () => (await results()).length === 1)
      expect((await results()).map((r) => [r.job, r.jobKey, r.pid])).toEqual([['report:print', key, worker.pid]])
      expect(await runsOf(key)).toHaveLength(4)
      await waitFor('the engine to mark it done', () => settled())
      expect(await jobs.failed(ds)).toEqual([])
      expect((await children.stop(worker)).code).toBe(0)
    }, 60_000)
  })
}

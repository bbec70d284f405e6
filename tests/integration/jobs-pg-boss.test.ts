/**
 * The pg-boss engine of durable jobs (issue 19), on PostgreSQL only: jobs are
 * pg-boss rows written through the saving transaction (gone with its
 * rollback, or with the savepoint they were made in), carry the whole job
 * record, and are run by a consumer with retries, failures, retry and
 * discard by hand, counts per job name and a graceful stop.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn, QueryFailedError, type Logger, type QueryRunner } from 'typeorm'
import {
  ActionEvents,
  EventActionTiming,
  EventActionType,
  HardError,
  JobPayloadError,
  runAction,
  SoftError,
  startWorker,
  type AttributeGroup,
  type EventActionContext,
  type JobBackend,
  type JobDelivery,
  type JobRecord,
} from '../../src'
import { pgBossJobs } from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert } = EventActionType

const QUEUE = 'typeorm-event-actions'

/** The trace of transaction statements and pg-boss inserts, as TypeORM ran them. */
const log: string[] = []
const sqlLogger: Logger = {
  logQuery(query: string) {
    const q = query.trim()
    if (/^(BEGIN|START TRANSACTION)/i.test(q)) log.push('BEGIN')
    else if (/^COMMIT/i.test(q)) log.push('COMMIT')
    else if (/^ROLLBACK/i.test(q)) log.push('ROLLBACK')
    else if (/INSERT INTO pgboss\.job/i.test(q)) log.push('INSERT pgboss.job')
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
}

type Hook = (entity: Order, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<Order>) => unknown
const hooks: { order?: Hook } = {}

@Entity('pj_order')
class Order {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Order>) {
    return hooks.order?.(this, timing, type, ctx)
  }
}

const order = (name: string) => Object.assign(new Order(), { name })

const enqueueOnPostInsert: Hook = (o, timing, type, ctx) => {
  if (timing === Post && type === Insert) ctx.enqueue('order:placed', { id: o.id, name: o.name })
}

interface JobRow {
  id: string
  data: JobRecord
  state: string
  retry_limit: number
  retry_delay: number
  retry_backoff: boolean
  retry_count: number
  output: { message?: string } | null
}

/** The pg-boss rows of our queue, oldest first. */
const jobRows = (ds: DataSource): Promise<JobRow[]> =>
  ds.query(`SELECT id::text AS id, data, state::text AS state, retry_limit, retry_delay, retry_backoff, retry_count, output FROM pgboss.job WHERE name = $1 ORDER BY created_on, data->'payload'->>'name'`, [QUEUE])

const orderNames = async (ds: DataSource): Promise<string[]> => (await ds.getRepository(Order).find({ order: { id: 'ASC' } })).map((o) => o.name)

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 15000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const describeOnPostgres = DB === 'postgres' ? describe : describe.skip

describeOnPostgres(`pgBossJobs (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let jobs: JobBackend

  beforeAll(async () => {
    jobs = pgBossJobs({ retryLimit: 2, retryDelay: 0, retryBackoff: false, maxPayloadBytes: 2000, pollingIntervalSeconds: 0.5 })
    ds = await openDataSource([Order], { jobs }, { logger: sqlLogger, logging: true })
    // Starts pg-boss (creating its schema and queue) before the tests clear its table.
    await jobs.counts(ds)
  })
  afterAll(async () => {
    await jobs?.close(ds)
    await ds?.destroy()
  })
  beforeEach(async () => {
    delete hooks.order
    log.length = 0
    await ds.query('DELETE FROM pj_order')
    await ds.query('DELETE FROM pgboss.job WHERE name = $1', [QUEUE])
  })

  describe('writing jobs', () => {
    it('a committed save leaves one pg-boss job carrying the whole record, inserted inside the transaction', async () => {
      hooks.order = enqueueOnPostInsert
      const saved = await runAction({ name: 'orders:place', user: { id: 7, name: 'Ann' }, requestId: 'r-1' }, () => ds.getRepository(Order).save(order('desk')))
      const rows = await jobRows(ds)
      expect(rows).toHaveLength(1)
      const [row] = rows
      expect(row!.data).toMatchObject({ id: row!.id, name: 'order:placed', kind: 'enqueue', payload: { id: saved.id, name: 'desk' } })
      expect(row!.data.action).toEqual({ name: 'orders:place', user: { id: 7, name: 'Ann' }, requestId: 'r-1' })
      expect(row!.data.key).toMatch(/^[0-9a-f-]{36}:0$/)
      expect(row).toMatchObject({ state: 'created', retry_limit: 2, retry_delay: 0, retry_backoff: false })
      // One INSERT, through TypeORM's query runner, between the save's BEGIN and its COMMIT.
      expect(log).toEqual(['BEGIN', 'INSERT pgboss.job', 'COMMIT'])
      expect(await jobs.counts(ds)).toEqual([{ name: 'order:placed', pending: 1, active: 0, failed: 0 }])
    })

    it('writes all jobs of one transaction in one statement, with the keys given to ctx.enqueue', async () => {
      hooks.order = (o, timing, type, ctx) => {
        if (timing !== Post || type !== Insert) return
        ctx.enqueue('mail:confirm', { to: o.name }, { key: `confirm:${o.name}` })
        ctx.enqueue('stock:reserve', { items: [1, 2] })
      }
      await ds.transaction(async (m) => {
        await m.save(order('a'))
        await m.save(order('b'))
      })
      const rows = await jobRows(ds)
      expect(rows.map((r) => r.data.name).sort()).toEqual(['mail:confirm', 'mail:confirm', 'stock:reserve', 'stock:reserve'])
      expect(rows.filter((r) => r.data.name === 'mail:confirm').map((r) => r.data.key).sort()).toEqual(['confirm:a', 'confirm:b'])
      expect(log.filter((l) => l === 'INSERT pgboss.job')).toHaveLength(1)
      expect(await jobs.counts(ds)).toEqual([
        { name: 'mail:confirm', pending: 2, active: 0, failed: 0 },
        { name: 'stock:reserve', pending: 2, active: 0, failed: 0 },
      ])
    })

    it('a rollback leaves no job: a later handler refuses the save', async () => {
      hooks.order = (o, timing, type, ctx) => {
        if (timing === Pre && type === Insert) ctx.enqueue('order:placed', { name: o.name })
        if (timing === Post && type === Insert) throw new SoftError('no desks today')
      }
      await expect(ds.getRepository(Order).save(order('desk'))).rejects.toThrow('no desks today')
      expect(await orderNames(ds)).toEqual([])
      expect(await jobRows(ds)).toEqual([])
      expect(log).not.toContain('INSERT pgboss.job')
    })

    it('a COMMIT that fails after the jobs were inserted takes them back with the data', async () => {
      // A deferred check fails at COMMIT, after pg-boss's INSERT ran in the transaction.
      await ds.query(`CREATE OR REPLACE FUNCTION pj_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'doomed at commit'; END $$`)
      await ds.query('DROP TRIGGER IF EXISTS pj_doomed ON pj_order')
      await ds.query(
        `CREATE CONSTRAINT TRIGGER pj_doomed AFTER INSERT ON pj_order DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.name = 'doomed') EXECUTE FUNCTION pj_refuse()`,
      )
      hooks.order = enqueueOnPostInsert
      await expect(ds.getRepository(Order).save(order('doomed'))).rejects.toThrow('doomed at commit')
      expect(log).toEqual(['BEGIN', 'INSERT pgboss.job', 'COMMIT', 'ROLLBACK'])
      expect(await orderNames(ds)).toEqual([])
      expect(await jobRows(ds)).toEqual([])
    })

    it('a savepoint that rolls back drops the jobs made inside it and keeps the outer ones', async () => {
      hooks.order = enqueueOnPostInsert
      await ds.transaction(async (m) => {
        await m.save(order('outer-1'))
        await m
          .transaction(async (inner) => {
            await inner.save(order('inner'))
            throw new Error('inner fails')
          })
          .catch(() => undefined)
        await m.save(order('outer-2'))
      })
      expect(await orderNames(ds)).toEqual(['outer-1', 'outer-2'])
      expect((await jobRows(ds)).map((r) => (r.data.payload as { name: string }).name)).toEqual(['outer-1', 'outer-2'])
    })

    it('a save with { transaction: false } writes its job on its own connection after the row', async () => {
      hooks.order = enqueueOnPostInsert
      await ds.getRepository(Order).save(order('loose'), { transaction: false })
      expect(await orderNames(ds)).toEqual(['loose'])
      expect((await jobRows(ds)).map((r) => r.data.payload)).toEqual([{ id: expect.any(Number), name: 'loose' }])
    })

    it('a durable binding leaves one job per binding, with transaction: true and without', async () => {
      const events = new ActionEvents()
      events.bind('orders:submit', Post, () => undefined, { mode: 'durable' })
      events.bind('orders:submit', Post, () => undefined, { mode: 'durable', job: 'orders:submit:notify' })
      const submit = (transaction: boolean, name: string) =>
        runAction(
          { name: 'orders:submit', user: { id: 'u1' }, params: { rush: true } },
          async (m) => (await (m ?? ds.manager).save(order(name))).id,
          { events, dataSource: ds, transaction },
        )
      const id = await submit(true, 'with')
      let rows = await jobRows(ds)
      expect(rows.map((r) => r.data.name).sort()).toEqual(['orders:submit', 'orders:submit:notify'])
      for (const { data } of rows) {
        expect(data).toMatchObject({ kind: 'durable', action: { name: 'orders:submit', user: { id: 'u1' } } })
        expect(data.payload).toMatchObject({ action: 'orders:submit', user: { id: 'u1' }, params: { rush: true }, result: id })
      }
      await ds.query('DELETE FROM pgboss.job WHERE name = $1', [QUEUE])
      await submit(false, 'without')
      rows = await jobRows(ds)
      expect(rows.map((r) => r.data.name).sort()).toEqual(['orders:submit', 'orders:submit:notify'])
      expect(await orderNames(ds)).toEqual(['with', 'without'])
    })

    it('an action that fails after its durable jobs were recorded leaves none', async () => {
      const events = new ActionEvents()
      events.bind('orders:cancel', Post, () => undefined, { mode: 'durable' })
      events.bind('orders:cancel', Post, () => { throw new Error('sync refuses') }, { mode: 'sync' })
      await expect(
        runAction({ name: 'orders:cancel' }, async (m) => void (await m!.save(order('x'))), { events, dataSource: ds, transaction: true }),
      ).rejects.toThrow('sync refuses')
      expect(await jobRows(ds)).toEqual([])
      expect(await orderNames(ds)).toEqual([])
    })

    it.each([
      ['a bigint', { n: 1n }, /\$\.n: a bigint is not JSON/],
      ['a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o })(), /\$\.self: a cycle/],
      ['a Map', { m: new Map([[1, 2]]) }, /\$\.m: a Map is not JSON/],
      ['too many bytes', { text: 'x'.repeat(3000) }, /over the limit of 2000 \(maxPayloadBytes\)/],
    ])('a payload with %s is refused with JobPayloadError, and nothing is written', async (_what, payload, message) => {
      hooks.order = (_o, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.enqueue('order:placed', payload)
      }
      const error = await ds.getRepository(Order).save(order('bad')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(JobPayloadError)
      expect((error as JobPayloadError).message).toMatch(message)
      expect((error as JobPayloadError).jobName).toBe('order:placed')
      expect(await orderNames(ds)).toEqual([])
      expect(await jobRows(ds)).toEqual([])
    })

    it('a payload with the character U+0000 (which jsonb cannot hold) is refused with JobPayloadError naming the job', async () => {
      hooks.order = (_o, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.enqueue('order:placed', { note: 'a\u0000b', 'back\\u0000slash': 'c:\\u0000' })
      }
      const error = await ds.getRepository(Order).save(order('nul')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(JobPayloadError)
      expect((error as Error).message).toMatch(/^job 'order:placed' from Order's Post Insert handler: its payload is not JSON at \$\.note: a string with a NUL character/)
      expect(await orderNames(ds)).toEqual([])
      expect(await jobRows(ds)).toEqual([])
      // In the action's user, it is refused when the job is written: the COMMIT fails, nothing stays.
      hooks.order = (_o, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.enqueue('order:placed', {})
      }
      const inAction = await runAction({ name: 'orders:place', user: { id: 1, name: 'a\u0000b' } }, () => ds.getRepository(Order).save(order('nul2'))).catch((e: unknown) => e)
      expect((inAction as Error).message).toBe("job 'order:placed': its payload or action contains the character U+0000, which PostgreSQL cannot store in jsonb")
      expect(await orderNames(ds)).toEqual([])
      expect(await jobRows(ds)).toEqual([])
      // A backslash followed by "u0000" is plain text, and stored.
      hooks.order = (_o, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.enqueue('order:placed', { 'back\\u0000slash': 'c:\\u0000' })
      }
      await runAction({ name: 'orders:place', user: { id: 2, name: 'd:\\u0000' } }, () => ds.getRepository(Order).save(order('text')))
      expect((await jobRows(ds)).map((r) => [r.data.payload, r.data.action?.user])).toEqual([[{ 'back\\u0000slash': 'c:\\u0000' }, { id: 2, name: 'd:\\u0000' }]])
    })

    it('refuses to commit jobs that pg-boss did not store (their queue was deleted behind its back)', async () => {
      const other = pgBossJobs({ queue: 'pj-vanishing' })
      const ds2 = await openDataSource([Order], { jobs: other })
      try {
        hooks.order = enqueueOnPostInsert
        await ds2.getRepository(Order).save(order('first'))
        await ds2.query(`DELETE FROM pgboss.job WHERE name = 'pj-vanishing'`)
        await ds2.query(`SELECT pgboss.delete_queue('pj-vanishing')`)
        await expect(ds2.getRepository(Order).save(order('second'))).rejects.toThrow(
          /pg-boss stored 0 of 1 jobs \('order:placed'\) in queue 'pj-vanishing' of schema 'pgboss'.*rolled back/,
        )
        expect(await orderNames(ds2)).toEqual(['first'])
      } finally {
        await other.close(ds2)
        await ds2.destroy()
      }
    })

    it('inserts the jobs as a named prepared statement on the saving connection; preparedStatements: false sends a plain one', async () => {
      hooks.order = enqueueOnPostInsert
      // One pooled connection: the statements PostgreSQL keeps prepared for it can be listed from the DataSource.
      const preparedOn = async (options: { preparedStatements?: boolean }, name: string): Promise<string[]> => {
        const backend = pgBossJobs(options)
        const one = await openDataSource([Order], { jobs: backend }, { dropSchema: false, synchronize: false, extra: { max: 1 } })
        try {
          await one.getRepository(Order).save(order(`${name}-1`))
          await one.getRepository(Order).save(order(`${name}-2`))
          const rows: { statement: string }[] = await one.query(`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'tea\\_%'`)
          return rows.map((r) => (/INSERT INTO pgboss\.job/.test(r.statement) ? 'INSERT pgboss.job' : r.statement))
        } finally {
          await backend.close(one)
          await one.destroy()
        }
      }
      expect(await preparedOn({}, 'prepared')).toEqual(['INSERT pgboss.job'])
      expect(await preparedOn({ preparedStatements: false }, 'plain')).toEqual([])
      expect((await jobRows(ds)).map((r) => (r.data.payload as { name: string }).name)).toEqual(['prepared-1', 'prepared-2', 'plain-1', 'plain-2'])
    })

    it("a job INSERT the database refuses fails the save with TypeORM's QueryFailedError, leaving neither row nor job", async () => {
      await ds.query(`CREATE OR REPLACE FUNCTION pj_refuse_job() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.data->'payload'->>'name' = 'refused' THEN RAISE EXCEPTION 'job refused by a trigger'; END IF; RETURN NEW; END $$`)
      await ds.query('CREATE TRIGGER pj_refuse_job BEFORE INSERT ON pgboss.job FOR EACH ROW EXECUTE FUNCTION pj_refuse_job()')
      try {
        hooks.order = enqueueOnPostInsert
        const saving = ds.getRepository(Order).save(order('refused'))
        await expect(saving).rejects.toThrow(QueryFailedError)
        await expect(saving).rejects.toThrow('job refused by a trigger')
        expect(log).toEqual(['BEGIN', 'INSERT pgboss.job', 'ROLLBACK'])
        await ds.getRepository(Order).save(order('accepted'))
      } finally {
        await ds.query('DROP TRIGGER pj_refuse_job ON pgboss.job')
      }
      expect(await orderNames(ds)).toEqual(['accepted'])
      expect((await jobRows(ds)).map((r) => (r.data.payload as { name: string }).name)).toEqual(['accepted'])
    })
  })

  describe('consuming jobs', () => {
    async function enqueue(...names: string[]): Promise<void> {
      hooks.order = (o, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.enqueue(o.name.split('#')[0]!, { name: o.name })
      }
      await ds.transaction(async (m) => {
        for (const name of names) await m.save(order(name))
      })
      delete hooks.order
    }

    const stateOf = async (name: string): Promise<JobRow | undefined> => (await jobRows(ds)).find((r) => (r.data.payload as { name: string }).name === name)

    it('runs each job with its record, counts attempts, retries a failing one and fails it for good after retryLimit', async () => {
      const calls: [string, number][] = []
      const errors: unknown[] = []
      await enqueue('ok#1', 'flaky#1', 'broken#1')
      const consumer = await jobs.consume(
        ds,
        async (record: JobRecord, { attempt }: JobDelivery) => {
          calls.push([(record.payload as { name: string }).name, attempt])
          if (record.name === 'flaky' && attempt < 2) throw new Error('flaky the first time')
          if (record.name === 'broken') throw new Error(`broken for good: ${record.key}`)
        },
        { concurrency: 2, onError: (e) => errors.push(e) },
      )
      try {
        await waitFor('the broken job to fail for good', async () => (await stateOf('broken#1'))?.state === 'failed')
        await waitFor('the other jobs to complete', async () => (await jobRows(ds)).filter((r) => r.state === 'completed').length === 2)
      } finally {
        await consumer.stop(5000)
      }
      expect(calls.filter(([n]) => n === 'ok#1')).toEqual([['ok#1', 1]])
      expect(calls.filter(([n]) => n === 'flaky#1')).toEqual([['flaky#1', 1], ['flaky#1', 2]])
      expect(calls.filter(([n]) => n === 'broken#1')).toEqual([['broken#1', 1], ['broken#1', 2], ['broken#1', 3]])
      const broken = (await stateOf('broken#1'))!
      expect(broken.output?.message).toBe(`broken for good: ${broken.data.key}`)
      expect(errors).toEqual([])
      expect(await jobs.counts(ds)).toEqual([{ name: 'broken', pending: 0, active: 0, failed: 1 }])
      expect(await jobs.failed(ds)).toEqual([{ id: broken.id, name: 'broken', key: broken.data.key, attempts: 3, error: `broken for good: ${broken.data.key}` }])
      expect(await jobs.failed(ds, 'flaky')).toEqual([])
    })

    it('retry puts a failed job back (it runs again), discard deletes it; both refuse jobs that are not failed', async () => {
      const calls: number[] = []
      let fixed = false
      await enqueue('broken#2', 'waiting#2')
      const runner = async (record: JobRecord, { attempt }: JobDelivery): Promise<void> => {
        if (record.name !== 'broken') throw new Error('not for this test')
        calls.push(attempt)
        if (!fixed) throw new Error('still broken')
      }
      // Only the broken job is run: the waiting one is taken out of the queue first.
      const waiting = (await stateOf('waiting#2'))!
      await ds.query(`UPDATE pgboss.job SET start_after = now() + interval '1 hour' WHERE id = $1`, [waiting.id])
      const consumer = await jobs.consume(ds, runner, { concurrency: 1, onError: () => undefined })
      try {
        await waitFor('the job to fail for good', async () => (await stateOf('broken#2'))?.state === 'failed')
        const { id } = (await jobs.failed(ds, 'broken'))[0]!
        expect(await jobs.retry(ds, waiting.id)).toBe(false)
        expect(await jobs.discard(ds, waiting.id)).toBe(false)
        expect(await jobs.retry(ds, 'not-a-uuid')).toBe(false)
        expect(await jobs.discard(ds, '00000000-0000-0000-0000-000000000000')).toBe(false)
        expect(await jobs.retry(ds, id)).toBe(true)
        await waitFor('the retried job to fail again', async () => calls.length === 4 && (await stateOf('broken#2'))?.state === 'failed')
        expect(calls).toEqual([1, 2, 3, 4])
        expect((await jobs.failed(ds))[0]).toMatchObject({ id, attempts: 4, error: 'still broken' })
        expect(await jobs.discard(ds, id)).toBe(true)
        expect(await jobs.discard(ds, id)).toBe(false)
        expect(await stateOf('broken#2')).toBeUndefined()
        expect(await jobs.counts(ds)).toEqual([{ name: 'waiting', pending: 1, active: 0, failed: 0 }])
      } finally {
        await consumer.stop(5000)
      }
    })

    it('runs at most `concurrency` jobs at once, and stop waits for the running ones', async () => {
      await enqueue('slow#1', 'slow#2', 'slow#3', 'slow#4', 'slow#5')
      let running = 0
      let most = 0
      const done: string[] = []
      const consumer = await jobs.consume(
        ds,
        async (record) => {
          running++
          most = Math.max(most, running)
          await new Promise((resolve) => setTimeout(resolve, 300))
          running--
          done.push((record.payload as { name: string }).name)
        },
        { concurrency: 2, onError: () => undefined },
      )
      await waitFor('two jobs to run', () => running === 2)
      const before = done.length
      await consumer.stop(10000)
      // The jobs running at stop finished and were completed; no new one was started.
      expect(done.length - before).toBe(2)
      expect(most).toBe(2)
      const rows = await jobRows(ds)
      expect(rows.filter((r) => r.state === 'completed')).toHaveLength(done.length)
      expect(rows.filter((r) => r.state === 'created')).toHaveLength(5 - done.length)
    })

    it('a job still running when the stop timeout ends is failed, to run again', async () => {
      await enqueue('hangs#1')
      let release!: () => void
      const consumer = await jobs.consume(ds, () => new Promise<void>((resolve) => (release = resolve)), { concurrency: 1, onError: () => undefined })
      await waitFor('the job to start', async () => (await stateOf('hangs#1'))?.state === 'active')
      await consumer.stop(200)
      release()
      const row = (await stateOf('hangs#1'))!
      expect(row.state).toBe('retry')
      expect(row.output?.message).toBe('the worker stopped after waiting 200 ms for the job to finish')
    })

    it('a job committed in this process is fetched at once, not after the polling interval', async () => {
      const slow = pgBossJobs({ queue: 'pj-wake', pollingIntervalSeconds: 60 })
      const ds2 = await openDataSource([Order], { jobs: slow })
      const ran: number[] = []
      const consumer = await slow.consume(ds2, async () => void ran.push(Date.now()), { concurrency: 1, onError: () => undefined })
      try {
        // The consumer's first fetch found nothing: it now waits out its 60 seconds.
        await new Promise((resolve) => setTimeout(resolve, 300))
        hooks.order = enqueueOnPostInsert
        const committed = Date.now()
        await ds2.getRepository(Order).save(order('now'))
        await waitFor('the job to run', () => ran.length === 1, 5000)
        expect(ran[0]! - committed).toBeLessThan(5000)
      } finally {
        await consumer.stop(1000)
        await slow.close(ds2)
        await ds2.destroy()
      }
    })

    it('startWorker runs an enqueued job in its action, and a durable binding with ctx.job', async () => {
      const seen: unknown[] = []
      const events = new ActionEvents()
      events.bind('orders:submit', Post, (ctx) => void seen.push(['durable', ctx.result, ctx.job.attempt, ctx.user]), { mode: 'durable' })
      hooks.order = enqueueOnPostInsert
      await runAction({ name: 'orders:submit', user: { id: 3 } }, async (m) => (await m!.save(order('w'))).name, { events, dataSource: ds, transaction: true })
      const worker = await startWorker(ds, {
        events,
        handlers: { 'order:placed': (payload, ctx) => void seen.push(['enqueued', payload, ctx.job.attempt, ctx.user, ctx.action]) },
        signals: [],
        logger: { warn: () => undefined, error: () => undefined },
      })
      try {
        await waitFor('both jobs to complete', async () => (await jobRows(ds)).filter((r) => r.state === 'completed').length === 2)
      } finally {
        await worker.stop()
      }
      expect(seen).toContainEqual(['durable', 'w', 1, { id: 3 }])
      expect(seen).toContainEqual(['enqueued', { id: expect.any(Number), name: 'w' }, 1, { id: 3 }, 'orders:submit'])
    })
  })

  describe('configuration', () => {
    it('refuses a DataSource that is not PostgreSQL, naming its type and bullMqJobs', async () => {
      const sqlite = { options: { type: 'sqlite' } } as unknown as DataSource
      const message = /this DataSource is of type 'sqlite'; use bullMqJobs/
      await expect(jobs.counts(sqlite)).rejects.toThrow(HardError)
      await expect(jobs.counts(sqlite)).rejects.toThrow(message)
      await expect(jobs.consume(sqlite, async () => undefined, { concurrency: 1, onError: () => undefined })).rejects.toThrow(message)
      const record = { id: '1', name: 'mail:x', kind: 'enqueue', key: 'k', payload: null, action: undefined } as const
      await expect(jobs.write({ connection: sqlite } as unknown as QueryRunner, [record])).rejects.toThrow(/jobs 'mail:x': .*type 'sqlite'/)
    })

    it('has the documented defaults and refuses bad options', () => {
      expect(pgBossJobs()).toMatchObject({ engine: 'pg-boss', entities: [], maxPayloadBytes: 65536 })
      expect(() => pgBossJobs({ schema: 'Pg-Boss' })).toThrow(/schema must be a lower-case PostgreSQL name.*"Pg-Boss"/)
      expect(() => pgBossJobs({ queue: 'a:b' })).toThrow(/queue must be 1 to 100 letters/)
      expect(() => pgBossJobs({ retryLimit: -1 })).toThrow('pgBossJobs(): retryLimit must be a whole number from 0 to 1000, got -1')
      expect(() => pgBossJobs({ retryDelay: 1.5 })).toThrow('pgBossJobs(): retryDelay must be a whole number of seconds, 0 or more, got 1.5')
      expect(() => pgBossJobs({ retryBackoff: 'yes' as never })).toThrow(/retryBackoff must be true or false/)
      expect(() => pgBossJobs({ maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes must be a whole number of at least 1/)
      expect(() => pgBossJobs({ pollingIntervalSeconds: 0.1 })).toThrow(/pollingIntervalSeconds must be a number of at least 0.5/)
      expect(() => pgBossJobs({ preparedStatements: 1 as never })).toThrow('pgBossJobs(): preparedStatements must be true or false, got 1')
      // pg-boss refuses expirations of a day or more.
      expect(() => pgBossJobs({ lostJobSeconds: 86_400 })).toThrow(/lostJobSeconds must be a whole number .*86399.*got 86400/)
      expect(() => pgBossJobs({ lostJobSeconds: 0 })).toThrow(/lostJobSeconds must be a whole number/)
    })
  })
})

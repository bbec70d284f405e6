/**
 * Durable jobs of issue 19, the engine-independent part, on the database
 * chosen by DB: ctx.enqueue and { mode: 'durable' } bindings write their jobs
 * through the transaction (a rollback at any depth, or of the savepoint they
 * were made in, leaves none), bad payloads are refused with nothing written,
 * and a worker runs each job inside runAction with the job's user. The jobs
 * go to a table through the query runner (tests/support/table-jobs.ts), as
 * the real engines' rows do; the pg-boss and BullMQ tests cover the engines.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from 'typeorm'
import {
  ActionEvents,
  AuditEntry,
  Audited,
  EventActionTiming,
  EventActionType,
  HardError,
  JobPayloadError,
  runAction,
  SoftError,
  startWorker,
  withEventActions,
  type AttributeGroup,
  type DurablePostActionContext,
  type EventActionContext,
  type JobContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { databaseOptions } from '../../ormconfig'
import { storedJobs, tableJobs, type TableJobs } from '../support/table-jobs'
import { jobRunner } from '../../src/workers/start-worker'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

type Hook = (entity: Ticket, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<Ticket>) => unknown
const hooks: { ticket?: Hook } = {}

@Audited()
@Entity('jc_ticket')
class Ticket {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @Column({ type: 'int', default: 0 }) handled!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Ticket>) {
    return hooks.ticket?.(this, timing, type, ctx)
  }
}

function ticket(title: string): Ticket {
  return Object.assign(new Ticket(), { title })
}

const enqueueOnPostInsert: Hook = (t, timing, type, ctx) => {
  if (timing === Post && type === Insert) ctx.enqueue('ticket:created', { id: t.id, title: t.title })
}

describe(`durable jobs: transaction semantics and the worker (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let jobs: TableJobs

  beforeAll(async () => {
    jobs = tableJobs(2000)
    ds = await openDataSource([Ticket], { jobs })
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    delete hooks.ticket
    jobs.committedRecords.length = 0
    for (const table of ['tj_job', 'jc_ticket', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
  })

  describe('ctx.enqueue', () => {
    it('a committed save leaves one job with the payload, a derived key and the action that made it', async () => {
      hooks.ticket = enqueueOnPostInsert
      const saved = await runAction({ name: 'tickets:open', user: { id: 7 }, requestId: 'r-1' }, () => ds.getRepository(Ticket).save(ticket('printer')))
      const stored = await storedJobs(ds)
      expect(stored).toHaveLength(1)
      const [job] = stored
      expect(job).toMatchObject({ name: 'ticket:created', kind: 'enqueue', payload: { id: saved.id, title: 'printer' } })
      expect(job!.action).toEqual({ name: 'tickets:open', user: { id: 7 }, requestId: 'r-1' })
      // <transaction id>:<position>: the transaction id is the audit entry's.
      const [audit] = await ds.getRepository(AuditEntry).find()
      expect(job!.key).toBe(`${audit!.transactionId}:0`)
      expect(jobs.committedRecords.map((r) => r.id)).toEqual([job!.id])
    })

    it('keeps a given key, numbers derived ones by position, and stores a copy of the payload as it was', async () => {
      hooks.ticket = (t, timing, type, ctx) => {
        if (timing !== Post || type !== Insert) return
        const payload = { title: t.title, at: new Date('2026-01-02T03:04:05Z') }
        ctx.enqueue('a', payload)
        ctx.enqueue('b', payload, { key: `ticket:${t.title}` })
        payload.title = 'changed after enqueue'
      }
      await ds.transaction((m) => m.save([ticket('x'), ticket('y')]))
      const stored = await storedJobs(ds)
      expect(stored).toHaveLength(4)
      const derived = stored.filter((j) => j.name === 'a').map((j) => j.key).sort()
      const tx = derived[0]!.split(':')[0]
      expect(derived).toEqual([`${tx}:0`, `${tx}:2`])
      expect(stored.filter((j) => j.name === 'b').map((j) => j.key).sort()).toEqual(['ticket:x', 'ticket:y'])
      expect(stored.map((j) => j.payload)).toContainEqual({ title: 'x', at: '2026-01-02T03:04:05.000Z' })
    })

    it('a rollback leaves no job: a later handler refuses, and the whole transaction is gone', async () => {
      hooks.ticket = (t, timing, type, ctx) => {
        enqueueOnPostInsert(t, timing, type, ctx)
        if (timing === Post && type === Insert && t.title === 'bad') throw new SoftError('no')
      }
      await expect(ds.transaction((m) => m.save([ticket('good'), ticket('bad')]))).rejects.toThrow('no')
      expect(await countRows(ds, 'tj_job')).toBe(0)
      expect(await countRows(ds, 'jc_ticket')).toBe(0)
      expect(jobs.committedRecords).toHaveLength(0)
    })

    it('a savepoint that rolls back drops the jobs made inside it and keeps the outer ones', async () => {
      hooks.ticket = enqueueOnPostInsert
      await ds.transaction(async (m) => {
        await m.save(ticket('outer'))
        await expect(
          m.transaction(async (inner) => {
            await inner.save(ticket('inner'))
            throw new Error('inner fails')
          }),
        ).rejects.toThrow('inner fails')
        await m.save(ticket('after'))
      })
      const titles = (await storedJobs(ds)).map((j) => (j.payload as { title: string }).title).sort()
      expect(titles).toEqual(['after', 'outer'])
    })

    it('a savepoint that commits, inside a transaction that rolls back, leaves no job', async () => {
      hooks.ticket = enqueueOnPostInsert
      await expect(
        ds.transaction(async (m) => {
          await m.transaction((inner) => inner.save(ticket('inner')))
          throw new Error('outer fails')
        }),
      ).rejects.toThrow('outer fails')
      expect(await countRows(ds, 'tj_job')).toBe(0)
    })

    it('outside a transaction ({ transaction: false }) the job is written after the write, and not when the write fails', async () => {
      hooks.ticket = (t, timing, type, ctx) => {
        if (timing === Pre && type === Insert) ctx.enqueue('ticket:pre', { title: t.title })
      }
      await ds.getRepository(Ticket).save(ticket('plain'), { transaction: false })
      expect((await storedJobs(ds)).map((j) => j.payload)).toEqual([{ title: 'plain' }])
      const tooLong = ticket('x'.repeat(300))
      // The INSERT fails on the servers (varchar(255)); SQLite stores it, so there a Post handler refuses instead.
      hooks.ticket = (t, timing, type, ctx) => {
        if (timing === Pre && type === Insert) ctx.enqueue('ticket:pre', { title: t.title })
        if (timing === Post && t.title.length > 255) throw new SoftError('too long')
      }
      await expect(ds.getRepository(Ticket).save(tooLong, { transaction: false })).rejects.toThrow()
      expect(await countRows(ds, 'tj_job')).toBe(1)
    })

    it('in a Load handler: with the reading transaction; outside any transaction, refused naming the event', async () => {
      const saved = await ds.getRepository(Ticket).save(ticket('seen'))
      hooks.ticket = (t, timing, type, ctx) => {
        if (timing === Post && type === EventActionType.Load) ctx.enqueue('ticket:seen', { id: t.id })
      }
      await ds.transaction((m) => m.findOneByOrFail(Ticket, { id: saved.id }))
      expect((await storedJobs(ds)).map((j) => j.payload)).toEqual([{ id: saved.id }])
      const error = await ds.getRepository(Ticket).findOneBy({ id: saved.id }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(HardError)
      expect((error as Error).message).toMatch(/ctx\.enqueue\('ticket:seen'\) in Ticket's Post Load handler runs outside any transaction/)
      expect(await countRows(ds, 'tj_job')).toBe(1)
    })

    it.each([
      ['a bigint', { n: 1n }, '$.n', /a bigint is not JSON/],
      ['a function', { f: () => 1 }, '$.f', /a function is not JSON/],
      ['a Map', { m: new Map() }, '$.m', /a Map is not JSON/],
      ['NaN', { list: [1, NaN] }, '$.list[1]', /NaN is not a JSON number/],
      ['a NUL character', { note: 'a\u0000b' }, '$.note', /NUL character/],
      ['a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o })(), '$.self', /a cycle/],
      ['an oversized payload', { text: 'x'.repeat(3000) }, undefined, /over the limit of 2000 \(maxPayloadBytes\)/],
    ])('%s is refused at enqueue with JobPayloadError naming entity, event and job; nothing is written', async (_what, payload, path, message) => {
      hooks.ticket = (_t, timing, type, ctx) => {
        if (timing === Pre && type === Insert) ctx.enqueue('ticket:bad', payload)
      }
      const error = await ds.getRepository(Ticket).save(ticket('t')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(JobPayloadError)
      expect(error).toMatchObject({ name: 'JobPayloadError', entityName: 'Ticket', type: Insert, timing: Pre, jobName: 'ticket:bad', path })
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).toContain("job 'ticket:bad' from Ticket's Pre Insert handler")
      expect(await countRows(ds, 'jc_ticket')).toBe(0)
      expect(await countRows(ds, 'tj_job')).toBe(0)
    })

    it.each([
      ['an empty name', '', undefined, /the job name must be a non-empty string/],
      ['a name with *', 'mail:*', undefined, /may not contain '\*'/],
      ['a key that is not a string', 'ok', 5, /the job key must be a non-empty string, got 5/],
    ])('%s is refused with a HardError', async (_what, name, key, message) => {
      hooks.ticket = (_t, timing, type, ctx) => {
        if (timing === Pre && type === Insert) ctx.enqueue(name, {}, { key: key as unknown as string })
      }
      const error = await ds.getRepository(Ticket).save(ticket('t')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(HardError)
      expect((error as Error).message).toMatch(message)
      expect(await countRows(ds, 'jc_ticket')).toBe(0)
    })
  })

  describe("{ mode: 'durable' } bindings", () => {
    it('a committed action leaves one job per durable binding, carrying the Post-action context as JSON', async () => {
      const events = new ActionEvents()
      events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
      events.bind('tickets:*', Post, () => undefined, { mode: 'durable', job: 'tickets:audit-mail' })
      events.bind('tickets:open', Post, () => undefined) // after-commit: no job
      const saved = await runAction({ name: 'tickets:open', user: { id: 'u1', role: 'agent' }, locale: 'fr', params: { title: 'a' } }, (m) => m!.save(ticket('a')), {
        events,
        dataSource: ds,
        transaction: true,
      })
      const stored = await storedJobs(ds)
      expect(stored.map((j) => j.name).sort()).toEqual(['tickets:audit-mail', 'tickets:open'])
      for (const job of stored) {
        expect(job.kind).toBe('durable')
        expect(job.action).toEqual({ name: 'tickets:open', user: { id: 'u1', role: 'agent' }, locale: 'fr' })
        expect(job.payload).toMatchObject({
          action: 'tickets:open',
          user: { id: 'u1', role: 'agent' },
          locale: 'fr',
          params: { title: 'a' },
          result: { id: saved.id, title: 'a', handled: 0 },
          changes: [{ entityName: 'Ticket', id: saved.id, operation: 'insert' }],
        })
      }
    })

    it('without a transaction of its own, the action writes its jobs in a short transaction after fn', async () => {
      const events = new ActionEvents()
      events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
      await runAction({ name: 'tickets:open' }, () => ds.getRepository(Ticket).save(ticket('b')), { events, dataSource: ds })
      expect((await storedJobs(ds)).map((j) => j.name)).toEqual(['tickets:open'])
    })

    it('an action that fails, or whose sync Post-action handler fails, leaves no job', async () => {
      const events = new ActionEvents()
      events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
      const run = (fn: () => unknown) => runAction({ name: 'tickets:open' }, async (m) => (await m!.save(ticket('c')), fn()), { events, dataSource: ds, transaction: true })
      await expect(run(() => { throw new Error('fn fails') })).rejects.toThrow('fn fails')
      events.bind('tickets:open', Post, () => { throw new SoftError('sync says no') }, { mode: 'sync' })
      await expect(run(() => 1)).rejects.toThrow('sync says no')
      expect(await countRows(ds, 'tj_job')).toBe(0)
      expect(await countRows(ds, 'jc_ticket')).toBe(0)
    })

    it('a result that is not JSON rolls the action back with JobPayloadError naming the action and job', async () => {
      const events = new ActionEvents()
      events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
      const error = await runAction({ name: 'tickets:open' }, async (m) => (await m!.save(ticket('d')), { big: 10n }), { events, dataSource: ds, transaction: true }).catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'JobPayloadError', jobName: 'tickets:open', path: '$.result.big' })
      expect((error as Error).message).toContain("from action 'tickets:open'")
      expect(await countRows(ds, 'jc_ticket')).toBe(0)
    })

    it('is refused before fn runs without a dataSource, and bind refuses a second durable binding of one job name', async () => {
      const events = new ActionEvents()
      events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
      let ran = false
      expect(() => runAction({ name: 'tickets:open' }, () => void (ran = true), { events })).toThrow(/durable binding needs the dataSource option/)
      expect(ran).toBe(false)
      expect(() => events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })).toThrow(/job name 'tickets:open' exists already/)
      expect(() => events.bind('tickets:open', Post, () => undefined, { job: 'x' } as never)).toThrow(/the job option is for mode 'durable'/)
      expect(() => events.bind('tickets:open', Pre as never, (() => undefined) as never, { mode: 'durable' })).toThrow(/mode is for Post-action handlers/)
    })
  })

  describe('the worker', () => {
    it("runs enqueued jobs inside the job's action: the handler's writes are audited as the job's user", async () => {
      hooks.ticket = enqueueOnPostInsert
      const saved = await runAction({ name: 'tickets:open', user: { id: 42 } }, () => ds.getRepository(Ticket).save(ticket('w')))
      hooks.ticket = undefined
      const seen: JobContext[] = []
      const worker = await startWorker(ds, {
        signals: [],
        handlers: {
          'ticket:created': async (payload, ctx) => {
            seen.push(ctx)
            await ctx.dataSource.getRepository(Ticket).update((payload as { id: number }).id, { handled: ctx.job.attempt })
          },
        },
      })
      await waitFor(async () => (await storedJobs(ds)).every((j) => j.state === 'done'))
      await worker.stop()
      await worker.stopped
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({ name: 'ticket:created', action: 'tickets:open', user: { id: 42 }, job: { attempt: 1 } })
      expect(seen[0]!.job.key).toMatch(/:0$/)
      expect((await ds.getRepository(Ticket).findOneByOrFail({ id: saved.id })).handled).toBe(1)
      const update = (await ds.getRepository(AuditEntry).find()).find((a) => a.operation === 'update')
      expect(update).toMatchObject({ userId: '42', actionName: 'tickets:open' })
    })

    it('runs a durable binding with the stored context plus ctx.job; a job without a handler fails', async () => {
      const events = new ActionEvents()
      const seen: DurablePostActionContext[] = []
      events.bind('tickets:open', Post, (ctx) => void seen.push(ctx), { mode: 'durable' })
      await runAction({ name: 'tickets:open', user: { id: 3 }, params: { p: 1 } }, (m) => m!.save(ticket('e')), { events, dataSource: ds, transaction: true })
      hooks.ticket = enqueueOnPostInsert
      await ds.getRepository(Ticket).save(ticket('nobody handles this'))
      const warnings: string[] = []
      const worker = await startWorker(ds, { events, signals: [], logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) } })
      await waitFor(async () => (await storedJobs(ds)).every((j) => j.state !== 'pending'))
      await worker.stop()
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({ action: 'tickets:open', user: { id: 3 }, params: { p: 1 }, result: { title: 'e' }, job: { attempt: 1 } })
      expect(seen[0]!.changes).toEqual([expect.objectContaining({ entityName: 'Ticket', operation: 'insert' })])
      const states = Object.fromEntries((await storedJobs(ds)).map((j) => [j.name, j.state]))
      expect(states).toEqual({ 'tickets:open': 'done', 'ticket:created': 'failed' })
      expect(warnings).toEqual([expect.stringMatching(/job 'ticket:created' .*failed on attempt 1: worker: no handler for job 'ticket:created'/)])
    })

    it('refuses bad options and a DataSource without a jobs backend', async () => {
      await expect(startWorker(ds, { signals: [] })).rejects.toThrow(/needs handlers \(by job name\) or events/)
      await expect(startWorker(ds, { handlers: { a: 'x' as never } })).rejects.toThrow(/the handler of job 'a' must be a function/)
      await expect(startWorker(ds, { handlers: { a: () => 1 }, concurrency: 0 })).rejects.toThrow(/concurrency must be a whole number/)
      await expect(startWorker(ds, { handlers: { a: () => 1 }, shutdownTimeoutMs: -1 })).rejects.toThrow('startWorker: shutdownTimeoutMs must be a number of milliseconds, got -1')
      const closed = new DataSource({ ...databaseOptions(DB), entities: [Ticket] } as DataSourceOptions)
      await expect(startWorker(closed, { handlers: { a: () => 1 } })).rejects.toThrow('startWorker needs an initialized DataSource (await dataSource.initialize())')
      expect(() => withEventActions({ type: 'sqlite', database: ':memory:' }, { jobs: {} as never })).toThrow(
        /^EventActionsConfig\.jobs must be a backend made by pgBossJobs\(\) or bullMqJobs\(\), got \{\}$/,
      )
      // On the servers, the same database: its schema is the suite's, neither dropped nor synchronized.
      const plain = await openDataSource([Ticket], {}, { name: 'jc-no-jobs', dropSchema: false, synchronize: DB === 'sqlite' } as object)
      try {
        await expect(startWorker(plain, { handlers: { a: () => 1 } })).rejects.toThrow(/needs a DataSource with a jobs backend/)
        hooks.ticket = enqueueOnPostInsert
        await expect(plain.getRepository(Ticket).save(ticket('z'))).rejects.toThrow(/no jobs backend is configured/)
        const events = new ActionEvents()
        events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
        expect(() => runAction({ name: 'tickets:open' }, () => 1, { events, dataSource: plain })).toThrow(
          "runAction 'tickets:open': a durable binding needs a jobs backend on its DataSource (withEventActions(options, { jobs: pgBossJobs() | bullMqJobs(...) }))",
        )
      } finally {
        await plain.destroy()
      }
    })

    // PostgreSQL: pg-pool hands a new connection to TypeORM before TypeORM listens for its errors; a server
    // shutting down in that gap would end the worker (docs/known-limits.md). The worker listens from the start.
    ;(DB === 'postgres' ? it : it.skip)('keeps a new pooled connection that fails before TypeORM takes it from ending the process, and reports it', async () => {
      interface Client {
        emit(event: 'error', error: Error): boolean
        listenerCount(event: 'error'): number
        release(destroy?: boolean): void
      }
      const pool = (ds.driver as unknown as { master: { idleCount: number; listenerCount(e: 'connect'): number; connect(): Promise<Client> } }).master
      const listening = pool.listenerCount('connect')
      const errors: string[] = []
      const worker = await startWorker(ds, { handlers: { a: () => 1 }, signals: [], logger: { warn: () => undefined, error: (m) => errors.push(m) } })
      const held: Client[] = []
      try {
        while (pool.idleCount > 0) held.push(await pool.connect())
        // A new connection, as pg-pool hands it over: pg-pool's own idle listener is gone, TypeORM's not yet there.
        const fresh = await pool.connect()
        held.push(fresh)
        expect(fresh.listenerCount('error')).toBe(1)
        expect(() => fresh.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow()
      } finally {
        for (const client of held) client.release(true)
        await worker.stop()
      }
      expect(errors).toEqual([
        "typeorm-event-actions worker: a PostgreSQL connection of the worker's DataSource failed before TypeORM took it: terminating connection due to administrator command",
      ])
      expect(pool.listenerCount('connect')).toBe(listening)
    })

    it("fails a durable job whose binding the worker's events lack, naming the job", async () => {
      const run = jobRunner(ds, { events: new ActionEvents() })
      const record = { id: 'j1', name: 'tickets:gone', kind: 'durable' as const, key: 'k', payload: {}, action: undefined }
      await expect(run(record, { attempt: 1 })).rejects.toThrow(
        "worker: no durable binding for job 'tickets:gone' in the worker's events (bind it with { mode: 'durable' } in the worker too)",
      )
    })

        it('stops on a signal it listens to (SIGTERM and SIGINT by default; SIGUSR2 here), and stops listening', async () => {
      const worker = await startWorker(ds, { handlers: { a: () => 1 }, signals: ['SIGUSR2'] })
      process.emit('SIGUSR2')
      await worker.stopped
      expect(process.listenerCount('SIGUSR2')).toBe(0)
    })
  })
})

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

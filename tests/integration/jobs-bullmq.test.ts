/**
 * The BullMQ engine of issue 19 on the database chosen by DB, with the Redis
 * at 127.0.0.1:6379: jobs go to the outbox table in the transaction that made
 * them (a rollback, or the rollback of their savepoint, leaves none), the
 * relay right after COMMIT hands them to BullMQ as `ob_<id>` and marks them
 * sent, a worker's sweep sends rows an app left behind, racing relays send
 * each row once, and a worker runs jobs with retries, failed jobs are listed,
 * retried and discarded. Every run uses a BullMQ prefix of its own.
 */
import { randomUUID } from 'node:crypto'
import { Queue, type Job } from 'bullmq'
import IORedis from 'ioredis'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
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
  type JobContext,
  type JobRecord,
} from '../../src'
import { bullMqJobs } from '../../src/jobs/bullmq-jobs'
import type { JobConsumer } from '../../src/jobs/job-backend'
import { resolveBullMqOptions } from '../../src/jobs/bullmq-options'
import { CreateJobOutboxTable, CreateJobOutboxTable1767225600000 } from '../../src/jobs/create-job-outbox-table'
import { JobOutboxEntry } from '../../src/jobs/job-outbox-entry'
import { relayPending } from '../../src/jobs/outbox-relay'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert } = EventActionType

const PREFIX = `tea-test-${DB}-${process.pid}-${Date.now().toString(36)}`
const QUEUE = 'event-actions'
// Named, so that the reconnect test can drop exactly this run's connections.
const connection = { host: '127.0.0.1', port: 6379, connectionName: PREFIX }
const OUTBOX = 'event_action_job_outbox'

type Hook = (entity: Ticket, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<Ticket>) => unknown
const hooks: { ticket?: Hook } = {}

@Entity('jb_ticket')
class Ticket {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

/** An outbox row as if an app had committed it and died before the relay: unsent. */
function orphanRow(name: string, payload: Record<string, unknown>) {
  return { id: randomUUID(), name, kind: 'enqueue', key: `${name}:${randomUUID()}`, payload, action: null, sentAt: null }
}

describe(`bullMqJobs (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let jobs: JobBackend
  /** A view on the queue of this run, to look at what BullMQ holds. */
  let queue: Queue
  let admin: IORedis
  const relayErrors: unknown[] = []
  const consumers: JobConsumer[] = []

  const outbox = () => ds.getRepository(JobOutboxEntry).find({ order: { createdAt: 'ASC' } })
  const unsent = async () => (await outbox()).filter((r) => r.sentAt === null).length
  const bullJobs = async (): Promise<Job[]> => queue.getJobs(['wait', 'paused', 'delayed', 'prioritized', 'active', 'completed', 'failed'], 0, -1, true)

  async function consume(run: (record: JobRecord, attempt: number) => Promise<void> | void, errors: unknown[] = []): Promise<JobConsumer> {
    const consumer = await jobs.consume(ds, async (record, { attempt }) => run(record, attempt), { concurrency: 4, onError: (e) => errors.push(e) })
    consumers.push(consumer)
    return consumer
  }

  beforeAll(async () => {
    jobs = bullMqJobs({
      connection,
      prefix: PREFIX,
      retryLimit: 2,
      retryDelay: 0.05,
      retryBackoff: false,
      relayIntervalMs: 100,
      maxPayloadBytes: 2000,
      onRelayError: (e) => relayErrors.push(e),
    })
    ds = await openDataSource([Ticket], { jobs })
    queue = new Queue(QUEUE, { connection, prefix: PREFIX })
    admin = new IORedis({ host: '127.0.0.1', port: 6379 })
  })
  afterEach(async () => {
    for (const consumer of consumers.splice(0)) await consumer.stop(5000)
    // Lets the hand-overs after commit finish before the next test clears the queue.
    await jobs.close(ds)
    delete hooks.ticket
    relayErrors.length = 0
    await queue.obliterate({ force: true })
    for (const table of [OUTBOX, 'jb_ticket']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
  })
  afterAll(async () => {
    await jobs?.close(ds)
    await queue?.obliterate({ force: true })
    await queue?.close()
    await admin?.quit()
    await ds?.destroy()
  })

  it('adds the outbox entity, and the synchronized table matches it: a schema sync would change nothing', async () => {
    expect(jobs).toMatchObject({ engine: 'bullmq', entities: [JobOutboxEntry], maxPayloadBytes: 2000 })
    expect(ds.hasMetadata(JobOutboxEntry)).toBe(true)
    const pending = await ds.driver.createSchemaBuilder().log()
    expect(pending.upQueries.map((q) => q.query).filter((q) => q.includes(OUTBOX))).toEqual([])
  })

  it('a committed save whose handler enqueues leaves one outbox row, sent at once: one BullMQ job with the payload, action and user', async () => {
    hooks.ticket = enqueueOnPostInsert
    const saved = await runAction({ name: 'tickets:open', user: { id: 7, role: 'agent' }, requestId: 'r-1' }, () =>
      ds.getRepository(Ticket).save(ticket('printer')),
    )
    const rows = await outbox()
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    const action = { name: 'tickets:open', user: { id: 7, role: 'agent' }, requestId: 'r-1' }
    expect(row).toMatchObject({ name: 'ticket:created', kind: 'enqueue', payload: { id: saved.id, title: 'printer' }, action })
    // No worker runs: the hand-over right after COMMIT sent it.
    await waitFor(async () => (await unsent()) === 0, 'the relay after commit')
    const [sent] = await outbox()
    expect(sent!.sentAt!.getTime()).toBeGreaterThanOrEqual(sent!.createdAt.getTime() - 1000)
    const found = await bullJobs()
    expect(found).toHaveLength(1)
    const job = found[0]!
    expect(job.id).toBe(`ob_${row.id}`)
    expect(job.name).toBe('ticket:created')
    expect(job.data).toEqual({ id: row.id, name: 'ticket:created', kind: 'enqueue', key: row.key, payload: { id: saved.id, title: 'printer' }, action })
    // Kept well past any relay that could add it again: a day once done, a week once failed.
    expect(job.opts).toMatchObject({ attempts: 3, backoff: { type: 'fixed', delay: 50 }, removeOnComplete: { age: 86400 }, removeOnFail: { age: 604800 } })
    expect(relayErrors).toEqual([])
  })

  it('commits that come while a hand-over runs are sent by the next one: 20 concurrent saves, 20 jobs, no worker', async () => {
    hooks.ticket = enqueueOnPostInsert
    const save = (i: number) => ds.getRepository(Ticket).save(ticket(`c${i}`))
    // SQLite's one connection takes one transaction at a time (docs/known-limits.md): there the saves
    // follow each other, which is still faster than the hand-overs.
    if (DB === 'sqlite') for (let i = 0; i < 20; i++) await save(i)
    else await Promise.all(Array.from({ length: 20 }, (_, i) => save(i)))
    await waitFor(async () => (await unsent()) === 0, 'the relays after commit')
    expect(await queue.getJobCountByTypes('wait')).toBe(20)
    expect(relayErrors).toEqual([])
  })

  it('a rollback leaves no outbox row and no BullMQ job', async () => {
    hooks.ticket = (t, timing, type, ctx) => {
      enqueueOnPostInsert(t, timing, type, ctx)
      if (timing === Post && type === Insert && t.title === 'bad') throw new SoftError('no')
    }
    await expect(ds.transaction((m) => m.save([ticket('good'), ticket('bad')]))).rejects.toThrow('no')
    await sleep(200)
    expect(await countRows(ds, OUTBOX)).toBe(0)
    expect(await countRows(ds, 'jb_ticket')).toBe(0)
    expect(await bullJobs()).toEqual([])
  })

  it('a savepoint that rolls back drops only the jobs made inside it', async () => {
    hooks.ticket = enqueueOnPostInsert
    await ds.transaction(async (m) => {
      await m.save(ticket('outer'))
      await expect(
        m.transaction(async (inner) => {
          await inner.save(ticket('inner'))
          throw new Error('inner fails')
        }),
      ).rejects.toThrow('inner fails')
    })
    await waitFor(async () => (await unsent()) === 0, 'the relay after commit')
    expect((await outbox()).map((r) => (r.payload as { title: string }).title)).toEqual(['outer'])
    expect((await bullJobs()).map((j) => (j.data as JobRecord).payload)).toEqual([expect.objectContaining({ title: 'outer' })])
  })

  it.each([true, false])('runAction with transaction: %s leaves one job per durable binding', async (transaction) => {
    const events = new ActionEvents()
    events.bind('tickets:open', Post, () => undefined, { mode: 'durable' })
    events.bind('tickets:*', Post, () => undefined, { mode: 'durable', job: 'tickets:notify' })
    events.bind('tickets:open', Post, () => undefined) // after-commit: no job
    await runAction({ name: 'tickets:open', user: { id: 'u1' }, params: { title: 'a' } }, (m) => (m ?? ds.manager).save(ticket('a')), {
      events,
      dataSource: ds,
      transaction,
    })
    await waitFor(async () => (await countRows(ds, OUTBOX)) === 2 && (await unsent()) === 0, 'the relay after commit')
    const found = await bullJobs()
    expect(found.map((j) => j.name).sort()).toEqual(['tickets:notify', 'tickets:open'])
    for (const job of found) {
      expect(job.data).toMatchObject({ kind: 'durable', action: { name: 'tickets:open', user: { id: 'u1' } }, payload: { params: { title: 'a' }, result: { title: 'a' } } })
    }
  })

  it('payloads of every JSON shape reach BullMQ as they were enqueued (scalars, strings that look like numbers, precise floats)', async () => {
    const payloads: unknown[] = ['hello', '42', 42, 0.30000000000000004, -1.5e300, true, null, [1, 'a', { b: null }], { nested: { list: [] } }, 'ünïcødé ✓']
    hooks.ticket = (_t, timing, type, ctx) => {
      if (timing === Post && type === Insert) payloads.forEach((payload, i) => ctx.enqueue('shape', payload, { key: `shape:${i}` }))
    }
    await ds.getRepository(Ticket).save(ticket('shapes'))
    await waitFor(async () => (await unsent()) === 0, 'the relay after commit')
    const byKey = new Map((await bullJobs()).map((j) => [(j.data as JobRecord).key, (j.data as JobRecord).payload]))
    expect(payloads.map((_, i) => byKey.get(`shape:${i}`))).toEqual(payloads)
  })

  it('a transaction of 250 jobs is written and relayed in batches: 250 rows, 250 BullMQ jobs', async () => {
    hooks.ticket = enqueueOnPostInsert
    await ds.transaction((m) => m.save(Array.from({ length: 250 }, (_, i) => ticket(`t${i}`))))
    expect(await countRows(ds, OUTBOX)).toBe(250)
    await waitFor(async () => (await unsent()) === 0, 'the relay after commit')
    expect(await queue.getJobCountByTypes('wait')).toBe(250)
  })

  it.each([
    ['a bigint', { n: 1n }],
    ['a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o })()],
    ['an oversized payload', { text: 'x'.repeat(3000) }],
  ])('%s is refused with JobPayloadError, and nothing is written', async (_what, payload) => {
    hooks.ticket = (_t, timing, type, ctx) => {
      if (timing === Post && type === Insert) ctx.enqueue('ticket:bad', payload)
    }
    const error = await ds.getRepository(Ticket).save(ticket('t')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobPayloadError)
    expect((error as Error).message).toContain("job 'ticket:bad'")
    await sleep(100)
    expect(await countRows(ds, 'jb_ticket')).toBe(0)
    expect(await countRows(ds, OUTBOX)).toBe(0)
    expect(await bullJobs()).toEqual([])
  })

  it("a row left unsent (an app that died after COMMIT) is sent by a worker's sweep", async () => {
    const row = orphanRow('orphan', { n: 1 })
    await ds.getRepository(JobOutboxEntry).insert(row)
    const seen: [JobRecord, number][] = []
    await consume((record, attempt) => void seen.push([record, attempt]))
    await waitFor(() => seen.length === 1, 'the orphan to run')
    expect(seen[0]).toEqual([{ id: row.id, name: 'orphan', kind: 'enqueue', key: row.key, payload: { n: 1 } }, 1])
    // The worker may run the job before the sweep's UPDATE commits.
    await waitFor(async () => (await unsent()) === 0, 'the row to be marked sent')
  })

  it('two relays racing over the same 200 unsent rows send each row once', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => orphanRow('race', { i }))
    for (let i = 0; i < rows.length; i += 50) await ds.getRepository(JobOutboxEntry).insert(rows.slice(i, i + 50))
    const { relay } = resolveBullMqOptions({ connection, prefix: PREFIX, relayBatchSize: 30 })
    const targets = [new Queue(QUEUE, { connection, prefix: PREFIX }), new Queue(QUEUE, { connection, prefix: PREFIX })]
    try {
      const sent = await Promise.all(targets.map((target) => relayPending(ds, target, relay)))
      // Each relay reports what it sent itself: a row both sent would count twice.
      expect(sent[0]! + sent[1]!).toBe(200)
    } finally {
      for (const target of targets) await target.close()
    }
    expect(await queue.getJobCountByTypes('wait')).toBe(200)
    expect(await unsent()).toBe(0)
  })

  it('a relay never sends the rows of a transaction still open (on SQLite, the same connection)', async () => {
    const { relay } = resolveBullMqOptions({ connection, prefix: PREFIX })
    const target = new Queue(QUEUE, { connection, prefix: PREFIX })
    try {
      await expect(
        ds.transaction(async (m) => {
          await m.getRepository(JobOutboxEntry).insert(orphanRow('uncommitted', {}))
          expect(await relayPending(ds, target, relay)).toBe(0)
          throw new Error('rolled back')
        }),
      ).rejects.toThrow('rolled back')
    } finally {
      await target.close()
    }
    expect(await bullJobs()).toEqual([])
  })

  it('a row whose job is in BullMQ already (a relay died between the add and its UPDATE) is marked sent, still one job', async () => {
    const row = orphanRow('crash', { n: 1 })
    await ds.getRepository(JobOutboxEntry).insert(row)
    await queue.add('crash', { first: true }, { jobId: `ob_${row.id}` })
    const { relay } = resolveBullMqOptions({ connection, prefix: PREFIX })
    expect(await relayPending(ds, queue, relay)).toBe(1)
    expect(await unsent()).toBe(0)
    const found = await bullJobs()
    expect(found.map((j) => [j.id, j.data])).toEqual([[`ob_${row.id}`, { first: true }]])
  })

  it('counts: pending is unsent outbox rows plus waiting BullMQ jobs, by job name', async () => {
    hooks.ticket = enqueueOnPostInsert
    await ds.getRepository(Ticket).save([ticket('a'), ticket('b')])
    await waitFor(async () => (await unsent()) === 0, 'the relay after commit')
    await ds.getRepository(JobOutboxEntry).insert([orphanRow('ticket:created', {}), orphanRow('other', {})])
    expect(await jobs.counts(ds)).toEqual([
      { name: 'other', pending: 1, active: 0, failed: 0 },
      { name: 'ticket:created', pending: 3, active: 0, failed: 0 },
    ])
  })

  it('a worker runs a job with attempt 1, 2, 3: a handler that fails twice succeeds on its last retry', async () => {
    hooks.ticket = enqueueOnPostInsert
    await ds.getRepository(Ticket).save(ticket('flaky'))
    const attempts: number[] = []
    await consume((_record, attempt) => {
      attempts.push(attempt)
      if (attempt < 3) throw new Error(`flaky ${attempt}`)
    })
    const [row] = await outbox()
    await waitFor(async () => (await queue.getJobState(`ob_${row!.id}`)) === 'completed', 'the job to complete')
    expect(attempts).toEqual([1, 2, 3])
  })

  it('a job that always throws is failed after retryLimit retries; counts and failed show it, retry runs it again, discard removes it', async () => {
    hooks.ticket = enqueueOnPostInsert
    await ds.getRepository(Ticket).save([ticket('doomed'), ticket('doomed too')])
    // Rows of one transaction share created_at: found by title, not by order.
    const titled = (title: string) => (r: JobOutboxEntry) => (r.payload as { title: string }).title === title
    const all = await outbox()
    const rows = [all.find(titled('doomed'))!, all.find(titled('doomed too'))!]
    let fixed = false
    const attempts: Record<string, number[]> = {}
    await consume((record, attempt) => {
      ;(attempts[record.id] ??= []).push(attempt)
      if (!fixed) throw new Error(`printer on fire: ${(record.payload as { title: string }).title}`)
    })
    await waitFor(async () => (await queue.getFailedCount()) === 2, 'both jobs to fail')
    expect(Object.values(attempts)).toEqual([[1, 2, 3], [1, 2, 3]])
    expect(await jobs.counts(ds)).toEqual([{ name: 'ticket:created', pending: 0, active: 0, failed: 2 }])
    const failed = await jobs.failed(ds)
    expect(failed.map((f) => f.id).sort()).toEqual(rows.map((r) => r.id).sort())
    const first = failed.find((f) => f.id === rows[0]!.id)
    expect(first).toEqual({ id: rows[0]!.id, name: 'ticket:created', key: rows[0]!.key, attempts: 3, error: 'printer on fire: doomed' })
    expect(await jobs.failed(ds, 'ticket:created', 1)).toHaveLength(1)
    expect(await jobs.failed(ds, 'other')).toEqual([])

    fixed = true
    expect(await jobs.retry(ds, rows[0]!.id)).toBe(true)
    await waitFor(async () => (await queue.getJobState(`ob_${rows[0]!.id}`)) === 'completed', 'the retried job to complete')
    expect(attempts[rows[0]!.id]).toEqual([1, 2, 3, 1])
    expect(await jobs.retry(ds, rows[0]!.id)).toBe(false) // completed, not failed
    expect(await jobs.retry(ds, randomUUID())).toBe(false)

    expect(await jobs.discard(ds, rows[1]!.id)).toBe(true)
    expect(await queue.getJob(`ob_${rows[1]!.id}`)).toBeUndefined()
    expect(await jobs.failed(ds)).toEqual([])
    expect(await jobs.discard(ds, rows[1]!.id)).toBe(false)
    expect(await jobs.counts(ds)).toEqual([])
    await expect(jobs.retry(ds, '')).rejects.toThrow(HardError)
  })

  it('startWorker runs the job inside its action, with the payload and the user', async () => {
    hooks.ticket = enqueueOnPostInsert
    const saved = await runAction({ name: 'tickets:open', user: { id: 42 } }, () => ds.getRepository(Ticket).save(ticket('w')))
    const seen: [unknown, JobContext][] = []
    const worker = await startWorker(ds, { signals: [], handlers: { 'ticket:created': (payload, ctx) => void seen.push([payload, ctx]) } })
    try {
      await waitFor(() => seen.length === 1, 'the handler to run')
    } finally {
      await worker.stop()
    }
    const [row] = await outbox()
    expect(seen[0]![0]).toEqual({ id: saved.id, title: 'w' })
    expect(seen[0]![1]).toMatchObject({ name: 'ticket:created', action: 'tickets:open', user: { id: 42 }, job: { id: row!.id, key: row!.key, attempt: 1 } })
  })

  it('stop lets a running job finish, and gives up on one that outlasts the timeout', async () => {
    hooks.ticket = enqueueOnPostInsert
    const started: string[] = []
    const done: string[] = []
    const errors: unknown[] = []
    let slowJob: Promise<void> = Promise.resolve()
    const consumer = await consume(async (record) => {
      const { title } = record.payload as { title: string }
      started.push(title)
      const work = sleep(title === 'slow' ? 2500 : 300).then(() => void done.push(title))
      if (title === 'slow') slowJob = work
      await work
    }, errors)
    await ds.getRepository(Ticket).save(ticket('quick'))
    await waitFor(() => started.includes('quick'), 'the quick job to start')
    await consumer.stop(5000)
    expect(done).toEqual(['quick'])
    const [quick] = await outbox()
    expect(await queue.getJobState(`ob_${quick!.id}`)).toBe('completed')

    const second = await consume(async (record) => {
      const { title } = record.payload as { title: string }
      started.push(title)
      const work = sleep(2500).then(() => void done.push(title))
      slowJob = work
      await work
    }, errors)
    await ds.getRepository(Ticket).save(ticket('slow'))
    await waitFor(() => started.includes('slow'), 'the slow job to start')
    const before = Date.now()
    await second.stop(100)
    expect(Date.now() - before).toBeLessThan(2000)
    expect(done).toEqual(['quick'])
    await slowJob
  })

  it('a worker and the relay carry on after Redis dropped their connections', async () => {
    hooks.ticket = enqueueOnPostInsert
    const seen: string[] = []
    await consume((record) => void seen.push((record.payload as { title: string }).title))
    await ds.getRepository(Ticket).save(ticket('before'))
    await waitFor(() => seen.includes('before'), 'the first job to run')
    const clients = String(await admin.client('LIST')).split('\n').filter((line) => line.includes(`name=${PREFIX} `))
    expect(clients.length).toBeGreaterThanOrEqual(3) // the worker's two, the sweep's, the producer's
    for (const line of clients) await admin.client('KILL', 'ID', /id=(\d+)/.exec(line)![1]!)
    await ds.getRepository(Ticket).save(ticket('after'))
    await waitFor(() => seen.includes('after'), 'the job made after the drop to run', 30_000)
    await waitFor(async () => (await unsent()) === 0, 'the row to be marked sent')
  })
})

describe(`bullMqJobs with Redis unreachable (${DB})`, () => {
  let ds: DataSource
  let jobs: JobBackend
  const relayErrors: unknown[] = []

  beforeAll(async () => {
    jobs = bullMqJobs({ connection: { host: '127.0.0.1', port: 1 }, prefix: PREFIX, onRelayError: (e) => relayErrors.push(e) })
    ds = await openDataSource([Ticket], { jobs })
  })
  afterAll(async () => {
    await jobs?.close(ds)
    await ds?.destroy()
    // ioredis keeps a 2-second timer after closing a connection that never came up.
    await sleep(2100)
  })

  it('the commit stands, the job waits in the outbox, and onRelayError hears why', async () => {
    hooks.ticket = enqueueOnPostInsert
    await ds.getRepository(Ticket).save(ticket('offline'))
    delete hooks.ticket
    await waitFor(() => relayErrors.length > 0, 'onRelayError')
    expect(String(relayErrors[0])).toMatch(/ECONNREFUSED/)
    expect(await countRows(ds, 'jb_ticket')).toBe(1)
    const rows = await ds.getRepository(JobOutboxEntry).find()
    expect(rows.map((r) => [r.name, r.sentAt])).toEqual([['ticket:created', null]])
  })
})

describe(`CreateJobOutboxTable migration (${DB})`, () => {
  let ds: DataSource
  let jobs: JobBackend
  let queue: Queue

  beforeAll(async () => {
    jobs = bullMqJobs({ connection, prefix: `${PREFIX}-mig` })
    ds = await openDataSource([], { jobs, auditTable: false }, { synchronize: false, migrations: [CreateJobOutboxTable], migrationsRun: true })
    queue = new Queue(QUEUE, { connection, prefix: `${PREFIX}-mig` })
  })
  afterAll(async () => {
    await jobs?.close(ds)
    await queue?.obliterate({ force: true })
    await queue?.close()
    await ds?.destroy()
  })

  it('is exported under a stable name and its timestamped name', () => {
    expect(CreateJobOutboxTable).toBe(CreateJobOutboxTable1767225600000)
  })

  it('creates the table of the JobOutboxEntry entity: a schema sync would change nothing in it', async () => {
    const queryRunner = ds.createQueryRunner()
    try {
      expect(await queryRunner.hasTable(OUTBOX)).toBe(true)
    } finally {
      await queryRunner.release()
    }
    const pending = await ds.driver.createSchemaBuilder().log()
    expect(pending.upQueries.map((q) => q.query).filter((q) => q.includes(OUTBOX))).toEqual([])
  })

  it('takes the jobs of a durable binding and relays them', async () => {
    const events = new ActionEvents()
    events.bind('reports:run', Post, () => undefined, { mode: 'durable' })
    await runAction({ name: 'reports:run', params: { n: 1 } }, () => 'done', { events, dataSource: ds, transaction: true })
    const rows = () => ds.getRepository(JobOutboxEntry).find()
    await waitFor(async () => (await rows()).every((r) => r.sentAt !== null), 'the relay after commit')
    expect(await rows()).toHaveLength(1)
    const found = await queue.getJobs(['wait'])
    expect(found.map((j) => j.data)).toEqual([expect.objectContaining({ name: 'reports:run', kind: 'durable', payload: expect.objectContaining({ params: { n: 1 }, result: 'done' }) })])
  })

  it('down() drops the table', async () => {
    await ds.undoLastMigration()
    const queryRunner = ds.createQueryRunner()
    try {
      expect(await queryRunner.hasTable(OUTBOX)).toBe(false)
    } finally {
      await queryRunner.release()
    }
  })
})

describe('bullMqJobs options', () => {
  it.each([
    ['no connection', {}, /connection must be Redis connection options/],
    ['a connection URL of another scheme', { connection: 'http://localhost' }, /connection must be a 'redis:\/\/'/],
    ['a URL whose path is no database number', { connection: 'redis://localhost/x' }, /a URL whose path is a database number/],
    ['a Redis client', { connection: { connect: () => undefined, duplicate: () => undefined } }, /not a Redis client/],
    ['a keyPrefix', { connection: { keyPrefix: 'x:' } }, /keyPrefix/],
    ['a queue name with a colon', { connection, queueName: 'a:b' }, /queueName must be .* without ':'/],
    ['a negative retryLimit', { connection, retryLimit: -1 }, /retryLimit must be a whole number from 0 to 1000, got -1/],
    ['a retryDelay that is not a number', { connection, retryDelay: '2' }, /retryDelay must be a number of seconds, 0 or more, got "2"/],
    ['a relayBatchSize over 500', { connection, relayBatchSize: 501 }, /relayBatchSize must be a whole number from 1 to 500, got 501/],
    ['a lostJobSeconds of 0', { connection, lostJobSeconds: 0 }, /lostJobSeconds must be a whole number/],
    ['a relayIntervalMs of 0', { connection, relayIntervalMs: 0 }, /relayIntervalMs must be a number of milliseconds/],
  ])('refuses %s with a HardError naming the option and value', (_what, options, message) => {
    const make = () => bullMqJobs(options as never)
    expect(make).toThrow(HardError)
    expect(make).toThrow(message)
  })

  it('takes a redis:// URL, and maps the retry settings to BullMQ attempts and backoff', () => {
    const settings = resolveBullMqOptions({ connection: 'redis://127.0.0.1:6379/0' })
    expect(settings.connection).toEqual({ host: '127.0.0.1', port: 6379, db: 0 })
    expect(resolveBullMqOptions({ connection: 'rediss://me:p%40ss@[::1]:6380/2?family=6' }).connection).toEqual({
      host: '::1',
      port: 6380,
      db: 2,
      username: 'me',
      password: 'p@ss',
      family: 6,
      tls: {},
    })
    expect(resolveBullMqOptions({ connection: { url: 'redis://h:1', port: 2 } }).connection).toEqual({ host: 'h', port: 2 })
    const record = { id: 'u', name: 'n', kind: 'enqueue', key: 'k', payload: null, action: undefined } as const
    expect(settings.relay.jobOptions(record)).toMatchObject({ jobId: 'ob_u', attempts: 6, backoff: { type: 'exponential', delay: 2000 } })
    expect(resolveBullMqOptions({ connection, retryLimit: 0, retryDelay: 0.5, retryBackoff: false }).relay.jobOptions(record)).toMatchObject({
      attempts: 1,
      backoff: { type: 'fixed', delay: 500 },
    })
    expect(bullMqJobs({ connection: 'redis://127.0.0.1:6379' })).toMatchObject({ engine: 'bullmq', maxPayloadBytes: 65536 })
  })
})

/**
 * npm run bench:jobs [-- --quick]: what durable jobs cost (issue 19), on the database of DB
 * (DB_URL as for the tests) with each engine it supports: pg-boss on PostgreSQL, BullMQ (Redis
 * at REDIS_URL, default redis://127.0.0.1:6379) everywhere.
 *
 * 1. Actions per second: `runAction(..., { events, dataSource, transaction: true })` saving one
 *    entity, with no binding, with a no-op after-commit binding, and with a durable binding (its
 *    job written through the transaction). Rounds alternate the order. Target: the durable
 *    action's time within 10% of the unbound one's (geometric mean of the per-round ratios of wall
 *    time, with its 95% interval). Two references: the floor (one plain INSERT more in the
 *    transaction) and the engine used by hand (pg-boss's insert through the transaction; BullMQ's
 *    `queue.add` awaited after the COMMIT, which is not durable).
 * 2. Worker throughput: M jobs are stored, then a worker with an empty handler drains them
 *    (concurrency 8): `startWorker` against the engine's own worker doing the same on jobs the
 *    engine stored itself (pg-boss `work()`, a BullMQ `Worker`). Target: within 10% of the raw
 *    engine (jobs per second, timed from the first job handled to the last: start-up is not
 *    throughput).
 *
 * Writes bench/results/jobs-<db>.json (jobs-<db>.quick.json with --quick). Wall time: the work
 * is mostly waiting for the database and Redis, which is what a user waits for.
 */
import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Column, DataSource, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn, type DataSourceOptions, type EntityManager } from 'typeorm'
import { databaseName, databaseOptions } from '../ormconfig'
import {
  ActionEvents,
  Audited,
  bullMqJobs,
  EventActionTiming,
  EventActionType,
  pgBossJobs,
  runAction,
  startWorker,
  withEventActions,
  type AttributeGroup,
  type EventActionContext,
  type JobBackend,
} from '../src'
import { ratioInterval, verdict, type Interval } from './stats'

const show = (i: Interval): string => `${i.estimate.toFixed(3)} [${i.ci[0].toFixed(3)}, ${i.ci[1].toFixed(3)}]`

const quick = process.argv.includes('--quick')
const db = databaseName()
const ACTIONS = quick ? 100 : 400
const JOBS = quick ? 500 : 5000
const ROUNDS = quick ? 3 : 7
const CONCURRENCY = 8
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = new URL(REDIS_URL)
const connection = { host: redis.hostname, port: Number(redis.port || 6379) }

/** The floor's table: a row like a job's, written by hand. */
@Entity('bench_job_floor')
class FloorRow {
  @PrimaryGeneratedColumn('uuid') id!: string
  @Column({ type: 'text' }) payload!: string
}

@Entity('bench_job_order')
class JobOrder {
  @PrimaryGeneratedColumn() id!: number
  @Column() customer!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<JobOrder>): void {
    if (enqueueing && timing === EventActionTiming.Post && type === EventActionType.Insert) ctx.enqueue('bench:job', { id: this.id })
  }
}
/** A typical action's write: an audited order with three lines, saved by cascade (5 INSERTs with the audit entries). */
@Audited()
@Entity('bench_job_cart')
class Cart {
  @PrimaryGeneratedColumn() id!: number
  @Column() customer!: string
  @OneToMany(() => CartLine, (line) => line.cart, { cascade: true }) lines!: CartLine[]
}

@Audited()
@Entity('bench_job_cart_line')
class CartLine {
  @PrimaryGeneratedColumn() id!: number
  @Column() product!: string
  @ManyToOne(() => Cart, (cart) => cart.lines) cart!: Cart
}

/** Whether a saved order enqueues a job: only while jobs are made for the worker part. */
let enqueueing = false

type Engine = 'pg-boss' | 'bullmq'

function backendFor(engine: Engine, tag: string): JobBackend {
  return engine === 'pg-boss'
    ? pgBossJobs({ schema: `bench_${tag}`, pollingIntervalSeconds: 0.5 })
    : bullMqJobs({ connection, prefix: `bench-${tag}`, relayIntervalMs: 200 })
}

async function open(jobs: JobBackend): Promise<DataSource> {
  const options = { ...databaseOptions(db), entities: [JobOrder, Cart, CartLine, FloorRow], synchronize: true, dropSchema: true, logging: false } as DataSourceOptions
  const ds = new DataSource(withEventActions(options, { jobs }))
  return ds.initialize()
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

type Write = (manager: EntityManager, i: number) => Promise<unknown>
/** The smallest action: one row. */
const oneRow: Write = (m, i) => m.save(Object.assign(new JobOrder(), { customer: `c${i}` }))
/** A typical one: an audited cart with three lines. */
const cart: Write = (m, i) =>
  m.save(Object.assign(new Cart(), { customer: `c${i}`, lines: ['a', 'b', 'c'].map((product) => Object.assign(new CartLine(), { product })) }))

/** One round of N actions, each its own transaction (then `after`, awaited); returns seconds of wall time. */
async function actions(ds: DataSource, events: ActionEvents, write: Write, after?: (result: unknown, i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < ACTIONS; i++) {
    const result = await runAction({ name: 'orders:submit', user: { id: i } }, (m) => write(m!, i), {
      events,
      dataSource: ds,
      transaction: true,
    })
    if (after) await after(result, i)
  }
  return (performance.now() - t0) / 1000
}

/**
 * The engine used by hand, with no library: what a user pays to enqueue the
 * same job today. pg-boss: its `insert` through the transaction (its `db`
 * option, TypeORM's query()), as durable as ours. BullMQ: `queue.add` awaited
 * after the COMMIT, not durable (a crash between the two loses the job).
 */
async function rawEnqueue(engine: Engine, tag: string, ds: DataSource, write: Write): Promise<{ write: Write; afterCommit?: (result: unknown, i: number) => Promise<unknown>; close(): Promise<void> }> {
  const job = (result: unknown, i: number) => ({ action: 'orders:submit', user: { id: i }, result })
  if (engine === 'bullmq') {
    const { Queue } = await import('bullmq')
    const queue = new Queue(`raw-${randomUUID()}`, { connection, prefix: `bench-${tag}` })
    const opts = { attempts: 6, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 604_800 } }
    return {
      write,
      afterCommit: (result, i) => queue.add('orders:submit', job(result, i), { ...opts, jobId: `raw_${randomUUID()}` }),
      close: async () => {
        await queue.obliterate({ force: true })
        await queue.close()
      },
    }
  }
  const { default: PgBoss } = (await import('pg-boss')) as unknown as { default: new (o: object) => RawBoss }
  const url = (ds.options as { url?: string }).url ?? 'postgres://postgres@127.0.0.1:5432/test'
  const boss = new PgBoss({ connectionString: url, schema: `bench_raw_${tag}`, supervise: false, schedule: false })
  await boss.start()
  const name = `raw-${tag}`
  await boss.createQueue(name)
  return {
    write: async (m, i) => {
      const result = await write(m, i)
      await boss.insert([{ name, data: job(result, i), retryLimit: 5, retryDelay: 2, retryBackoff: true }], { db: { executeSql: async (text: string, values: unknown[]) => ({ rows: await m.query(text, values) }) } })
      return result
    },
    close: () => boss.stop({ graceful: true, wait: true }),
  }
}

async function actionScenario(engine: Engine, tag: string, write: Write) {
  const jobs = backendFor(engine, tag)
  const ds = await open(jobs)
  const none = new ActionEvents()
  const afterCommit = new ActionEvents()
  afterCommit.bind('orders:submit', EventActionTiming.Post, () => undefined)
  const durable = new ActionEvents()
  durable.bind('orders:submit', EventActionTiming.Post, () => undefined, { mode: 'durable' })
  const kinds = { none, 'after-commit': afterCommit, durable, floor: none, engine: none } as const
  const times: Record<keyof typeof kinds, number[]> = { none: [], 'after-commit': [], durable: [], floor: [], engine: [] }
  // The floor: the unbound action plus one INSERT of a row like a job's into a plain table, in the same
  // transaction: what any transactional outbox costs at the least.
  const table = ds.driver.escape('bench_job_floor')
  const param = (n: number) => (ds.options.type === 'postgres' ? `$${n}` : '?')
  const floor: Write = async (m, i) => {
    const saved = await write(m, i)
    await m.query(`INSERT INTO ${table} (id, payload) VALUES (${param(1)}, ${param(2)})`, [randomUUID(), JSON.stringify({ result: saved, n: i })])
    return saved
  }
  const raw = await rawEnqueue(engine, tag, ds, write)
  const writes = { none: write, 'after-commit': write, durable: write, floor, engine: raw.write }
  await actions(ds, durable, write) // warm-up: queue creation, connections, JIT
  await actions(ds, none, raw.write, raw.afterCommit)
  for (let round = 0; round < ROUNDS; round++) {
    const order = (Object.keys(kinds) as (keyof typeof kinds)[])[round % 2 ? 'reverse' : 'slice']()
    for (const kind of order) times[kind].push(await actions(ds, kinds[kind], writes[kind], kind === 'engine' ? raw.afterCommit : undefined))
  }
  await raw.close()
  await jobs.close(ds)
  await ds.destroy()
  const perSecond = (kind: keyof typeof kinds) => Math.round(ACTIONS / median(times[kind]))
  const ratio = ratioInterval(times.durable.map((t, i) => t / times.none[i]!))
  const floorRatio = ratioInterval(times.floor.map((t, i) => t / times.none[i]!))
  const engineRatio = ratioInterval(times.engine.map((t, i) => t / times.none[i]!))
  return {
    engine,
    actionsPerSecond: {
      none: perSecond('none'),
      afterCommit: perSecond('after-commit'),
      durable: perSecond('durable'),
      floor: perSecond('floor'),
      engine: perSecond('engine'),
    },
    durableOverNone: ratio,
    floorOverNone: floorRatio,
    engineOverNone: engineRatio,
    verdict: verdict(ratio.ci, 1.1),
  }
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 120_000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * Counts a worker's handled jobs. Its clock runs from the first job handled
 * to the last, for our worker and the raw ones alike: throughput, without the
 * start-up (connections, our first outbox sweep) that a worker pays once.
 */
class Drain {
  done = 0
  private first = 0
  private last = 0
  handled(count = 1): void {
    if (this.done === 0) this.first = performance.now()
    this.done += count
    this.last = performance.now()
  }
  seconds(): number {
    return (this.last - this.first) / 1000
  }
}

/** Our worker: M jobs stored through one transaction (ctx.enqueue), then drained. */
async function ourWorker(ds: DataSource): Promise<number> {
  enqueueing = true
  await ds.transaction((m) => m.save(Array.from({ length: JOBS }, (_, i) => Object.assign(new JobOrder(), { customer: `w${i}` }))))
  enqueueing = false
  // BullMQ: the hand-over after the commit is the app's cost, not the worker's: timed once it is done.
  if (ds.hasMetadata('JobOutboxEntry')) {
    const unsent = async () => Number((await ds.query(`SELECT COUNT(*) AS n FROM ${ds.driver.escape('event_action_job_outbox')} WHERE sent_at IS NULL`))[0].n)
    for (let end = Date.now() + 60_000; (await unsent()) > 0 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const drain = new Drain()
  const worker = await startWorker(ds, { handlers: { 'bench:job': () => drain.handled() }, concurrency: CONCURRENCY, signals: [] })
  await waitUntil(() => drain.done >= JOBS, 'our worker')
  const seconds = drain.seconds()
  await worker.stop()
  return seconds
}

/** The data of a raw job: shaped and sized like the job record ours carry, so that both workers decode the same. */
const jobLike = (i: number) => ({ id: randomUUID(), name: 'bench:job', kind: 'enqueue', key: `${randomUUID()}:${i}`, payload: { id: i } })

/** The engine's own worker on jobs it stored itself. */
async function rawWorker(engine: Engine, tag: string, ds: DataSource): Promise<number> {
  const drain = new Drain()
  if (engine === 'bullmq') {
    const { Queue, Worker } = await import('bullmq')
    const name = `raw-${randomUUID()}`
    const queue = new Queue(name, { connection, prefix: `bench-${tag}` })
    // The job options bullMqJobs gives its jobs (retries with backoff, finished jobs kept a day): the same work per job.
    const opts = { attempts: 6, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 604_800 } }
    await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'bench:job', data: jobLike(i), opts: { ...opts, jobId: `raw_${randomUUID()}` } })))
    const worker = new Worker(name, async () => drain.handled(), { connection: { ...connection, maxRetriesPerRequest: null }, prefix: `bench-${tag}`, concurrency: CONCURRENCY })
    await waitUntil(() => drain.done >= JOBS, 'raw BullMQ worker')
    const seconds = drain.seconds()
    await worker.close()
    await queue.obliterate({ force: true })
    await queue.close()
    return seconds
  }
  const { default: PgBoss } = (await import('pg-boss')) as unknown as { default: new (o: object) => RawBoss }
  const url = (ds.options as { url?: string }).url ?? 'postgres://postgres@127.0.0.1:5432/test'
  const boss = new PgBoss({ connectionString: url, schema: `bench_raw_${tag}` })
  await boss.start()
  const name = `raw-${tag}`
  await boss.createQueue(name)
  await boss.insert(Array.from({ length: JOBS }, (_, i) => ({ name, data: jobLike(i) })))
  // pg-boss's own work() waits a polling interval after each batch; the raw figure is its fetch and
  // complete, with as many jobs in flight as our worker keeps, which is what our worker does.
  const loop = async (): Promise<void> => {
    for (;;) {
      const jobs = (await boss.fetch(name)) as { id: string }[] | null
      if (!jobs?.length) return
      drain.handled(jobs.length)
      await boss.complete(name, jobs[0]!.id)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, loop))
  await waitUntil(() => drain.done >= JOBS, 'raw pg-boss worker')
  const seconds = drain.seconds()
  await boss.stop({ graceful: true, wait: true })
  return seconds
}

interface RawBoss {
  start(): Promise<unknown>
  createQueue(name: string): Promise<void>
  insert(jobs: object[], options?: object): Promise<void>
  fetch(name: string): Promise<unknown>
  complete(name: string, id: string): Promise<unknown>
  stop(options: object): Promise<void>
}

async function workerScenario(engine: Engine, tag: string) {
  const jobs = backendFor(engine, `${tag}w`)
  const ds = await open(jobs)
  const ours: number[] = []
  const raw: number[] = []
  await ourWorker(ds) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2) ours.push(await ourWorker(ds)), raw.push(await rawWorker(engine, `${tag}${round}`, ds))
    else raw.push(await rawWorker(engine, `${tag}${round}`, ds)), ours.push(await ourWorker(ds))
  }
  await jobs.close(ds)
  await ds.destroy()
  const ratio = ratioInterval(ours.map((t, i) => t / raw[i]!))
  return { engine, jobsPerSecond: { ours: Math.round(JOBS / median(ours)), raw: Math.round(JOBS / median(raw)) }, oursOverRaw: ratio, verdict: verdict(ratio.ci, 1.1) }
}

async function main(): Promise<void> {
  const engines: Engine[] = db === 'postgres' ? ['pg-boss', 'bullmq'] : ['bullmq']
  const tag = `${process.pid}`
  const results = []
  for (const engine of engines) {
    const a = await actionScenario(engine, `${tag}a${engine === 'pg-boss' ? 'p' : 'b'}`, oneRow)
    const c = await actionScenario(engine, `${tag}c${engine === 'pg-boss' ? 'p' : 'b'}`, cart)
    for (const [what, r] of [['one row', a], ['cart + 3 lines, audited', c]] as const) {
      console.log(
        `${db} ${engine} (${what}): actions/s none ${r.actionsPerSecond.none}, after-commit ${r.actionsPerSecond.afterCommit}, durable ${r.actionsPerSecond.durable}; ` +
          `durable/none time ${show(r.durableOverNone)} (≤ 1.10: ${r.verdict}); one plain INSERT more/none ${show(r.floorOverNone)}; ` +
          `the engine by hand/none ${show(r.engineOverNone)} (${r.actionsPerSecond.engine}/s)`,
      )
    }
    const w = await workerScenario(engine, `${tag}${engine === 'pg-boss' ? 'p' : 'b'}`)
    console.log(
      `${db} ${engine}: worker jobs/s ours ${w.jobsPerSecond.ours}, raw ${w.jobsPerSecond.raw}; ours/raw time ${show(w.oursOverRaw)} (≤ 1.10: ${w.verdict})`,
    )
    results.push({ actions: { oneRow: a, cart: c }, worker: w })
  }
  const out = join(__dirname, 'results', `jobs-${db}${quick ? '.quick' : ''}.json`)
  mkdirSync(join(__dirname, 'results'), { recursive: true })
  writeFileSync(out, `${JSON.stringify({ db, date: new Date().toISOString(), node: process.version, actions: ACTIONS, jobs: JOBS, rounds: ROUNDS, concurrency: CONCURRENCY, results }, null, 2)}\n`)
  console.log(`written ${out}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

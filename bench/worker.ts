/**
 * One benchmark worker process. `plain` runs pristine TypeORM (plain,
 * handwritten, load-plain, update-plain, bulk-update-plain, bulk-delete-plain,
 * and the empty-subscriber references subscriber, load-subscriber,
 * update-subscriber) and never loads the library, whose TypeORM patches are
 * process-wide; `events` runs the library's scenarios (noop, realistic, load,
 * update, bulk-update, bulk-delete, and the loops bulk-update-loop and
 * bulk-delete-loop). run.ts drives both, one job at a time.
 */
import 'reflect-metadata'
import { performance } from 'node:perf_hooks'
import { DataSource, type DataSourceOptions, type ObjectLiteral, type Repository } from 'typeorm'
import { databaseName, databaseOptions } from '../ormconfig'
import {
  BULK_GROUP,
  customerData,
  formatPostcode,
  OTHER_GROUP,
  plainBulkItem,
  plainCustomer,
  type BulkColumns,
  type CustomerColumns,
} from './model'
import type { Reply, Request, Role, WorkerInit } from './protocol'

type Ctor = new () => CustomerColumns

interface SaveScenario {
  kind: 'save'
  ds: DataSource
  entity: Ctor
  /** Tables emptied with the entity's table before each run. */
  alsoClear: Function[]
  /** Rows each run must leave in these tables (besides N entities). */
  perEntity: Function[]
}
interface LoadScenario {
  kind: 'load'
  ds: DataSource
  entityFor: Map<number, Ctor>
}
interface UpdateScenario {
  kind: 'update'
  ds: DataSource
  entity: Ctor
}
/**
 * A set-based write of every row of one group: `set` (repository.update or
 * delete with criteria: `update(criteria)`/`delete(criteria)`), or `loop`
 * (find the rows, then save or remove each one in one transaction).
 */
interface BulkScenario {
  kind: 'bulk'
  op: 'update' | 'delete'
  how: 'set' | 'loop'
  ds: DataSource
  entity: new () => BulkColumns
}
type Scenario = SaveScenario | LoadScenario | UpdateScenario | BulkScenario

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('bench worker needs node --expose-gc')

function fullGc(): void {
  gc!()
  gc!()
}

const send = (reply: Reply): void => {
  process.send!(reply)
}

let scenarios = new Map<string, Scenario>()
let sources: DataSource[] = []
let chunk = 500

async function open(options: Partial<DataSourceOptions>, entities: Function[], events: boolean): Promise<DataSource> {
  const base = { ...databaseOptions(databaseName()), entities, synchronize: true, logging: false, ...options } as DataSourceOptions
  let finalOptions = base
  if (events) {
    const { withEventActions } = await import('../src')
    // The rounds empty their tables with clear() between runs: set-up, not a measured write.
    finalOptions = withEventActions(base, { allowClear: true })
  }
  const ds = new DataSource(finalOptions)
  await ds.initialize()
  sources.push(ds)
  return ds
}

async function count(ds: DataSource, entity: Function, where?: ObjectLiteral): Promise<number> {
  return ds.getRepository(entity).count(where ? { where } : {})
}

/** Empties the table and inserts `rows` in chunks, with listeners off (seeding is not measured). */
async function refill(ds: DataSource, entity: Ctor | (new () => BulkColumns), rows: Iterable<ObjectLiteral>): Promise<void> {
  await ds.getRepository(entity).clear()
  const batch: ObjectLiteral[] = []
  const flush = async () => {
    if (batch.length === 0) return
    await ds.createQueryBuilder().insert().into(entity).values(batch).updateEntity(false).callListeners(false).execute()
    batch.length = 0
  }
  for (const row of rows) {
    batch.push(row)
    if (batch.length === chunk) await flush()
  }
  await flush()
}

/** n customer rows. */
async function seed(ds: DataSource, entity: Ctor, n: number): Promise<void> {
  await refill(ds, entity, customerRows(n))
}

function* customerRows(n: number): Generator<ObjectLiteral> {
  for (let i = 0; i < n; i++) {
    const d = customerData(i)
    yield { ...d, name: d.name.trim(), postcode: d.postcode && formatPostcode(d.postcode) }
  }
}

async function init(msg: WorkerInit): Promise<void> {
  chunk = msg.chunk
  const loadTables = (prefix: string, make: (name: string, table: string) => Ctor) =>
    new Map(msg.loadNs.map((n) => [n, make(`${prefix}${n}`, `bench_${prefix.toLowerCase()}_${n}`)] as const))
  if (msg.role === 'plain') {
    const { EmptySubscriber, HandAudit, HandCustomer, HandCustomerSubscriber, listenerCustomer } = await import('./plain-entities')
    const plain = plainCustomer('PlainCustomer', 'bench_plain')
    const loadPlain = loadTables('LoadPlain', plainCustomer)
    const updatePlain = plainCustomer('UpdatePlainCustomer', 'bench_update_plain')
    scenarios.set('plain', { kind: 'save', ds: await open({}, [plain], false), entity: plain, alsoClear: [], perEntity: [] })
    scenarios.set('handwritten', {
      kind: 'save',
      ds: await open({ subscribers: [HandCustomerSubscriber] }, [HandCustomer, HandAudit], false),
      entity: HandCustomer,
      alsoClear: [HandAudit],
      perEntity: [HandAudit],
    })
    scenarios.set('load-plain', { kind: 'load', ds: await open({}, [...loadPlain.values()], false), entityFor: loadPlain })
    scenarios.set('update-plain', { kind: 'update', ds: await open({}, [updatePlain], false), entity: updatePlain })
    for (const op of ['update', 'delete'] as const) {
      const entity = plainBulkItem(`Bulk${op === 'update' ? 'Update' : 'Delete'}Plain`, `bench_bulk_${op}_plain`)
      scenarios.set(`bulk-${op}-plain`, { kind: 'bulk', op, how: 'set', ds: await open({}, [entity], false), entity })
    }
    // References: the same three on a DataSource with a subscriber that does nothing.
    const subscribed = plainCustomer('SubscribedCustomer', 'bench_subscribed')
    const loadSubscribed = loadTables('LoadSubscribed', plainCustomer)
    const updateSubscribed = plainCustomer('UpdateSubscribedCustomer', 'bench_update_subscribed')
    const withEmpty = await open({ subscribers: [EmptySubscriber] }, [subscribed, ...loadSubscribed.values(), updateSubscribed], false)
    scenarios.set('subscriber', { kind: 'save', ds: withEmpty, entity: subscribed, alsoClear: [], perEntity: [] })
    scenarios.set('load-subscriber', { kind: 'load', ds: withEmpty, entityFor: loadSubscribed })
    scenarios.set('update-subscriber', { kind: 'update', ds: withEmpty, entity: updateSubscribed })
    // References: TypeORM's own no-op entity listeners.
    const listened = listenerCustomer('ListenedCustomer', 'bench_listened')
    const loadListened = loadTables('LoadListened', listenerCustomer)
    const withListeners = await open({}, [listened, ...loadListened.values()], false)
    scenarios.set('listener', { kind: 'save', ds: withListeners, entity: listened, alsoClear: [], perEntity: [] })
    scenarios.set('load-listener', { kind: 'load', ds: withListeners, entityFor: loadListened })
  } else {
    const { AuditEntry } = await import('../src')
    const { declaredCustomer, noopBulkItem, noopCustomer, RealisticCustomer } = await import('./event-entities')
    const noop = noopCustomer('NoopCustomer', 'bench_noop')
    const load = loadTables('Load', noopCustomer)
    const update = noopCustomer('UpdateCustomer', 'bench_update')
    scenarios.set('noop', { kind: 'save', ds: await open({}, [noop], true), entity: noop, alsoClear: [], perEntity: [] })
    scenarios.set('realistic', {
      kind: 'save',
      ds: await open({}, [RealisticCustomer], true),
      entity: RealisticCustomer,
      alsoClear: [AuditEntry],
      perEntity: [AuditEntry],
    })
    scenarios.set('load', { kind: 'load', ds: await open({}, [...load.values()], true), entityFor: load })
    // The same load of an entity whose _eventAction declares `handles` without Load.
    const loadDeclared = loadTables('LoadDeclared', declaredCustomer)
    scenarios.set('load-declared', { kind: 'load', ds: await open({}, [...loadDeclared.values()], true), entityFor: loadDeclared })
    scenarios.set('update', { kind: 'update', ds: await open({}, [update], true), entity: update })
    for (const op of ['update', 'delete'] as const) {
      const Op = op === 'update' ? 'Update' : 'Delete'
      for (const how of ['set', 'loop'] as const) {
        const entity = noopBulkItem(`Bulk${Op}${how === 'loop' ? 'Loop' : ''}`, `bench_bulk_${op}${how === 'loop' ? '_loop' : ''}`)
        const name = `bulk-${op}${how === 'loop' ? '-loop' : ''}`
        scenarios.set(name, { kind: 'bulk', op, how, ds: await open({}, [entity], true), entity })
      }
    }
  }
  // Load tables are seeded once (kept across runs on a server when complete).
  for (const s of scenarios.values()) {
    if (s.kind !== 'load') continue
    for (const [n, entity] of s.entityFor) {
      if ((await count(s.ds, entity)) !== n) await seed(s.ds, entity, n)
    }
  }
}

function check(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`)
}

/**
 * Wall and CPU time of this process (user + system, all threads: SQLite works in libuv's pool),
 * and when the run started and ended on the clock of process.hrtime() in µs, the clock of the
 * samples of a .cpuprofile: run.ts finds a profiled run's samples by these.
 */
interface Timing {
  ms: number
  cpuMs: number
  startUs: number
  endUs: number
}
const hrUs = () => Number(process.hrtime.bigint() / 1000n)
const startClock = () => ({ us: hrUs(), wall: performance.now(), cpu: process.cpuUsage() })
function stopClock(start: ReturnType<typeof startClock>): Timing {
  const cpu = process.cpuUsage(start.cpu)
  const ms = performance.now() - start.wall
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, startUs: start.us, endUs: hrUs() }
}

async function runSave(name: string, s: SaveScenario, n: number): Promise<Timing> {
  const repo = s.ds.getRepository(s.entity)
  await repo.clear()
  for (const t of s.alsoClear) await s.ds.getRepository(t).clear()
  const items: CustomerColumns[] = new Array(n)
  for (let i = 0; i < n; i++) items[i] = Object.assign(new s.entity(), customerData(i))
  fullGc()
  const clock = startClock()
  await repo.save(items, { chunk })
  const timing = stopClock(clock)
  check(await count(s.ds, s.entity), n, `${name}: rows`)
  for (const t of s.perEntity) check(await count(s.ds, t), n, `${name}: ${t.name} rows`)
  if (name === 'realistic' || name === 'handwritten') {
    // The formatting ran before the INSERT (and validation accepted it).
    check(await count(s.ds, s.entity, { postcode: formatPostcode(customerData(0).postcode!) }), Math.ceil(n / 8), `${name}: formatted postcodes`)
  }
  return timing
}

async function runLoad(name: string, s: LoadScenario, n: number, warmup: boolean): Promise<Timing> {
  const entity = warmup ? s.entityFor.values().next().value! : s.entityFor.get(n)
  if (!entity) throw new Error(`${name}: no table for N=${n}`)
  const repo = s.ds.getRepository(entity)
  fullGc()
  const clock = startClock()
  let rows: CustomerColumns[] | null = warmup ? await repo.find({ take: n }) : await repo.find()
  const timing = stopClock(clock)
  check(rows.length, n, `${name}: loaded rows`)
  rows = null
  return timing
}

let updateRound = 0

async function runUpdate(name: string, s: UpdateScenario, n: number): Promise<Timing & { parts: Record<string, number> }> {
  const repo: Repository<CustomerColumns> = s.ds.getRepository(s.entity)
  await seed(s.ds, s.entity, n)
  const city = `Updated ${++updateRound}`
  fullGc()
  const clock = startClock()
  const rows = await repo.find()
  const t1 = performance.now()
  for (const row of rows) {
    row.city = city
    row.balance += 1
  }
  await repo.save(rows, { chunk })
  const timing = stopClock(clock)
  check(rows.length, n, `${name}: loaded rows`)
  check(await count(s.ds, s.entity, { city }), n, `${name}: updated rows`)
  const findMs = t1 - clock.wall
  return { ...timing, parts: { findMs, saveMs: timing.ms - findMs } }
}

/** Rows of the group the bulk writes leave alone (besides the n they write). */
const OTHER_ROWS = 100
let bulkRound = 0

/** n rows in BULK_GROUP and OTHER_ROWS in OTHER_GROUP, qty 0, listeners off (not measured). */
async function seedBulk(ds: DataSource, entity: new () => BulkColumns, n: number): Promise<void> {
  await refill(ds, entity, bulkRows(n))
  check(await count(ds, entity, { grp: BULK_GROUP }), n, 'bulk seed: rows of the group')
}

/** n rows of BULK_GROUP with OTHER_ROWS of OTHER_GROUP interleaved. */
function* bulkRows(n: number): Generator<ObjectLiteral> {
  const step = Math.max(1, Math.floor((n + OTHER_ROWS) / OTHER_ROWS))
  for (let i = 0, others = 0; i < n + OTHER_ROWS; i++) {
    const other = others < OTHER_ROWS && (i % step === 0 || i - others === n)
    if (other) others++
    yield { grp: other ? OTHER_GROUP : BULK_GROUP, qty: 0, name: `Item ${i}` }
  }
}

/**
 * The timed write: `update({ grp }, { qty })` / `delete({ grp })` on the
 * repository, or the loop users write without set-based events: find the
 * group's rows, then save (remove) each one, in one transaction.
 */
async function runBulk(name: string, s: BulkScenario, n: number): Promise<Timing> {
  const repo: Repository<BulkColumns> = s.ds.getRepository(s.entity)
  await seedBulk(s.ds, s.entity, n)
  const qty = ++bulkRound
  const where = { grp: BULK_GROUP }
  fullGc()
  const clock = startClock()
  if (s.how === 'set') {
    if (s.op === 'update') await repo.update(where, { qty })
    else await repo.delete(where)
  } else {
    await s.ds.manager.transaction(async (manager) => {
      const rows = await manager.find(s.entity, { where })
      if (rows.length !== n) throw new Error(`${name}: found ${rows.length} rows, expected ${n}`)
      if (s.op === 'update') {
        for (const row of rows) {
          row.qty = qty
          await manager.save(row)
        }
      } else {
        for (const row of rows) await manager.remove(row)
      }
    })
  }
  const timing = stopClock(clock)
  check(await count(s.ds, s.entity, { grp: BULK_GROUP }), s.op === 'update' ? n : 0, `${name}: rows left in the group`)
  if (s.op === 'update') check(await count(s.ds, s.entity, { grp: BULK_GROUP, qty }), n, `${name}: updated rows`)
  check(await count(s.ds, s.entity, { grp: OTHER_GROUP, qty: 0 }), OTHER_ROWS, `${name}: rows of the other group`)
  return timing
}

const heap = (): number => process.memoryUsage().heapUsed

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r))
    fullGc()
  }
}

/** Heap before, while holding, and after dropping `repeats` loads of n entities. */
async function memory(name: string, n: number, repeats: number) {
  const s = scenarios.get(name)
  if (!s || s.kind !== 'load') throw new Error(`no load scenario ${name}`)
  const repo = s.ds.getRepository(s.entityFor.get(n)!)
  await repo.find({ take: 100 }) // caches of the query path, not of the entities
  await settle()
  const baseline = heap()
  const held: number[] = []
  const after: number[] = []
  for (let r = 0; r < repeats; r++) {
    let rows: CustomerColumns[] | null = await repo.find()
    check(rows.length, n, `${name}: loaded rows`)
    await settle()
    held.push(heap())
    rows = null
    await settle()
    after.push(heap())
  }
  return { baseline, held, after }
}

process.on('message', (msg: Request) => {
  void (async () => {
    try {
      switch (msg.type) {
        case 'init':
          await init(msg)
          send({ type: 'ready', id: msg.id })
          break
        case 'run': {
          const s = scenarios.get(msg.scenario)
          if (!s) throw new Error(`worker has no scenario ${msg.scenario}`)
          if (s.kind === 'save') send({ type: 'result', id: msg.id, ...(await runSave(msg.scenario, s, msg.n)) })
          else if (s.kind === 'load') send({ type: 'result', id: msg.id, ...(await runLoad(msg.scenario, s, msg.n, msg.warmup)) })
          else if (s.kind === 'bulk') send({ type: 'result', id: msg.id, ...(await runBulk(msg.scenario, s, msg.n)) })
          else send({ type: 'result', id: msg.id, ...(await runUpdate(msg.scenario, s, msg.n)) })
          break
        }
        case 'memory':
          send({ type: 'memory', id: msg.id, ...(await memory(msg.scenario, msg.n, msg.repeats)) })
          break
        case 'close':
          for (const ds of sources) await ds.destroy()
          sources = []
          scenarios = new Map()
          send({ type: 'closed', id: msg.id })
          process.disconnect()
          break
      }
    } catch (error) {
      send({ type: 'error', id: msg.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    }
  })()
})

export type { Role }

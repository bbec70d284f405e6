/**
 * npm run bench [-- options]: the cost of event actions against plain TypeORM
 * and hand-written listeners (issue 6). Prints a table and writes
 * bench/results/<db>.json (--quick: <db>.quick.json).
 *
 * Two worker processes do the work, one job at a time: `plain` runs pristine
 * TypeORM (the library patches TypeORM process-wide once loaded, so a plain
 * scenario in the same process would not be plain), `events` runs the
 * library. Each scenario has its own DataSource and table(s). Every job runs
 * once to warm up, then `rounds` times, the job order reversed every other
 * round to cancel drift; ratios are computed from medians.
 *
 * Options: --quick, --n=<N> (or env N), --rounds=<R>, --chunk=<C>,
 *          --bulk-n=<rows> (default 1,000), --bulk-rounds=<R> (default: rounds, --quick 2),
 *          --no-scaling, --no-memory, --out=<file>, --only=<scenario,...> (`bulk`: the six bulk ones),
 *          --merge (an --only run written into bench/results/<db>.json, replacing just its scenarios),
 *          --profile[=<dir>] (node --cpu-prof in both workers, default .tmp/bench-profiles)
 * Database: DB=sqlite|postgres|mariadb and DB_URL, as for the tests (ormconfig.ts).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { databaseName, typeormMajor } from '../ormconfig'
import type { Reply, Request, Role } from './protocol'

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(`--${name}`)
const option = (name: string): string | undefined =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const int = (value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  const n = Number(value.replace(/[_,]/g, ''))
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${value}`)
  return n
}

const quick = flag('quick')
const db = databaseName()
const N = int(option('n') ?? process.env.N, quick ? 2_000 : 10_000)
const rounds = int(option('rounds'), quick ? 3 : 5)
const chunk = int(option('chunk'), 500)
/** Rows that match the criteria of the bulk scenarios, and their rounds (the loops are slow: fewer in --quick). */
const bulkN = int(option('bulk-n'), 1_000)
const bulkRounds = Math.min(rounds, int(option('bulk-rounds'), quick ? 2 : rounds))
const scaling = !flag('no-scaling')
const withMemory = !flag('no-memory')
const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b)
const saveNs = uniq(scaling ? [...(quick ? [500, 2_000] : [1_000, 10_000, 50_000]), N] : [N])
const loadNs = uniq(scaling ? [...(quick ? [2_000, 10_000] : [10_000, 100_000]), N] : [N])
const memoryN = loadNs[loadNs.length - 1]!
const profileDir = flag('profile') ? '.tmp/bench-profiles' : option('profile')
// Partial or profiled runs do not replace the committed results; --merge writes a partial run's
// scenarios, targets and references into them, in place of the same ones, and keeps the rest.
const partial = argv.some((a) => a.startsWith('--only=')) || profileDir !== undefined
const merge = flag('merge')
if (merge && (!partial || profileDir !== undefined)) throw new Error('--merge is for --only runs without --profile')
const outFile = resolve(
  option('out') ??
    (partial && !merge ? `.tmp/bench-${db}-partial.json` : join(__dirname, 'results', `${db}${quick ? '.quick' : ''}.json`)),
)

const ROLE_OF: Record<string, Role> = {
  plain: 'plain',
  handwritten: 'plain',
  'load-plain': 'plain',
  'update-plain': 'plain',
  subscriber: 'plain',
  'load-subscriber': 'plain',
  'update-subscriber': 'plain',
  noop: 'events',
  realistic: 'events',
  load: 'events',
  update: 'events',
  'bulk-update-plain': 'plain',
  'bulk-update': 'events',
  'bulk-update-loop': 'events',
  'bulk-delete-plain': 'plain',
  'bulk-delete': 'events',
  'bulk-delete-loop': 'events',
}
const BULK = Object.keys(ROLE_OF).filter((s) => s.startsWith('bulk-'))

// ---------------------------------------------------------------- workers

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

class Worker {
  private readonly child: ChildProcess
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>()

  constructor(readonly role: Role) {
    const execArgv = ['--expose-gc', '-r', 'ts-node/register/transpile-only']
    if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${resolve(profileDir, role)}`)
    this.child = fork(join(__dirname, 'worker.ts'), [], { execArgv, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } })
    this.child.on('message', (reply: Reply) => {
      const p = this.pending.get(reply.id)
      if (!p) return
      this.pending.delete(reply.id)
      if (reply.type === 'error') p.reject(new Error(`${role} worker: ${reply.message}`))
      else p.resolve(reply)
    })
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${role} worker exited with ${code}`))
      this.pending.clear()
    })
  }

  request<T extends Reply['type']>(msg: DistributiveOmit<Request, 'id'>, expect: T): Promise<Extract<Reply, { type: T }>> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.type === expect ? resolve(r as Extract<Reply, { type: T }>) : reject(new Error(`unexpected ${r.type}`))),
        reject,
      })
      this.child.send({ ...msg, id } as Request)
    })
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r))
    await this.request({ type: 'close' }, 'closed')
    await exited
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill()
  }
}

// ---------------------------------------------------------------- statistics

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const round1 = (x: number) => Math.round(x * 10) / 10
const round3 = (x: number) => Math.round(x * 1000) / 1000
/** A target or reference with its ratios rounded for the JSON. */
const rounded = <T extends { ratio: number; roundRange?: [number, number]; cpuRatio?: number }>(r: T): T => ({
  ...r,
  ratio: round3(r.ratio),
  roundRange: r.roundRange && [round3(r.roundRange[0]), round3(r.roundRange[1])],
  cpuRatio: r.cpuRatio === undefined ? undefined : round3(r.cpuRatio),
})

interface Job {
  scenario: string
  n: number
  runs: number[]
  /** CPU time of the worker process in the same runs (user + system). */
  cpu: number[]
  parts: Record<string, number[]>
}

const jobs: Job[] = []
const job = (scenario: string, n: number): Job => {
  let j = jobs.find((x) => x.scenario === scenario && x.n === n)
  if (!j) jobs.push((j = { scenario, n, runs: [], cpu: [], parts: {} }))
  return j
}

// The order of one round: each pair (with its empty-subscriber reference between) side by side,
// so that reversing the order every other round alternates them.
job('plain', N), job('subscriber', N), job('noop', N)
job('handwritten', N), job('realistic', N)
job('load-plain', N), job('load-subscriber', N), job('load', N)
job('update-plain', N), job('update-subscriber', N), job('update', N)
// Bulk: plain TypeORM (a), the library's set-based events, the find + save/remove loop (b).
job('bulk-update-plain', bulkN), job('bulk-update', bulkN), job('bulk-update-loop', bulkN)
job('bulk-delete-plain', bulkN), job('bulk-delete', bulkN), job('bulk-delete-loop', bulkN)
for (const n of saveNs) if (n !== N) job('plain', n), job('subscriber', n), job('noop', n)
for (const n of loadNs) if (n !== N) job('load-plain', n), job('load-subscriber', n), job('load', n)
// --only=a,b: just these scenarios (for profiling); targets that need the others are left out.
const only = option('only')
  ?.split(',')
  .flatMap((name) => (name === 'bulk' ? BULK : [name]))
if (only) {
  for (const name of only) if (!(name in ROLE_OF)) throw new Error(`unknown scenario ${name}`)
  jobs.splice(0, jobs.length, ...jobs.filter((j) => only.includes(j.scenario)))
}

// ---------------------------------------------------------------- run

function typeormVersion(): string {
  const main = require.resolve('typeorm')
  return (JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string }).version
}

async function main(): Promise<void> {
  const started = Date.now()
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`
  const log = (line: string) => process.stderr.write(`[${elapsed()}] ${line}\n`)
  log(
    `bench on ${db}: N=${N}, save N ${saveNs.join('/')}, load N ${loadNs.join('/')}, ${rounds} rounds, chunk ${chunk}, ` +
      `bulk ${bulkN} rows ${bulkRounds} rounds${quick ? ' (quick)' : ''}${only ? `, only ${only.join(',')}` : ''}`,
  )

  const workers: Record<Role, Worker> = { plain: new Worker('plain'), events: new Worker('events') }
  try {
    // One at a time: on a server both would synchronize their schemas at once.
    // Load tables are seeded only when a load scenario runs (--only).
    const seedNs = jobs.some((j) => j.scenario.startsWith('load')) ? loadNs : []
    for (const w of Object.values(workers)) await w.request({ type: 'init', role: w.role, loadNs: seedNs, chunk }, 'ready')
    log('workers ready, tables seeded')

    const runJob = async (j: Job, warmup: boolean) => {
      // Warm-up runs are small (the bulk loops take about a second for 1,000 rows).
      const n = warmup ? Math.min(j.n, N, BULK.includes(j.scenario) ? 200 : 1_000) : j.n
      return workers[ROLE_OF[j.scenario]!].request({ type: 'run', scenario: j.scenario, n, warmup }, 'result')
    }
    // Warm-up: every scenario once, small.
    const seen = new Set<string>()
    for (const j of jobs) if (!seen.has(j.scenario)) seen.add(j.scenario), await runJob(j, true)
    log('warmed up')

    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? jobs : [...jobs].reverse()
      for (const j of order) {
        if (r >= bulkRounds && BULK.includes(j.scenario)) continue
        const res = await runJob(j, false)
        j.runs.push(res.ms)
        j.cpu.push(res.cpuMs)
        for (const [k, v] of Object.entries(res.parts ?? {})) (j.parts[k] ??= []).push(v)
      }
      log(`round ${r + 1}/${rounds} done`)
    }

    let memory: MemoryResult | undefined
    if (withMemory && !only) {
      const events = await workers.events.request({ type: 'memory', scenario: 'load', n: memoryN, repeats: 3 }, 'memory')
      const plain = await workers.plain.request({ type: 'memory', scenario: 'load-plain', n: memoryN, repeats: 3 }, 'memory')
      memory = { n: memoryN, load: strip(events), loadPlain: strip(plain) }
      log('memory measured')
    }
    await Promise.all(Object.values(workers).map((w) => w.close()))
    report((Date.now() - started) / 1000, memory)
  } finally {
    for (const w of Object.values(workers)) w.kill()
  }
}

interface HeapSample {
  baseline: number
  held: number[]
  after: number[]
}
interface MemoryResult {
  n: number
  load: HeapSample
  loadPlain: HeapSample
}
const strip = ({ baseline, held, after }: HeapSample): HeapSample => ({ baseline, held, after })

// ---------------------------------------------------------------- report

interface Target {
  name: string
  ratio: number
  limit: number
  /** The ratio must reach the limit (a speed-up) instead of staying under it. */
  atLeast?: boolean
  pass: boolean
  /** The ratio round by round (paired runs), min and max: how much to trust it. */
  roundRange?: [number, number]
  /** The same ratio of CPU-time medians: beside the verdict, not instead of it (see bench/README.md). */
  cpuRatio?: number
}

/** A ratio reported without a limit: how the cost splits between TypeORM and the library. */
interface Reference {
  name: string
  ratio: number
  roundRange: [number, number]
  cpuRatio: number
}

function report(totalSeconds: number, memory: MemoryResult | undefined): void {
  const find = (scenario: string, n: number) => jobs.find((j) => j.scenario === scenario && j.n === n)
  const get = (scenario: string, n: number) => find(scenario, n)!
  const med = (j: Job) => median(j.runs)
  const targets: Target[] = []
  const references: Reference[] = []
  const ratioOf = (a: Job, b: Job): Omit<Reference, 'name'> => {
    const perRound = a.runs.map((x, i) => x / b.runs[i]!)
    return { ratio: med(a) / med(b), roundRange: [Math.min(...perRound), Math.max(...perRound)], cpuRatio: median(a.cpu) / median(b.cpu) }
  }
  const ratioTarget = (name: string, a: Job | undefined, b: Job | undefined, limit: number, atLeast = false) => {
    if (!a || !b) return
    const { ratio, roundRange, cpuRatio } = ratioOf(a, b)
    const pass = atLeast ? ratio >= limit : ratio <= limit
    targets.push({ name, ratio, limit, ...(atLeast ? { atLeast } : {}), pass, roundRange, cpuRatio })
  }
  const reference = (name: string, a: Job | undefined, b: Job | undefined) => {
    if (a && b) references.push({ name, ...ratioOf(a, b) })
  }
  for (const [kind, plain, floor, events, ns] of [
    ['save', 'plain', 'subscriber', 'noop', saveNs],
    ['load', 'load-plain', 'load-subscriber', 'load', loadNs],
    ['update', 'update-plain', 'update-subscriber', 'update', [N]],
  ] as const) {
    for (const n of ns) {
      const what = kind === 'save' ? ' save' : ''
      reference(`${floor}/${plain}${what}, N=${n}`, find(floor, n), find(plain, n))
      reference(`${events}/${floor}${what}, N=${n}`, find(events, n), find(floor, n))
    }
  }
  for (const n of saveNs) ratioTarget(`noop/plain save, N=${n}`, find('noop', n), find('plain', n), 1.05)
  for (const n of loadNs) ratioTarget(`load/load-plain, N=${n}`, find('load', n), find('load-plain', n), 1.1)
  ratioTarget(`realistic/handwritten, N=${N}`, find('realistic', N), find('handwritten', N), 0.8)
  ratioTarget(`update/update-plain, N=${N}`, find('update', N), find('update-plain', N), 1.1)
  // Bulk: the library's set-based events within 3x of plain TypeORM, and 10x faster than the loop.
  for (const op of ['update', 'delete']) {
    const [plain, lib, loop] = [find(`bulk-${op}-plain`, bulkN), find(`bulk-${op}`, bulkN), find(`bulk-${op}-loop`, bulkN)]
    ratioTarget(`bulk-${op}/bulk-${op}-plain, N=${bulkN}`, lib, plain, 3)
    ratioTarget(`bulk-${op}-loop/bulk-${op}, N=${bulkN}`, loop, lib, 10, true)
  }
  const perEntity = (j: Job) => med(j) / j.n
  const growth = (scenario: string, ns: number[]) => {
    const lo = ns[0]!
    const hi = ns[ns.length - 1]!
    if (lo === hi || !find(scenario, lo) || !find(scenario, hi)) return
    const ratio = perEntity(get(scenario, hi)) / perEntity(get(scenario, lo))
    targets.push({ name: `${scenario} per entity, N=${hi} / N=${lo}`, ratio, limit: 1.25, pass: ratio <= 1.25 })
  }
  growth('noop', saveNs)
  growth('load', loadNs)
  if (memory) {
    const after = memory.load.after[memory.load.after.length - 1]!
    const ratio = after / memory.load.baseline
    targets.push({ name: `heap after ${memory.n} loads dropped / baseline`, ratio, limit: 1.1, pass: ratio <= 1.1 })
  }

  // ---- table
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`
  const out: string[] = []
  out.push(
    `typeorm-event-actions benchmark: ${db}, TypeORM ${typeormVersion()}, Node ${process.version}, ${cpus().length} CPUs`,
    `N=${N}, saves chunked by ${chunk}, ${rounds} rounds (alternating order; bulk: ${bulkN} rows, ${bulkRounds} rounds), median and min-max; ${quick ? 'quick mode, ' : ''}run time ${totalSeconds.toFixed(0)} s`,
    '',
    `${'scenario'.padEnd(18)}${'N'.padStart(8)}${'median ms'.padStart(12)}${'min-max ms'.padStart(22)}${'us/entity'.padStart(11)}${'cpu us/entity'.padStart(15)}`,
  )
  for (const j of jobs) {
    const range = `${Math.min(...j.runs).toFixed(1)}-${Math.max(...j.runs).toFixed(1)}`
    let line = `${j.scenario.padEnd(18)}${String(j.n).padStart(8)}${med(j).toFixed(1).padStart(12)}${range.padStart(22)}${((med(j) * 1000) / j.n).toFixed(1).padStart(11)}${((median(j.cpu) * 1000) / j.n).toFixed(1).padStart(15)}`
    const parts = Object.entries(j.parts).map(([k, v]) => `${k.replace(/Ms$/, '')} ${median(v).toFixed(1)}`)
    if (parts.length) line += `   (${parts.join(', ')} ms)`
    out.push(line)
  }
  const range = (r: [number, number] | undefined) => (r ? `${r[0].toFixed(2)}-${r[1].toFixed(2)}` : '')
  const cpu = (x: number | undefined) => (x === undefined ? '' : x.toFixed(3))
  out.push('', `${'target'.padEnd(44)}${'ratio'.padStart(7)}${'limit'.padStart(8)}${'per round'.padStart(15)}${'cpu'.padStart(8)}  result`)
  for (const t of targets) {
    out.push(
      `${t.name.padEnd(44)}${t.ratio.toFixed(3).padStart(7)}${`${t.atLeast ? '>=' : '<='}${t.limit.toFixed(2)}`.padStart(8)}${range(t.roundRange).padStart(15)}${cpu(t.cpuRatio).padStart(8)}  ${t.pass ? 'PASS' : 'MISS'}`,
    )
  }
  if (references.length) {
    out.push('', 'reference (no limit): TypeORM with a subscriber that does nothing, against plain and against the library')
    for (const r of references) {
      out.push(`${r.name.padEnd(44)}${r.ratio.toFixed(3).padStart(7)}${''.padStart(8)}${range(r.roundRange).padStart(15)}${cpu(r.cpuRatio).padStart(8)}`)
    }
  }
  if (memory) {
    const line = (label: string, s: HeapSample) =>
      `${label.padEnd(11)} baseline ${mb(s.baseline)}, holding ${s.held.map(mb).join(' / ')}, after dropping ${s.after.map(mb).join(' / ')}`
    out.push('', `heap (after global.gc()), ${memory.n} entities loaded 3 times:`, line('load', memory.load), line('load-plain', memory.loadPlain))
  }
  const passed = targets.filter((t) => t.pass).length
  out.push('', `${passed}/${targets.length} targets met`)
  console.log(out.join('\n'))

  // ---- JSON
  const json = {
    db,
    typeorm: typeormVersion(),
    typeormMajor: typeormMajor(),
    node: process.version,
    cpus: cpus().length,
    date: new Date().toISOString(),
    quick,
    n: N,
    rounds,
    chunk,
    bulkN,
    bulkRounds,
    totalSeconds: Math.round(totalSeconds),
    scenarios: jobs.map((j) => ({
      scenario: j.scenario,
      n: j.n,
      medianMs: round1(med(j)),
      minMs: round1(Math.min(...j.runs)),
      maxMs: round1(Math.max(...j.runs)),
      usPerEntity: round1((med(j) * 1000) / j.n),
      runsMs: j.runs.map(round1),
      cpuMedianMs: round1(median(j.cpu)),
      cpuRunsMs: j.cpu.map(round1),
      ...(Object.keys(j.parts).length
        ? { partsMedianMs: Object.fromEntries(Object.entries(j.parts).map(([k, v]) => [k, round1(median(v))])) }
        : {}),
    })),
    targets: targets.map(rounded),
    references: references.map(rounded),
    memory,
  }
  mkdirSync(dirname(outFile), { recursive: true })
  const written = merge ? mergeInto(outFile, json) : json
  writeFileSync(`${outFile}.tmp`, `${JSON.stringify(written, null, 2)}\n`)
  renameSync(`${outFile}.tmp`, outFile)
  console.log(`results: ${outFile}`)
}

type Results = {
  scenarios: { scenario: string; n: number }[]
  targets: { name: string }[]
  references: { name: string }[]
  merged?: { only: string[] }[]
} & Record<string, unknown>

/**
 * --merge: the results file as it was, with this run's scenarios, targets
 * and references in place of the same ones (or added), and the run noted in
 * `merged` (its date, rounds and versions; the file's own fields stay those
 * of the run that wrote it whole).
 */
function mergeInto(file: string, run: Results): Results {
  let old: Results
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as Results
  } catch {
    return run
  }
  const replace = <T>(olds: T[], news: T[], same: (a: T, b: T) => boolean): T[] => [
    ...olds.map((o) => news.find((n) => same(n, o)) ?? o),
    ...news.filter((n) => !olds.some((o) => same(n, o))),
  ]
  const names = run.scenarios.map((s) => s.scenario)
  const { db: _db, scenarios: _s, targets: _t, references: _r, memory: _m, ...about } = run
  return {
    ...old,
    scenarios: replace(old.scenarios, run.scenarios, (a, b) => a.scenario === b.scenario && a.n === b.n),
    targets: replace(old.targets, run.targets, (a, b) => a.name === b.name),
    references: replace(old.references, run.references, (a, b) => a.name === b.name),
    merged: [...(old.merged ?? []).filter((m) => m.only.join() !== names.join()), { only: names, ...about }],
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})

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
 * round to cancel drift. A target's checked figure is the ratio of the
 * workers' CPU times, round by round: its geometric mean over the rounds and
 * a 95% t-interval (bench/stats.ts), which gives the verdict met / missed /
 * unclear; the same for wall time is reported beside it.
 *
 * Options: --quick, --n=<N> (or env N), --rounds=<R>, --chunk=<C>,
 *          --load-rounds=<R> (rounds of the load scenarios, which are cheap: default 2 x rounds),
 *          --bulk-n=<rows> (default 1,000, --quick 500), --bulk-rounds=<R> (default: rounds, --quick 3),
 *          --no-scaling, --no-memory, --out=<file>, --only=<scenario,...> (`bulk`: the six bulk ones),
 *          --merge (an --only run written into bench/results/<db>.json, replacing just its scenarios),
 *          --profile[=<dir>] (node --cpu-prof in both workers, default .tmp/bench-profiles; prints the
 *          library's top functions by self time and its self time per row inside the timed runs),
 *          --profile-interval=<µs> (the profiler's sampling interval, default 200)
 * Database: DB=sqlite|postgres|mariadb and DB_URL, as for the tests (ormconfig.ts).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { databaseName, typeormMajor } from '../ormconfig'
import { isLibrary, label, readProfile, sampleTimes } from './profile-summary'
import type { Reply, Request, Role } from './protocol'
import { meanInterval, ratioInterval, verdict, type Interval, type Verdict } from './stats'

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
const N = int(option('n') ?? process.env.N, quick ? 1_000 : 10_000)
const rounds = int(option('rounds'), quick ? 5 : 10)
/** Loads take milliseconds where saves take seconds: more rounds for them cost little and narrow their intervals. */
const loadRounds = int(option('load-rounds'), 2 * rounds)
const chunk = int(option('chunk'), 500)
/** Rows that match the criteria of the bulk scenarios, and their rounds (the loops are slow: fewer in --quick). */
const bulkN = int(option('bulk-n'), quick ? 500 : 1_000)
const bulkRounds = Math.min(rounds, int(option('bulk-rounds'), quick ? 3 : rounds))
const scaling = !flag('no-scaling')
const withMemory = !flag('no-memory')
const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b)
const saveNs = uniq(scaling ? [...(quick ? [250, 1_000] : [1_000, 10_000, 50_000]), N] : [N])
const loadNs = uniq(scaling ? [...(quick ? [1_000, 10_000] : [10_000, 100_000]), N] : [N])
const memoryN = loadNs[loadNs.length - 1]!
const profileDir = flag('profile') ? '.tmp/bench-profiles' : option('profile')
const profileInterval = int(option('profile-interval'), 200)
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
  listener: 'plain',
  'load-listener': 'plain',
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
  'load-declared': 'events',
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
    if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${resolve(profileDir, role)}`, `--cpu-prof-interval=${profileInterval}`)
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

  /** The worker's process id: its .cpuprofile is named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. */
  get pid(): number | undefined {
    return this.child.pid
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
/** Three decimals for the JSON; an unbounded end of an interval (one round) is written as null. */
const round3 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null)

interface Job {
  scenario: string
  n: number
  runs: number[]
  /** CPU time of the worker process in the same runs (user + system). */
  cpu: number[]
  /** Start and end of the same runs on the clock of process.hrtime(), in µs: where they are in a .cpuprofile. */
  windows: [number, number][]
  parts: Record<string, number[]>
}

const jobs: Job[] = []
const job = (scenario: string, n: number): Job => {
  let j = jobs.find((x) => x.scenario === scenario && x.n === n)
  if (!j) jobs.push((j = { scenario, n, runs: [], cpu: [], windows: [], parts: {} }))
  return j
}

// The order of one round: each pair (with its empty-subscriber reference between) side by side,
// so that reversing the order every other round alternates them.
job('plain', N), job('subscriber', N), job('listener', N), job('noop', N)
job('handwritten', N), job('realistic', N)
job('load-plain', N), job('load-subscriber', N), job('load-listener', N), job('load', N), job('load-declared', N)
job('update-plain', N), job('update-subscriber', N), job('update', N)
// Bulk: plain TypeORM (a), the library's set-based events, the find + save/remove loop (b).
job('bulk-update-plain', bulkN), job('bulk-update', bulkN), job('bulk-update-loop', bulkN)
job('bulk-delete-plain', bulkN), job('bulk-delete', bulkN), job('bulk-delete-loop', bulkN)
for (const n of saveNs) if (n !== N) job('plain', n), job('subscriber', n), job('listener', n), job('noop', n)
for (const n of loadNs) if (n !== N) job('load-plain', n), job('load-subscriber', n), job('load-listener', n), job('load', n), job('load-declared', n)
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
    `bench on ${db}: N=${N}, save N ${saveNs.join('/')}, load N ${loadNs.join('/')}, ${rounds} rounds (loads ${loadRounds}), chunk ${chunk}, ` +
      `bulk ${bulkN} rows ${bulkRounds} rounds${quick ? ' (quick)' : ''}${only ? `, only ${only.join(',')}` : ''}`,
  )

  const workers: Record<Role, Worker> = { plain: new Worker('plain'), events: new Worker('events') }
  try {
    // One at a time on a server, where both would synchronize their schemas at once; SQLite's
    // databases are in memory, one per DataSource, so both workers set up at the same time.
    // Load tables are seeded only when a load scenario runs (--only).
    const seedNs = jobs.some((j) => j.scenario.startsWith('load')) ? loadNs : []
    const init = (w: Worker) => w.request({ type: 'init', role: w.role, loadNs: seedNs, chunk }, 'ready')
    if (db === 'sqlite') await Promise.all(Object.values(workers).map(init))
    else for (const w of Object.values(workers)) await init(w)
    log('workers ready, tables seeded')

    const runJob = async (j: Job, warmup: boolean) => {
      // Warm-up runs are small (the bulk loops take about a second for 1,000 rows; --quick: half).
      const n = warmup ? Math.min(j.n, N, BULK.includes(j.scenario) ? 200 : quick ? 500 : 1_000) : j.n
      return workers[ROLE_OF[j.scenario]!].request({ type: 'run', scenario: j.scenario, n, warmup }, 'result')
    }
    // Warm-up: every scenario once, small.
    const seen = new Set<string>()
    for (const j of jobs) if (!seen.has(j.scenario)) seen.add(j.scenario), await runJob(j, true)
    log('warmed up')

    const roundsOf = (j: Job) => (BULK.includes(j.scenario) ? bulkRounds : j.scenario.startsWith('load') ? loadRounds : rounds)
    const allRounds = Math.max(...jobs.map(roundsOf))
    for (let r = 0; r < allRounds; r++) {
      const order = r % 2 === 0 ? jobs : [...jobs].reverse()
      for (const j of order) {
        if (r >= roundsOf(j)) continue
        const res = await runJob(j, false)
        j.runs.push(res.ms)
        j.cpu.push(res.cpuMs)
        j.windows.push([res.startUs, res.endUs])
        for (const [k, v] of Object.entries(res.parts ?? {})) (j.parts[k] ??= []).push(v)
      }
      log(`round ${r + 1}/${allRounds} done`)
    }

    let memory: MemoryResult | undefined
    if (withMemory && !only) {
      const events = await workers.events.request({ type: 'memory', scenario: 'load', n: memoryN, repeats: 3 }, 'memory')
      const plain = await workers.plain.request({ type: 'memory', scenario: 'load-plain', n: memoryN, repeats: 3 }, 'memory')
      memory = { n: memoryN, load: strip(events), loadPlain: strip(plain) }
      log('memory measured')
    }
    const pids = { plain: workers.plain.pid, events: workers.events.pid }
    await Promise.all(Object.values(workers).map((w) => w.close()))
    const profile = profileDir === undefined ? undefined : summarizeProfiles(profileDir, pids)
    report((Date.now() - started) / 1000, memory, profile)
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

/** A ratio over the rounds: the geometric mean of its per-round ratios and a 95% t-interval (bench/stats.ts). */
interface RatioFigure {
  ratio: number
  ci: [number, number]
  perRound: number[]
}

interface Target {
  name: string
  /** The checked figure: the ratio of the workers' CPU times (`cpu`), or of heap sizes (`heap`). */
  basis: 'cpu' | 'heap'
  /** The checked ratio (geometric mean over the rounds) and its 95% interval. */
  ratio: number
  ci: [number, number]
  limit: number
  /** The ratio must reach the limit (a speed-up) instead of staying under it. */
  atLeast?: boolean
  /** met: the whole interval within the limit; missed: the whole interval beyond it; unclear: the limit inside it. */
  verdict: Verdict
  /** verdict === 'met'. */
  pass: boolean
  perRound: number[]
  /** The same ratio of wall times, reported beside the checked one (cpu basis). */
  wall?: RatioFigure
}

/** A ratio reported without a limit: how the cost splits between TypeORM and the library. */
interface Reference {
  name: string
  ratio: number
  ci: [number, number]
  perRound: number[]
  wall: RatioFigure
}

/** Library self time per row inside one scenario's timed runs (profile mode). */
interface PerRow {
  scenario: string
  n: number
  unit: string
  runs: number
  /** Library (src/) self time per run, mean, and all the time sampled in the run, mean (ms). */
  libraryMs: number
  sampledMs: number
  usPerRow: number
  ci: [number, number]
  /** Run by run, in the order of the rounds. */
  perRun: number[]
  limit?: number
  verdict?: Verdict
}

interface ProfileSummary {
  dir: string
  intervalUs: number
  file: string
  /**
   * Inside the timed runs of the events worker: the time the samples stand for (their deltas capped
   * at PROFILE_CAP intervals), the same uncapped, wall time, and the library's self time (ms, capped).
   */
  sampledMs: number
  uncappedMs: number
  wallMs: number
  libraryMs: number
  /** The library's functions with the most self time inside the timed runs. */
  top: { fn: string; ms: number }[]
  perRow: PerRow[]
}

const ROOT = resolve(__dirname, '..')
/** A sample counts for the time since the previous one, at most this many sampling intervals (profile-summary.ts, sampleTimes). */
const PROFILE_CAP = 2
/** The issue's limits on library code per row, in the CPU profile (µs). */
const PER_ROW_LIMIT: Record<string, number> = { load: 0.15, noop: 0.8 }
const UNIT: Record<string, string> = { noop: 'saved entity', realistic: 'saved entity', load: 'loaded row', update: 'updated entity' }

/**
 * The events worker's profile, cut into the timed runs (by their hrtime
 * windows): the library's top functions by self time, and its self time per
 * row of each scenario, run by run (mean and 95% t-interval).
 */
function summarizeProfiles(dir: string, pids: Partial<Record<Role, number>>): ProfileSummary | undefined {
  const folder = resolve(dir, 'events')
  const name = readdirSync(folder).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${pids.events}.`))
  if (!name) {
    process.stderr.write(`no .cpuprofile of the events worker (pid ${pids.events}) in ${folder}\n`)
    return undefined
  }
  const file = join(folder, name)
  const profile = readProfile(file)
  const { at, ms } = sampleTimes(profile, PROFILE_CAP * profileInterval)
  const raw = sampleTimes(profile).ms
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const timed = jobs.filter((j) => ROLE_OF[j.scenario] === 'events')
  const windows = timed
    .flatMap((j) => j.windows.map(([start, end], run) => ({ start, end, j, run })))
    .sort((a, b) => a.start - b.start)
  const lib = new Map(timed.map((j) => [j, j.windows.map(() => 0)]))
  const sampled = new Map(timed.map((j) => [j, j.windows.map(() => 0)]))
  let rawMs = 0
  const top = new Map<string, number>()
  let w = 0
  profile.samples.forEach((id, i) => {
    while (w < windows.length && windows[w]!.end < at[i]!) w++
    const win = windows[w]
    if (!win || win.start > at[i]!) return
    sampled.get(win.j)![win.run]! += ms[i]!
    rawMs += raw[i]!
    const node = byId.get(id)!
    if (!isLibrary(node, ROOT)) return
    lib.get(win.j)![win.run]! += ms[i]!
    const l = label(node, ROOT)
    top.set(l, (top.get(l) ?? 0) + ms[i]!)
  })
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0)
  const perRow = timed.map((j): PerRow => {
    const perRun = lib.get(j)!.map((x) => (x * 1000) / j.n)
    const iv = meanInterval(perRun)
    iv.ci[0] = Math.max(0, iv.ci[0]) // a time is not negative
    const limit = PER_ROW_LIMIT[j.scenario]
    return {
      scenario: j.scenario,
      n: j.n,
      unit: UNIT[j.scenario] ?? 'row',
      runs: perRun.length,
      libraryMs: sum(lib.get(j)!) / perRun.length,
      sampledMs: sum(sampled.get(j)!) / perRun.length,
      usPerRow: iv.estimate,
      ci: iv.ci,
      perRun,
      ...(limit === undefined ? {} : { limit, verdict: verdict(iv.ci, limit) }),
    }
  })
  return {
    dir,
    intervalUs: profileInterval,
    file,
    sampledMs: sum([...sampled.values()].flat()),
    uncappedMs: rawMs,
    wallMs: sum(timed.flatMap((j) => j.runs)),
    libraryMs: sum([...lib.values()].flat()),
    top: [...top]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([fn, t]) => ({ fn, ms: t })),
    perRow,
  }
}

function report(totalSeconds: number, memory: MemoryResult | undefined, profile: ProfileSummary | undefined): void {
  const find = (scenario: string, n: number) => jobs.find((j) => j.scenario === scenario && j.n === n)
  const med = (j: Job) => median(j.runs)
  const targets: Target[] = []
  const references: Reference[] = []
  /** a[i] / b[i] round by round (paired: the same round, side by side), times `scale`. */
  const paired = (a: number[], b: number[], scale = 1) => a.slice(0, Math.min(a.length, b.length)).map((x, i) => (x / b[i]!) * scale)
  const figure = (perRound: number[]): RatioFigure => {
    const iv: Interval = ratioInterval(perRound)
    return { ratio: iv.estimate, ci: iv.ci, perRound }
  }
  const addTarget = (name: string, basis: Target['basis'], perRound: number[], limit: number, atLeast = false, wall?: RatioFigure) => {
    const { ratio, ci } = figure(perRound)
    const v = verdict(ci, limit, atLeast)
    targets.push({ name, basis, ratio, ci, limit, ...(atLeast ? { atLeast } : {}), verdict: v, pass: v === 'met', perRound, ...(wall ? { wall } : {}) })
  }
  const ratioTarget = (name: string, a: Job | undefined, b: Job | undefined, limit: number, atLeast = false, scale = 1) => {
    if (a && b) addTarget(name, 'cpu', paired(a.cpu, b.cpu, scale), limit, atLeast, figure(paired(a.runs, b.runs, scale)))
  }
  const reference = (name: string, a: Job | undefined, b: Job | undefined) => {
    if (a && b) references.push({ name, ...figure(paired(a.cpu, b.cpu)), wall: figure(paired(a.runs, b.runs)) })
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
  // Issue 18's limits (issue 6 had 1.10 for loads and 0.80 for realistic).
  for (const n of loadNs) ratioTarget(`load/load-plain, N=${n}`, find('load', n), find('load-plain', n), 1.05)
  // The `handles` path: an entity that declares the types it handles, Load left out.
  for (const n of loadNs) reference(`load-declared/load-plain, N=${n}`, find('load-declared', n), find('load-plain', n))
  // TypeORM's own no-op entity listeners: the least a per-entity hook costs there.
  for (const n of saveNs) reference(`listener/plain save, N=${n}`, find('listener', n), find('plain', n))
  for (const n of loadNs) reference(`load-listener/load-plain, N=${n}`, find('load-listener', n), find('load-plain', n))
  ratioTarget(`realistic/handwritten, N=${N}`, find('realistic', N), find('handwritten', N), 0.5)
  ratioTarget(`update/update-plain, N=${N}`, find('update', N), find('update-plain', N), 1.1)
  // Bulk: the library's set-based events within 3x of plain TypeORM, and 10x faster than the loop.
  for (const op of ['update', 'delete']) {
    const [plain, lib, loop] = [find(`bulk-${op}-plain`, bulkN), find(`bulk-${op}`, bulkN), find(`bulk-${op}-loop`, bulkN)]
    ratioTarget(`bulk-${op}/bulk-${op}-plain, N=${bulkN}`, lib, plain, 3)
    ratioTarget(`bulk-${op}-loop/bulk-${op}, N=${bulkN}`, loop, lib, 10, true)
  }
  // Growth: the cost per entity at the largest N over that at the smallest, round by round.
  const growth = (scenario: string, ns: number[]) => {
    const lo = ns[0]!
    const hi = ns[ns.length - 1]!
    if (lo === hi) return
    ratioTarget(`${scenario} per entity, N=${hi} / N=${lo}`, find(scenario, hi), find(scenario, lo), 1.25, false, lo / hi)
  }
  growth('noop', saveNs)
  growth('load', loadNs)
  // Heap, repeat by repeat (the repeats are paired by their index).
  const perEntity = (s: HeapSample) => s.held.map((h) => (h - s.baseline) / memory!.n)
  if (memory) {
    addTarget(`heap per loaded entity, load/load-plain, N=${memory.n}`, 'heap', paired(perEntity(memory.load), perEntity(memory.loadPlain)), 1.1)
    addTarget(`heap after ${memory.n} loads dropped / baseline`, 'heap', memory.load.after.map((a) => a / memory.load.baseline), 1.1)
  }

  // ---- table
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`
  const fix = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : x > 0 ? 'inf' : x < 0 ? '-inf' : '?')
  const ci = (c: [number, number], d = 2) => `${fix(c[0], d)}-${fix(c[1], d)}`
  const out: string[] = []
  out.push(
    `typeorm-event-actions benchmark: ${db}, TypeORM ${typeormVersion()}, Node ${process.version}, ${cpus().length} CPUs`,
    `N=${N}, saves chunked by ${chunk}, ${rounds} rounds (alternating order; loads: ${loadRounds} rounds; bulk: ${bulkN} rows, ${bulkRounds} rounds), median and min-max; ${quick ? 'quick mode, ' : ''}run time ${totalSeconds.toFixed(0)} s`,
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
  const head = (first: string) =>
    `${first.padEnd(50)}${'limit'.padStart(8)}${'ratio'.padStart(8)}${'95% CI'.padStart(15)}${'wall'.padStart(8)}${'wall 95% CI'.padStart(15)}`
  const row = (name: string, limit: string, r: { ratio: number; ci: [number, number] }, wall: RatioFigure | undefined) =>
    `${name.padEnd(50)}${limit.padStart(8)}${fix(r.ratio, 3).padStart(8)}${ci(r.ci).padStart(15)}${(wall ? fix(wall.ratio, 3) : '').padStart(8)}${(wall ? ci(wall.ci) : '').padStart(15)}`
  out.push(
    '',
    `targets: ratio = geometric mean of the per-round ratios of CPU time (heap: of heap sizes), the checked figure;`,
    `95% CI = t-interval on their logarithms; met / missed: the whole interval within / beyond the limit, else unclear`,
    `${head('target')}  verdict`,
  )
  for (const t of targets) {
    const limit = `${t.atLeast ? '>=' : '<='}${t.limit.toFixed(2)}`
    out.push(`${row(t.name, limit, t, t.wall)}  ${t.verdict}`)
  }
  if (references.length) {
    out.push('', 'reference (no limit): TypeORM with a subscriber or entity listeners that do nothing, against plain and against the library', head('reference'))
    for (const r of references) out.push(row(r.name, '', r, r.wall))
  }
  if (memory) {
    const line = (label: string, s: HeapSample) =>
      `${label.padEnd(11)} baseline ${mb(s.baseline)}, holding ${s.held.map(mb).join(' / ')}, after dropping ${s.after.map(mb).join(' / ')}; ` +
      `${median(perEntity(s)).toFixed(0)} bytes per loaded entity`
    out.push('', `heap (after global.gc()), ${memory.n} entities loaded 3 times:`, line('load', memory.load), line('load-plain', memory.loadPlain))
  }
  if (profile) {
    const { sampledMs, uncappedMs, wallMs, libraryMs } = profile
    out.push(
      '',
      `profile of the events worker (sampled every ${profile.intervalUs} µs): ${relative(process.cwd(), profile.file)}`,
      `inside the timed runs: ${sampledMs.toFixed(0)} ms sampled, each sample counting at most ${PROFILE_CAP} intervals ` +
        `(${uncappedMs.toFixed(0)} ms uncapped, ${wallMs.toFixed(0)} ms wall)`,
      `library (src/) self time ${libraryMs.toFixed(1)} ms (${((100 * libraryMs) / sampledMs).toFixed(1)} %)`,
      '',
      `top ${profile.top.length} library functions by self time, inside the timed runs:`,
      `${'ms'.padStart(9)}${'% lib'.padStart(8)}${'% all'.padStart(8)}  function`,
    )
    for (const { fn, ms } of profile.top) {
      out.push(`${ms.toFixed(1).padStart(9)}${((100 * ms) / libraryMs).toFixed(1).padStart(8)}${((100 * ms) / sampledMs).toFixed(1).padStart(8)}  ${fn}`)
    }
    out.push(
      '',
      'library self time per row inside the timed runs (mean of the runs, 95% t-interval):',
      `${'scenario'.padEnd(18)}${'N'.padStart(8)}${'runs'.padStart(6)}${'lib ms/run'.padStart(12)}${'of ms'.padStart(9)}${'µs/row'.padStart(9)}${'95% CI'.padStart(15)}${'limit'.padStart(8)}  per`,
    )
    for (const r of profile.perRow) {
      const limit = r.limit === undefined ? '' : `<=${r.limit.toFixed(2)}`
      out.push(
        `${r.scenario.padEnd(18)}${String(r.n).padStart(8)}${String(r.runs).padStart(6)}${r.libraryMs.toFixed(1).padStart(12)}${r.sampledMs.toFixed(0).padStart(9)}` +
          `${fix(r.usPerRow, 3).padStart(9)}${ci(r.ci, 3).padStart(15)}${limit.padStart(8)}  ${r.unit}${r.verdict ? `: ${r.verdict}` : ''}`,
      )
    }
  }
  const verdicts = [...targets.map((t) => t.verdict), ...(profile?.perRow.flatMap((r) => (r.verdict ? [r.verdict] : [])) ?? [])]
  const counted = (v: Verdict) => verdicts.filter((x) => x === v).length
  out.push('', `${verdicts.length} targets${profile ? ' (with the profile\'s)' : ''}: ${counted('met')} met, ${counted('missed')} missed, ${counted('unclear')} unclear`)
  console.log(out.join('\n'))

  // ---- JSON
  const ratioJson = (f: RatioFigure) => ({ ratio: round3(f.ratio), ci: f.ci.map(round3), perRound: f.perRound.map(round3) })
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
    loadRounds,
    chunk,
    bulkN,
    bulkRounds,
    totalSeconds: Math.round(totalSeconds),
    method:
      'targets: ratio = geometric mean of per-round CPU-time ratios of the worker processes (heap: heap sizes), ci = 95% t-interval on their logarithms; ' +
      'verdict met/missed/unclear: interval within / beyond / across the limit',
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
    targets: targets.map((t) => ({ ...t, ...ratioJson(t), ...(t.wall ? { wall: ratioJson(t.wall) } : {}) })),
    references: references.map((r) => ({ ...r, ...ratioJson(r), wall: ratioJson(r.wall) })),
    memory: memory && {
      ...memory,
      bytesPerLoadedEntity: { load: perEntity(memory.load).map(Math.round), loadPlain: perEntity(memory.loadPlain).map(Math.round) },
    },
    ...(profile
      ? {
          profile: {
            ...profile,
            file: relative(ROOT, profile.file),
            sampledMs: round1(profile.sampledMs),
            uncappedMs: round1(profile.uncappedMs),
            capIntervals: PROFILE_CAP,
            wallMs: round1(profile.wallMs),
            libraryMs: round1(profile.libraryMs),
            top: profile.top.map((f) => ({ ...f, ms: round1(f.ms) })),
            perRow: profile.perRow.map((r) => ({
              ...r,
              libraryMs: round3(r.libraryMs),
              sampledMs: round1(r.sampledMs),
              usPerRow: round3(r.usPerRow),
              ci: r.ci.map(round3),
              perRun: r.perRun.map(round3),
            })),
          },
        }
      : {}),
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

/**
 * Summarizes a .cpuprofile (node --cpu-prof; npm run bench -- --profile):
 * the functions with the most self time, and the inclusive time of every
 * function of the library (src/), in ms and as a share of the profile.
 *
 *   npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [top=25] [filter= src/] [under]
 *
 * With `under` (a function name), also the self time of everything called
 * below that function: where the time of, say, afterLoad goes.
 *
 * Also a module: run.ts uses readProfile, sampleTimes, label and isLibrary
 * to print the library's top functions by self time, and its self time per
 * row, inside the timed runs of a profiled bench.
 */
import { readFileSync } from 'node:fs'
import { sep } from 'node:path'

export interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
export interface Profile {
  nodes: ProfileNode[]
  /** Microseconds, on the clock of process.hrtime(). */
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export const readProfile = (file: string): Profile => JSON.parse(readFileSync(file, 'utf8')) as Profile

/**
 * Where a sample was taken, on the clock of process.hrtime() (µs), and the
 * time it stands for (ms): the time since the previous sample, at most
 * `capUs` if given. On a loaded machine the process (or the profiler's
 * sampling thread) is descheduled now and then, and the next sample's delta
 * takes in the whole gap, milliseconds in which the process did not run:
 * a cap keeps those from landing on whatever function happened to be on
 * the stack when the process ran again.
 */
export function sampleTimes(profile: Profile, capUs = Infinity): { at: Float64Array; ms: Float64Array } {
  const at = new Float64Array(profile.samples.length)
  const ms = new Float64Array(profile.samples.length)
  let t = profile.startTime
  profile.timeDeltas.forEach((d, i) => {
    t += d
    at[i] = t
    ms[i] = Math.min(d, capUs) / 1000
  })
  return { at, ms }
}

/** A node's path, relative to `root` (default: the working directory). */
const pathOf = (url: string, root: string): string => url.replace(/^file:\/\//, '').replace(`${root}${sep}`, '')

/** `functionName path:line` of a node. */
export function label(n: ProfileNode, root = process.cwd()): string {
  const { functionName, url, lineNumber } = n.callFrame
  const short = pathOf(url, root)
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim()
}

/** Whether a node's code is the library's: a file under `<root>/src/`. */
export const isLibrary = (n: ProfileNode, root = process.cwd()): boolean =>
  pathOf(n.callFrame.url, root).startsWith(`src${sep}`)

/** Self time (ms) per function label of the samples for which `keep(i)` holds (every sample by default). */
export function selfTimes(profile: Profile, keep: (i: number) => boolean = () => true, root = process.cwd()) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const { ms } = sampleTimes(profile)
  const self = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    if (!keep(i)) return
    total += ms[i]!
    const l = label(byId.get(id)!, root)
    self.set(l, (self.get(l) ?? 0) + ms[i]!)
  })
  return { self, total }
}

function main(): void {
  const [file, topArg, filterArg, under] = process.argv.slice(2)
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top] [filter]')
  const top = Number(topArg ?? 25)
  const filter = filterArg ?? ' src/'
  const profile = readProfile(file)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const { ms } = sampleTimes(profile)

  const { self, total } = selfTimes(profile)
  const selfUnder = new Map<string, number>()
  let totalUnder = 0
  const inclusive = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const dt = ms[i]!
    const leaf = byId.get(id)!
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!
      const l = label(n)
      if (under && n.callFrame.functionName === under && !seen.has(`under ${under}`)) {
        seen.add(`under ${under}`)
        totalUnder += dt
        selfUnder.set(label(leaf), (selfUnder.get(label(leaf)) ?? 0) + dt)
      }
      if (seen.has(l)) continue
      seen.add(l)
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt)
    }
  })

  const show = (title: string, entries: [string, number][]) => {
    console.log(`\n${title}`)
    for (const [name, t] of entries) console.log(`${t.toFixed(1).padStart(10)} ms ${((100 * t) / total).toFixed(1).padStart(5)} %  ${name}`)
  }
  console.log(`profile: ${total.toFixed(0)} ms sampled`)
  show(`top ${top} by self time`, [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  show(`inclusive time of functions matching ${filter}`, [...inclusive].filter(([n]) => n.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top))
  if (under) {
    console.log(`\nbelow ${under}: ${totalUnder.toFixed(1)} ms in all`)
    show(`self time below ${under}`, [...selfUnder].sort((a, b) => b[1] - a[1]).slice(0, top))
  }
}

if (require.main === module) main()

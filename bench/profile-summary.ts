/**
 * Summarizes a .cpuprofile (node --cpu-prof; npm run bench -- --profile):
 * the functions with the most self time, and the inclusive time of every
 * function of the library (src/), in ms and as a share of the profile.
 *
 *   npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [top=25] [filter= src/] [under]
 *
 * With `under` (a function name), also the self time of everything called
 * below that function: where the time of, say, afterLoad goes.
 */
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg, filterArg, under] = process.argv.slice(2)
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top] [filter]')
const top = Number(topArg ?? 25)
const filter = filterArg ?? ' src/'
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const label = (n: Node): string => {
  const { functionName, url, lineNumber } = n.callFrame
  const short = url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '')
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim()
}

const self = new Map<string, number>()
const selfUnder = new Map<string, number>()
let totalUnder = 0
const inclusive = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000
  total += dt
  const leaf = byId.get(id)!
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt)
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
  for (const [name, ms] of entries) console.log(`${ms.toFixed(1).padStart(10)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${name}`)
}
console.log(`profile: ${total.toFixed(0)} ms sampled`)
show(`top ${top} by self time`, [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
show(`inclusive time of functions matching ${filter}`, [...inclusive].filter(([n]) => n.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top))
if (under) {
  console.log(`\nbelow ${under}: ${totalUnder.toFixed(1)} ms in all`)
  show(`self time below ${under}`, [...selfUnder].sort((a, b) => b[1] - a[1]).slice(0, top))
}

/**
 * The bench's statistics: 95% confidence intervals and the met / missed /
 * unclear verdict of a target (bench/README.md, "Intervals and verdicts").
 *
 * A ratio's interval is a Student t-interval on the logarithms of its
 * per-round ratios (rounds are paired: both sides ran in the same round,
 * next to each other), taken back with exp(): the estimate is the geometric
 * mean of the per-round ratios. Logarithms make the interval symmetric for
 * a ratio and its inverse, and a t-interval stays honest with the few rounds
 * the bench can afford (a bootstrap of 3 to 10 values is too narrow).
 */

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
]

/** The 0.975 quantile of Student's t with `df` degrees of freedom. */
export function t975(df: number): number {
  if (df < 1) return Infinity
  if (df <= T975.length) return T975[df - 1]!
  // Cornish-Fisher expansion around the normal quantile: within 0.001 above 30.
  const z = 1.959964
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df)
}

export interface Interval {
  /** The estimate: the mean (of the logarithms, taken back, for a ratio). */
  estimate: number
  /** 95% interval; [-Infinity, Infinity] (or [0, Infinity]) with fewer than 2 values. */
  ci: [number, number]
  /** How many values (rounds) it rests on. */
  k: number
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
const sd = (xs: number[]) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1))
}

/** Mean and t-interval of plain values (library µs per row, run by run). */
export function meanInterval(xs: number[]): Interval {
  const k = xs.length
  if (k === 0) return { estimate: NaN, ci: [NaN, NaN], k }
  const m = mean(xs)
  if (k < 2) return { estimate: m, ci: [-Infinity, Infinity], k }
  const h = (t975(k - 1) * sd(xs)) / Math.sqrt(k)
  return { estimate: m, ci: [m - h, m + h], k }
}

/** Geometric mean and t-interval of positive ratios, computed on their logarithms. */
export function ratioInterval(ratios: number[]): Interval {
  const ok = ratios.filter((r) => r > 0 && Number.isFinite(r))
  if (ok.length === 0) return { estimate: NaN, ci: [NaN, NaN], k: 0 }
  const logs = meanInterval(ok.map(Math.log))
  return { estimate: Math.exp(logs.estimate), ci: [Math.exp(logs.ci[0]), Math.exp(logs.ci[1])], k: ok.length }
}

export type Verdict = 'met' | 'missed' | 'unclear'

/**
 * `met` when the whole interval is on the right side of the limit (its
 * upper bound within an "at most" limit, its lower bound at or above an
 * "at least" one), `missed` when the whole interval is beyond it,
 * `unclear` when the limit falls inside the interval.
 */
export function verdict([lo, hi]: [number, number], limit: number, atLeast = false): Verdict {
  if (Number.isNaN(lo) || Number.isNaN(hi)) return 'unclear'
  if (atLeast) return lo >= limit ? 'met' : hi < limit ? 'missed' : 'unclear'
  return hi <= limit ? 'met' : lo > limit ? 'missed' : 'unclear'
}

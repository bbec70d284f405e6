/**
 * Latencies in fixed logarithmic buckets (5% wide, 0.1 ms to about 10 min):
 * percentiles in constant memory, however many actions run.
 */
export class LatencyHistogram {
  private static readonly MIN = 0.1
  private static readonly RATIO = 1.05
  private readonly buckets = new Float64Array(320)
  private count = 0
  private max = 0

  add(ms: number): void {
    const i = ms <= LatencyHistogram.MIN ? 0 : Math.min(this.buckets.length - 1, Math.ceil(Math.log(ms / LatencyHistogram.MIN) / Math.log(LatencyHistogram.RATIO)))
    this.buckets[i]!++
    this.count++
    if (ms > this.max) this.max = ms
  }

  /** The upper bound of the bucket holding the `q` quantile (0..1), in ms. */
  quantile(q: number): number {
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!
      if (seen >= rank && seen > 0) return Math.min(this.max, LatencyHistogram.MIN * LatencyHistogram.RATIO ** i)
    }
    return this.max
  }

  summary(): { p50: number; p95: number; p99: number; max: number } {
    const r = (n: number) => Number(n.toFixed(1))
    return { p50: r(this.quantile(0.5)), p95: r(this.quantile(0.95)), p99: r(this.quantile(0.99)), max: r(this.max) }
  }
}

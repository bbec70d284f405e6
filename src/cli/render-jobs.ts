import type { FailedJob, JobCounts } from '../jobs/job-backend'
import { oneLine } from './cli-error'
import { renderTable } from './text-table'

/** What `jobs` shows: the engine, the counts per job name, and the newest failed jobs. */
export interface JobsReport {
  readonly engine: string
  readonly counts: readonly JobCounts[]
  readonly failed: readonly FailedJob[]
  /** The most failed jobs shown: when `failed` has this many, there may be more. */
  readonly limit: number
}

const MAX_ERROR = 80

/** An error on one line, cut short so that a long driver message cannot wreck the table (`--json` has it whole). */
function shortError(error: string): string {
  const line = oneLine(error)
  return line.length > MAX_ERROR ? `${line.slice(0, MAX_ERROR - 3)}...` : line
}

/** `jobs` as text: a table of counts per job name, then a table of the failed jobs, newest first. */
export function renderJobs(report: JobsReport): string {
  const out: string[] = []
  if (report.counts.length === 0) {
    out.push(`no jobs (engine ${report.engine})`)
  } else {
    const total = (key: 'pending' | 'active' | 'failed'): number => report.counts.reduce((sum, c) => sum + c[key], 0)
    out.push(`jobs by name (engine ${report.engine}): ${total('pending')} pending, ${total('active')} active, ${total('failed')} failed`, '')
    out.push(renderTable(['name', 'pending', 'active', 'failed'], report.counts.map((c) => [c.name, String(c.pending), String(c.active), String(c.failed)])))
  }
  out.push('')
  if (report.failed.length === 0) {
    out.push('no failed jobs')
  } else {
    const more = report.failed.length >= report.limit ? `, the newest ${report.limit} shown` : ''
    out.push(`failed jobs, newest first${more} (retry: jobs retry <id>, delete: jobs discard <id>):`, '')
    out.push(
      renderTable(
        ['id', 'name', 'key', 'attempts', 'last error'],
        report.failed.map((f) => [f.id, f.name, f.key, String(f.attempts), shortError(f.error)]),
      ),
    )
  }
  return `${out.join('\n')}\n`
}

/** `jobs --json`: the same, every field whole, for scripts. */
export function jobsJson(report: JobsReport): string {
  const counts = report.counts.map(({ name, pending, active, failed }) => ({ name, pending, active, failed }))
  const failed = report.failed.map(({ id, name, key, attempts, error }) => ({ id, name, key, attempts, error }))
  return `${JSON.stringify({ engine: report.engine, counts, failed }, null, 2)}\n`
}

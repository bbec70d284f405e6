import type { DataSource } from 'typeorm'
import { describeValue } from '../basics/describe-value'
import { HardError } from '../basics/errors'
import type { FailedJob, JobCounts } from './job-backend'
import { OUTBOX_JOB_PREFIX } from './bullmq-options'
import { wholeOption } from './check-job-settings'
import type { BullJob, BullJobState, BullQueue } from './bullmq-types'
import { outboxSql } from './outbox-sql'

// Jobs are read a page at a time: a page holds whole jobs, payloads included.
const PAGE = 200
const PENDING_STATES: readonly BullJobState[] = ['wait', 'paused', 'delayed', 'prioritized', 'waiting-children']

type Tally = Map<string, { pending: number; active: number; failed: number }>

function countIn(tally: Tally, name: string, field: 'pending' | 'active' | 'failed', n: number): void {
  let row = tally.get(name)
  if (!row) tally.set(name, (row = { pending: 0, active: 0, failed: 0 }))
  row[field] += n
}

/** Every job of `state`, page by page (a moving snapshot: jobs change state meanwhile). */
async function eachJob(queue: BullQueue, state: BullJobState, visit: (job: BullJob) => boolean | void): Promise<void> {
  for (let start = 0; ; start += PAGE) {
    // Newest first, which is what failed() lists.
    const jobs = await queue.getJobs([state], start, start + PAGE - 1, false)
    for (const job of jobs) if (job && visit(job) === false) return
    if (jobs.length < PAGE) return
  }
}

/** @internal Pending (outbox and BullMQ), active and failed jobs per name. */
export async function countJobs(dataSource: DataSource, queue: BullQueue): Promise<JobCounts[]> {
  const sql = outboxSql(dataSource, 'cannot count jobs')
  const tally: Tally = new Map()
  const name = sql.column('name')
  const rows: { name: string; n: number | string }[] = await dataSource.query(
    `SELECT ${name} AS ${dataSource.driver.escape('name')}, COUNT(*) AS ${dataSource.driver.escape('n')} FROM ${sql.table} WHERE ${sql.column('sentAt')} IS NULL GROUP BY ${name}`,
  )
  for (const row of rows) countIn(tally, row.name, 'pending', Number(row.n))
  for (const state of PENDING_STATES) await eachJob(queue, state, (job) => countIn(tally, job.name, 'pending', 1))
  await eachJob(queue, 'active', (job) => countIn(tally, job.name, 'active', 1))
  await eachJob(queue, 'failed', (job) => countIn(tally, job.name, 'failed', 1))
  return [...tally].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, c]) => ({ name: n, ...c }))
}

function failedJob(job: BullJob): FailedJob {
  const id = job.id ?? ''
  const data = job.data as { key?: unknown } | null
  return {
    id: id.startsWith(OUTBOX_JOB_PREFIX) ? id.slice(OUTBOX_JOB_PREFIX.length) : id,
    name: job.name,
    key: typeof data?.key === 'string' ? data.key : '',
    attempts: job.attemptsMade,
    error: job.failedReason ?? '',
  }
}

/** @internal The failed jobs (of `name`, or all), newest first, at most `limit`. */
export async function failedJobs(queue: BullQueue, name: string | undefined, limit: number): Promise<FailedJob[]> {
  wholeOption('bullMqJobs', 'failed() limit', limit, 100, 1)
  const out: FailedJob[] = []
  await eachJob(queue, 'failed', (job) => {
    if (name === undefined || job.name === name) out.push(failedJob(job))
    return out.length < limit
  })
  return out
}

/** @internal The failed job of outbox id `id` (or of BullMQ job id `ob_<id>`), or undefined. */
async function failedById(queue: BullQueue, id: string, what: string): Promise<BullJob | undefined> {
  if (typeof id !== 'string' || id.trim() === '') throw new HardError(`${what}: the job id must be a non-empty string, got ${describeValue(id)}`)
  const job = await queue.getJob(id.startsWith(OUTBOX_JOB_PREFIX) ? id : `${OUTBOX_JOB_PREFIX}${id}`)
  return job && (await job.isFailed()) ? job : undefined
}

/** @internal Puts a failed job back to wait, with a fresh set of retries; false when no failed job has that id. */
export async function retryJob(queue: BullQueue, id: string): Promise<boolean> {
  const job = await failedById(queue, id, 'retry')
  if (!job) return false
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
  return true
}

/** @internal Deletes a failed job; false when no failed job has that id. */
export async function discardJob(queue: BullQueue, id: string): Promise<boolean> {
  const job = await failedById(queue, id, 'discard')
  if (!job) return false
  await job.remove()
  return true
}

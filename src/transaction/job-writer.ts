import { randomUUID } from 'node:crypto'
import type { QueryRunner } from 'typeorm'
import type { JobRecord, JobSink, PendingJob } from './pending-job'

/** @internal What one flush wrote, per sink, for the sink's `committed` hook. */
export type WrittenJobs = Map<JobSink, JobRecord[]>

/**
 * @internal Writes the pending jobs of one transaction through its query
 * runner, one batch per sink. A job without a key gets
 * `<transaction id>:<position>`: the same on every delivery of that job, and
 * unique across transactions.
 */
export async function writeJobs(queryRunner: QueryRunner, jobs: readonly PendingJob[], transactionId: string): Promise<WrittenJobs> {
  const bySink: WrittenJobs = new Map()
  jobs.forEach((job, position) => {
    const record: JobRecord = {
      id: randomUUID(),
      name: job.name,
      kind: job.kind,
      key: job.key ?? `${transactionId}:${position}`,
      payload: job.payload,
      action: job.action,
    }
    const list = bySink.get(job.sink)
    if (list) list.push(record)
    else bySink.set(job.sink, [record])
  })
  for (const [sink, records] of bySink) await sink.write(queryRunner, records)
  return bySink
}

/** @internal After COMMIT: each sink may hand its jobs over at once. Its errors are its own (the sweep retries). */
export function jobsCommitted(queryRunner: QueryRunner, written: WrittenJobs | undefined): void {
  if (!written) return
  for (const [sink, records] of written) sink.committed?.(queryRunner, records)
}

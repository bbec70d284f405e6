import type { DataSource, QueryRunner } from 'typeorm'
import type { JobRecord } from '../transaction/pending-job'
import type { ConsumeOptions, JobBackend, JobRunner } from './job-backend'
import { resolveBullMqOptions, type BullMqJobsOptions } from './bullmq-options'
import { loadBullMq } from './bullmq-types'
import { Producers } from './bullmq-producers'
import { startConsumer } from './bullmq-consumer'
import { countJobs, discardJob, failedJobs, retryJob } from './bullmq-inspect'
import { JobOutboxEntry } from './job-outbox-entry'
import { writeOutbox } from './outbox-writer'

export type { BullMqConnectionOptions, BullMqJobsOptions } from './bullmq-options'

/**
 * The BullMQ engine for durable jobs, for any of the supported databases: a
 * transactional outbox. A job is a row of `event_action_job_outbox`
 * ({@link JobOutboxEntry}), written in the transaction that made it; right
 * after COMMIT a relay hands the rows to BullMQ on Redis (as jobs
 * `ob_<id>`) and marks them sent, and every worker sweeps the outbox every
 * `relayIntervalMs` for rows an app left behind when it died. A job reaches
 * Redis once per row even when relays race or die half-way.
 *
 * Needs the optional peer `bullmq` (5.x) and a Redis whose
 * `maxmemory-policy` is `noeviction` (an evicted key is a lost job); Redis
 * keeps the jobs once sent, so give it persistence (AOF) as for any BullMQ
 * queue. Retries: `retryLimit` (default 5) more attempts after the first,
 * `retryDelay` seconds (default 2) before the first retry, doubled each time
 * unless `retryBackoff: false`. Finished jobs stay in Redis a day, failed
 * ones a week.
 *
 * @example
 * ```ts
 * const jobs = bullMqJobs({ connection: { host: 'localhost', port: 6379 }, retryLimit: 3 })
 * export const dataSource = new DataSource(
 *   withEventActions({ type: 'postgres', url: process.env.DB_URL, entities: [Order] }, { jobs }),
 * )
 * // in a worker process:
 * await startWorker(dataSource, { handlers: { 'mail:welcome': (payload) => sendWelcome(payload) } })
 * ```
 */
export function bullMqJobs(options: BullMqJobsOptions): JobBackend {
  const settings = resolveBullMqOptions(options)
  // Loaded here, not at import: an app without BullMQ imports the library; one that asks for it learns at once.
  const bullmq = loadBullMq()
  const producers = new Producers(bullmq, settings)
  return {
    engine: 'bullmq',
    entities: [JobOutboxEntry],
    maxPayloadBytes: settings.maxPayloadBytes,
    write: (queryRunner: QueryRunner, records: readonly JobRecord[]) => writeOutbox(queryRunner, records),
    // The committed query runner may be released by now: the relay opens its own from the DataSource.
    committed: (queryRunner: QueryRunner, records: readonly JobRecord[]) => producers.relayCommitted(queryRunner.connection, records),
    consume: async (dataSource: DataSource, run: JobRunner, consumeOptions: ConsumeOptions) => startConsumer(bullmq, settings, dataSource, run, consumeOptions),
    counts: (dataSource: DataSource) => countJobs(dataSource, producers.queue(dataSource)),
    failed: (dataSource: DataSource, name?: string, limit = 100) => failedJobs(producers.queue(dataSource), name, limit),
    retry: (dataSource: DataSource, id: string) => retryJob(producers.queue(dataSource), id),
    discard: (dataSource: DataSource, id: string) => discardJob(producers.queue(dataSource), id),
    close: (dataSource: DataSource) => producers.close(dataSource),
  }
}

/**
 * `npm run example:worker`: durable jobs end to end, in one process. The
 * app saves two signups (each enqueues a welcome mail in its transaction)
 * and submits an order (a durable Post-action binding); a worker runs the
 * jobs, retrying the one that fails once, and `jobs` counts are printed.
 * BullMQ on the local Redis (REDIS_URL, default redis://127.0.0.1:6379) and
 * embedded SQLite; with DB=postgres, pg-boss in PostgreSQL, no Redis.
 *
 * In production the worker is its own process:
 *   npx typeorm-event-actions worker -d src/data-source.ts --handlers src/jobs.ts
 */
import 'reflect-metadata'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { databaseName, databaseOptions } from '../../ormconfig'
import { bullMqJobs, pgBossJobs, runAction, startWorker, withEventActions, type JobBackend } from '../../src'
import { events, handlers, jobLog, Signup } from './jobs'

async function main(): Promise<void> {
  const db = databaseName()
  const jobs: JobBackend =
    db === 'postgres'
      ? pgBossJobs({ schema: 'example_worker', retryDelay: 1, retryBackoff: false, pollingIntervalSeconds: 0.5 })
      : bullMqJobs({ connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: 'example-worker', retryDelay: 1, retryBackoff: false })
  const options = { ...databaseOptions(db), entities: [Signup], synchronize: true, logging: false } as DataSourceOptions
  const dataSource = await new DataSource(withEventActions(options, { jobs })).initialize()
  console.log(`engine: ${jobs.engine} (${db})`)

  const worker = await startWorker(dataSource, { events, handlers, concurrency: 4, logger: { warn: (m) => console.log(`  ${m}`), error: console.error } })
  await runAction({ name: 'signups:create', user: { id: 'admin' } }, () =>
    dataSource.transaction((manager) => manager.save([Object.assign(new Signup(), { email: 'ada@example.com' }), Object.assign(new Signup(), { email: 'bob@example.com' })])),
  )
  await runAction({ name: 'orders:submit', user: { id: 'ada' }, params: { orderId: 7 } }, (manager) => manager!.save(Object.assign(new Signup(), { email: 'carol@example.com' })), {
    events,
    dataSource,
    transaction: true,
  })

  // Four jobs: three welcome mails (one fails once and is retried) and the warehouse workflow.
  const deadline = Date.now() + 30_000
  while (jobLog.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  for (const line of jobLog) console.log(line)
  const counts = await jobs.counts(dataSource)
  console.log(`jobs still pending, active or failed: ${counts.length ? JSON.stringify(counts) : 'none'}`)
  await worker.stop()
  await jobs.close(dataSource)
  await dataSource.destroy()
  if (jobLog.length < 4) throw new Error(`only ${jobLog.length} of 4 jobs ran within 30 s`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

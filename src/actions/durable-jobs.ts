import type { DataSource, EntityManager } from 'typeorm'
import { HardError } from '../basics/errors'
import { checkJobPayload } from '../transaction/job-payload'
import type { JobSink } from '../transaction/pending-job'
import { recordJob } from '../transaction/transaction-state'
import { JOB_BACKEND, ourSubscriber } from '../typeorm/our-subscriber'
import type { DurableBinding, PostActionEventContext } from './action-events'

/** @internal The jobs backend of `dataSource`, or a HardError saying what is missing. */
export function durableSinkOf(action: string, dataSource: DataSource | undefined): JobSink {
  if (!dataSource) {
    throw new HardError(`runAction '${action}': a durable binding needs the dataSource option (its job is written through the action's transaction)`)
  }
  const sink = ourSubscriber(dataSource)?.[JOB_BACKEND] as JobSink | undefined
  if (!sink) {
    throw new HardError(
      `runAction '${action}': a durable binding needs a jobs backend on its DataSource (withEventActions(options, { jobs: pgBossJobs() | bullMqJobs(...) }))`,
    )
  }
  return sink
}

/**
 * @internal One job per durable binding, carrying the Post-action context as
 * JSON, queued in the transaction `manager` belongs to (written just before
 * its COMMIT, with the audit entries). A context that is not JSON throws here: the
 * transaction rolls back.
 */
export function recordDurableJobs(manager: EntityManager, sink: JobSink, bindings: readonly DurableBinding[], ctx: PostActionEventContext): void {
  const { action, user, requestId, locale } = ctx
  const payload = { action, user, requestId, locale, params: ctx.params, result: ctx.result, changes: ctx.changes }
  // One context for every binding: checked and copied once, named after the first job.
  const stored = JSON.parse(checkJobPayload(payload, sink.maxPayloadBytes, { jobName: bindings[0]!.job, where: `action '${action}'` })) as unknown
  for (const { job } of bindings) {
    recordJob(manager.queryRunner!, {
      sink,
      name: job,
      kind: 'durable',
      key: undefined,
      payload: stored,
      action: { name: action, user, requestId, locale },
      owner: undefined,
    })
  }
}

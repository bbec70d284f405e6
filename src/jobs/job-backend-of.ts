import type { DataSource } from 'typeorm'
import { HardError } from '../basics/errors'
import { JOB_BACKEND, ourSubscriber } from '../typeorm/our-subscriber'
import type { JobBackend } from './job-backend'

/** @internal The `jobs` backend `dataSource` was configured with (withEventActions), or a HardError saying it has none. */
export function jobBackendOf(dataSource: DataSource, what: string): JobBackend {
  const backend = ourSubscriber(dataSource)?.[JOB_BACKEND] as JobBackend | undefined
  if (!backend) {
    throw new HardError(`${what} needs a DataSource with a jobs backend: withEventActions(options, { jobs: pgBossJobs() | bullMqJobs({ connection }) })`)
  }
  return backend
}

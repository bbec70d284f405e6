/**
 * Durable jobs on BullMQ across processes (issue 19), on every database: an
 * app killed right after COMMIT (its outbox rows unsent, a worker's sweep
 * sends them), three workers with one killed mid-job, a PostgreSQL restart
 * (on PostgreSQL), a restart of a Redis of the test's own, a job failed for
 * good and retried from the `jobs` command. See support/suite.ts.
 */
import { durabilitySuite } from './support/suite'

durabilitySuite('bullmq')

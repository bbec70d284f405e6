/**
 * Durable jobs on pg-boss across processes (issue 19), on PostgreSQL only
 * (skipped on the other databases): an app killed right after COMMIT, three
 * workers with one killed mid-job, a PostgreSQL restart, a job failed for
 * good and retried from the `jobs` command. See support/suite.ts.
 */
import { durabilitySuite } from './support/suite'

durabilitySuite('pg-boss')

/** The help texts: `--help`, `<command> --help`, and what a usage error points to. */

const DATA_SOURCE_OPTION = `  -d, --data-source <file>  a .js or .ts file exporting the DataSource (default or
                            named export), as for TypeORM's CLI; a .ts file needs ts-node`
const JSON_OPTION = `  --json                    print JSON instead of a table, for scripts`
const LAST_OPTIONS = `  --verbose                 print stack traces, keep the DataSource's query logging
  -h, --help                print this help`

const OPTIONS = `Options:
${DATA_SOURCE_OPTION}
${JSON_OPTION}
${LAST_OPTIONS}`

/** Help of the tool. */
export const GENERAL_USAGE = `Usage: typeorm-event-actions <command> [options]

Commands:
  audit <Entity> <id>         the entity's audit trail, oldest first
  explain <Entity>            the entity's handlers, audit and validation settings, and event order
  worker --handlers <module>  run the durable jobs (ctx.enqueue, { mode: 'durable' }) until SIGTERM
  jobs [retry|discard <id>]   jobs per name and state, the failed jobs; retry or discard one

${OPTIONS}
  --version                 print the version

Run 'typeorm-event-actions <command> --help' for one command and its own options.
Exit codes: 0 done, 1 failed (file, entity, job or database), 2 wrong command line.
`

/** Help of `audit`. */
export const AUDIT_USAGE = `Usage: typeorm-event-actions audit <Entity> <id> -d <file> [--json]

The audit trail of one entity (the AuditEntry rows of @Audited entities and
ctx.writeAudit), oldest first: when (UTC), who (the action's user id), the action,
the operation and each recorded attribute as old -> new. An id without entries
prints "no audit entries" (with --json: []).

<Entity> is the entity's class name. <id> is its primary key; a composite key is
JSON or key=value pairs: '{"region":"eu","number":7}' or region=eu,number=7.

${OPTIONS}

Example:
  npx typeorm-event-actions audit Order 7 -d src/data-source.ts
`

/** Help of `explain`. */
export const EXPLAIN_USAGE = `Usage: typeorm-event-actions explain <Entity> -d <file> [--json]

What event actions an entity has and in which order they run: _eventAction,
@OnEventAction handlers with their 'when' attributes, @Automatic attributes,
@Audited settings, validation and bulk writes, then for each event type the
Pre and Post handlers with where validation, the SQL and the audit entry happen.

${OPTIONS}

Example:
  npx typeorm-event-actions explain Order -d src/data-source.ts
`

/** Help of `worker`. */
export const WORKER_USAGE = `Usage: typeorm-event-actions worker -d <file> --handlers <module> [--concurrency <n>]

Runs the durable jobs of the data source's jobs backend (withEventActions(options,
{ jobs })) in this process: the jobs of ctx.enqueue and of { mode: 'durable' } action
bindings, each inside an action with the user that made it. It prints one line
when it started and runs until SIGTERM or SIGINT (Ctrl-C); then it fetches no new
job, lets the running ones finish (up to 30 s), closes the connections and exits
with 0. A second signal exits at once: its running jobs run again later.
The database schema is never changed.

--handlers <module> is a .js or .ts file (a .ts file needs ts-node) exporting, by
name or on its default export:
  handlers   the job handlers by job name: { 'mail:welcome': (payload, ctx) => ... }
  events     the application's ActionEvents, with its { mode: 'durable' } bindings
Either or both; the worker runs the jobs they name.

Options:
${DATA_SOURCE_OPTION}
  --handlers <module>       the job handlers (required)
  --concurrency <n>         jobs run at once in this process (default 4)
${LAST_OPTIONS}

Example:
  npx typeorm-event-actions worker -d src/data-source.ts --handlers src/jobs.ts --concurrency 8
`

/** Help of `jobs`. */
export const JOBS_USAGE = `Usage: typeorm-event-actions jobs -d <file> [--json]
       typeorm-event-actions jobs retry <id> -d <file>
       typeorm-event-actions jobs discard <id> -d <file>

The jobs of the data source's jobs backend (withEventActions(options, { jobs })):
how many are pending, active and failed per job name, and the failed jobs, newest
first (at most 20): id, name, key, attempts and the last error. A failed job is out
of retries: 'jobs retry <id>' puts it back to run again, 'jobs discard <id>'
deletes it. An id that is no failed job's fails with exit code 1.

${OPTIONS}

Examples:
  npx typeorm-event-actions jobs -d src/data-source.ts
  npx typeorm-event-actions jobs retry 6f1c2a9e-0d4b-4c4e-9a51-2b7d8e0f3c11 -d src/data-source.ts
`

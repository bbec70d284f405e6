/** The help texts: `--help`, `<command> --help`, and what a usage error points to. */

const OPTIONS = `Options:
  -d, --data-source <file>  a .js or .ts file exporting the DataSource (default or
                            named export), as for TypeORM's CLI; a .ts file needs ts-node
  --json                    print JSON instead of a table, for scripts
  --verbose                 print stack traces, keep the DataSource's query logging
  -h, --help                print this help`

/** Help of the tool. */
export const GENERAL_USAGE = `Usage: typeorm-event-actions <command> [options]

Commands:
  audit <Entity> <id>  the entity's audit trail, oldest first
  explain <Entity>     the entity's handlers, audit and validation settings, and event order

${OPTIONS}
  --version                 print the version

Run 'typeorm-event-actions <command> --help' for one command. Exit codes: 0 done,
1 failed (file, entity or database), 2 wrong command line.
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

import { databaseName, type DatabaseName } from '../../ormconfig'

/** The load test's settings, from the command line (`--name value` or `--name=value`) and DB / DB_URL. */
export interface LoadOptions {
  readonly db: Exclude<DatabaseName, 'sqlite'>
  /** Actions in flight at any time. */
  readonly concurrency: number
  /** How long actions are started (the warm-up included). */
  readonly seconds: number
  /** Distinct acting users. */
  readonly users: number
  /** Accounts created before the run; deposits pick one at random. */
  readonly accounts: number
  /** Connection pool size (pg `extra.max`, mysql2 `poolSize`). */
  readonly pool: number
  /** Allowed heap growth, after GC, from after the warm-up to the end (0.10 = 10%). */
  readonly heapTolerance: number
  /** Where to write the summary as JSON, if anywhere. */
  readonly json: string | undefined
}

const USAGE = `usage: DB=postgres|mariadb [DB_URL=...] node --expose-gc -r ts-node/register/transpile-only scripts/load-test.ts
  [--concurrency 200] [--seconds 60] [--users 50] [--accounts 500] [--pool 40] [--heap-tolerance 0.10] [--json file]`

function value(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === `--${name}`) return argv[i + 1]
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3)
  }
  return undefined
}

function positive(argv: readonly string[], name: string, fallback: number, integer = true): number {
  const raw = value(argv, name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} needs a positive ${integer ? 'whole ' : ''}number, got ${raw}\n${USAGE}`)
  return n
}

/** @throws Error with the usage when an option is wrong or DB is not a server database. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadOptions {
  if (argv.includes('--help') || argv.includes('-h')) throw new Error(USAGE)
  const known = new Set(['concurrency', 'seconds', 'users', 'accounts', 'pool', 'heap-tolerance', 'json'])
  for (const arg of argv) {
    const m = /^--([\w-]+)/.exec(arg)
    if (m && !known.has(m[1]!)) throw new Error(`unknown option ${arg}\n${USAGE}`)
  }
  const db = databaseName(env.DB ?? 'postgres')
  // SQLite's TypeORM drivers share one connection: concurrent transactions would have to be serialized.
  if (db === 'sqlite') throw new Error(`the load test runs on DB=postgres or DB=mariadb, not sqlite\n${USAGE}`)
  return {
    db,
    concurrency: positive(argv, 'concurrency', 200),
    seconds: positive(argv, 'seconds', 60, false),
    users: positive(argv, 'users', 50),
    accounts: positive(argv, 'accounts', 500),
    pool: positive(argv, 'pool', 40),
    heapTolerance: positive(argv, 'heap-tolerance', 0.1, false),
    json: value(argv, 'json'),
  }
}

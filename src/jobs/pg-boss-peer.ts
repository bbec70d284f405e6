import { HardError } from '../basics/errors'
import { loadOptionalPeer } from '../basics/optional-peer'

/** @internal What pg-boss runs its SQL through: its own pool, or (per call) the transaction's query runner. */
export interface PgBossDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
}

/** @internal A job as `fetch` returns it with `includeMetadata: true`. */
export interface PgBossFetchedJob {
  readonly id: string
  readonly data: unknown
  /** Starts before this one (pg-boss counts them when it fetches a job that ran before). */
  readonly retryCount?: number
}

/** @internal One job for `insert`: pg-boss reads these fields of each (others are ignored). */
export interface PgBossInsertJob {
  readonly id: string
  readonly name: string
  readonly data: object
  readonly retryLimit: number
  readonly retryDelay: number
  readonly retryBackoff: boolean
  /** Seconds the job may stay active before pg-boss's maintenance fails it (and retries it): a dead worker's job runs again. */
  readonly expireInSeconds: number
}

/** @internal How many rows a command (retry, deleteJob, complete, fail) touched. */
export interface PgBossCommandResult {
  readonly affected: number
}

/** @internal The constructor options this library passes (pg-boss 10 to 12 take all of them). */
export interface PgBossConfig {
  readonly schema: string
  readonly connectionString?: string
  readonly host?: string
  readonly port?: number
  readonly user?: string
  readonly password?: unknown
  readonly database?: string
  readonly ssl?: unknown
  /** The size of pg-boss's own pool. */
  readonly max: number
  /** Maintenance (expiring stuck jobs, archiving): only in instances that consume. */
  readonly supervise: boolean
  /** Cron scheduling: never used by this library. */
  readonly schedule: boolean
  /** pg-boss 10 archives failed jobs after this many seconds (12 hours by default): kept as long as the queue's jobs instead. */
  readonly archiveFailedAfterSeconds?: number
  /** pg-boss 10: how often maintenance (expiring jobs active too long among others) runs. Defaults to 120. */
  readonly maintenanceIntervalSeconds?: number
  /** pg-boss 11 and 12: how often the supervisor looks at the queues. Defaults to 60. */
  readonly superviseIntervalSeconds?: number
  /** pg-boss 11 and 12: how often a queue is checked for jobs active too long. Defaults to 60. */
  readonly monitorIntervalSeconds?: number
}

/** @internal What this library uses of a PgBoss instance: the calls common to pg-boss 10, 11 and 12. */
export interface PgBossInstance {
  start(): Promise<unknown>
  stop(options?: { graceful?: boolean; timeout?: number; close?: boolean }): Promise<void>
  on(event: 'error', listener: (error: unknown) => void): unknown
  getQueue(name: string): Promise<unknown>
  createQueue(name: string, options?: object): Promise<void>
  /** pg-boss 10: `insert(jobs, options)`; 11 and 12: `insert(name, jobs, options)` (see {@link insertJobs}). */
  insert(...args: unknown[]): Promise<unknown>
  fetch(name: string, options: { batchSize: number; includeMetadata: true }): Promise<PgBossFetchedJob[] | null>
  complete(name: string, id: string, data?: object): Promise<unknown>
  fail(name: string, id: string, data?: object): Promise<unknown>
  retry(name: string, id: string): Promise<PgBossCommandResult>
  /** Present from pg-boss 11 on, where `insert` takes the queue name first. */
  readonly getQueueStats?: unknown
}

/** @internal The PgBoss class. */
export type PgBossConstructor = new (config: PgBossConfig) => PgBossInstance

// pg-boss 10 and 11 are CommonJS (the module is the class); 12 is ESM, which require() returns as its namespace.
type PgBossModule = PgBossConstructor | { readonly PgBoss?: PgBossConstructor; readonly default?: PgBossConstructor }

// The one cache of the optional peer, loaded on first use.
let loaded: PgBossConstructor | undefined

/** @internal The PgBoss class, loaded on first use (pgBossJobs() can be configured without pg-boss installed). */
export function pgBossClass(): PgBossConstructor {
  if (loaded) return loaded
  const module = loadOptionalPeer<PgBossModule>('pg-boss', 'pgBossJobs()')
  const found = typeof module === 'function' ? module : (module.PgBoss ?? module.default)
  if (typeof found !== 'function') throw new HardError("pgBossJobs(): the package 'pg-boss' exports no PgBoss class (pg-boss 10 to 12 do)")
  return (loaded = found)
}

/**
 * @internal Inserts `jobs` in one statement through `db`. pg-boss 11
 * changed `insert(jobs)` (each job naming its queue) to
 * `insert(name, jobs)`; getQueueStats came with that change, so its presence
 * tells the two apart (the promoted methods of 10 and 11 have no arity to
 * read).
 */
export async function insertJobs(boss: PgBossInstance, queue: string, jobs: readonly PgBossInsertJob[], db: PgBossDb): Promise<void> {
  if (typeof boss.getQueueStats === 'function') await boss.insert(queue, jobs, { db })
  else await boss.insert(jobs, { db })
}

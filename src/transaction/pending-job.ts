import type { QueryRunner } from 'typeorm'

/** The action a job was made in: the worker runs its handler inside an action with the same user. */
export interface JobAction {
  /** The action's name, e.g. `'orders:submit'`. */
  readonly name: string
  /** The acting user, as JSON. */
  readonly user?: {
    /** The user's id. */
    readonly id: string | number
    readonly [key: string]: unknown
  }
  /** The request id of the action that made the job. */
  readonly requestId?: string
  /** The end user's language tag. */
  readonly locale?: string
}

/**
 * One job as it is stored in the engine (the pg-boss job's data, the outbox
 * row, the BullMQ job's data): plain JSON, the same on every engine.
 */
export interface JobRecord {
  /** A random UUID: the pg-boss job id, the outbox row id (never reused, unlike a serial). */
  readonly id: string
  /** The job's name: the name given to `ctx.enqueue`, or a durable binding's job name. */
  readonly name: string
  /** `'enqueue'` for `ctx.enqueue`, `'durable'` for a durable Post-action binding. */
  readonly kind: 'enqueue' | 'durable'
  /** Stable across deliveries: the one given to `ctx.enqueue`, else `<transaction id>:<position>`. */
  readonly key: string
  /** What the handler receives: the enqueued payload, or the Post-action context as JSON. */
  readonly payload: unknown
  /** The action the job was made in, or undefined outside any action. */
  readonly action: JobAction | undefined
}

/**
 * @internal Where a DataSource's jobs go (a backend of jobs/): it writes the
 * jobs of one transaction through that transaction's query runner, before
 * COMMIT, so that they commit or roll back with the data.
 */
export interface JobSink {
  /** The engine's name, for errors. */
  readonly engine: string
  /** The largest payload, in bytes of its JSON, that `ctx.enqueue` accepts. */
  readonly maxPayloadBytes: number
  /** Writes the jobs inside the transaction of `queryRunner` (or on it, when none is open). */
  write(queryRunner: QueryRunner, jobs: readonly JobRecord[]): Promise<void>
  /** After the transaction committed: a chance to hand the jobs over at once (the outbox relay). Never throws. */
  committed?(queryRunner: QueryRunner, jobs: readonly JobRecord[]): void
}

/** @internal A job waiting for its transaction's commit. */
export interface PendingJob {
  readonly sink: JobSink
  readonly name: string
  readonly kind: 'enqueue' | 'durable'
  /** The key given to `ctx.enqueue`; derived at flush time when undefined. */
  readonly key: string | undefined
  readonly payload: unknown
  readonly action: JobAction | undefined
  /** Outside a transaction: the entity whose Post event writes it (as audit entries). */
  readonly owner: object | undefined
}

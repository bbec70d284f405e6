import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm'
import type { JobAction } from '../transaction/pending-job'

/**
 * One job in BullMQ's transactional outbox: written in the transaction that
 * made the job (so it commits or rolls back with the data), then handed to
 * BullMQ by the relay, which sets `sentAt`. {@link withEventActions} adds it to
 * the DataSource's entities when the `jobs` backend is `bullMqJobs()`;
 * without `synchronize`, run {@link CreateJobOutboxTable} as a migration.
 */
@Entity('event_action_job_outbox')
// The relay's query: unsent rows, oldest first.
@Index('IDX_event_action_job_outbox_unsent', ['sentAt', 'createdAt'])
export class JobOutboxEntry {
  /**
   * The job's UUID; its BullMQ job id is `ob_<id>`. Never a serial: BullMQ
   * silently skips an add whose id a retained job still holds, and a reset
   * sequence would hand out such ids again.
   */
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string
  /** The job's name: the name given to `ctx.enqueue`, or a durable binding's job name. */
  @Column({ type: 'varchar', length: 255 }) name!: string
  /** `'enqueue'` or `'durable'`. */
  @Column({ type: 'varchar', length: 20 }) kind!: string
  /** The job's stable key (`ctx.job.key`). The column is `job_key`: KEY is reserved in MySQL. */
  @Column({ name: 'job_key', type: 'varchar', length: 255 }) key!: string
  /**
   * What the handler receives. A JSON column rather than TEXT: MariaDB's TEXT
   * holds 65,535 bytes, less than the default `maxPayloadBytes`.
   */
  @Column({ type: 'json' }) payload!: unknown
  /** The action the job was made in, as JSON; null outside any action. */
  @Column({ type: 'json', nullable: true }) action!: JobAction | null
  /** When the transaction wrote the job (Node's clock). */
  @CreateDateColumn({ name: 'created_at' }) createdAt!: Date
  /** When the relay handed it to BullMQ; null while it waits in the outbox. */
  @Column({ name: 'sent_at', type: Date, nullable: true }) sentAt!: Date | null
}

import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'

/** One attribute's change in an audit entry. */
export interface AuditChange {
  /** The value before the write (the last value for a delete); null for an insert or when it was unset. */
  readonly old: unknown
  /** The value written; null for a delete or when it is unset. */
  readonly new: unknown
}

/**
 * One audited write: who changed what, old -> new, in which action and
 * transaction. Written in the same transaction as the change it records,
 * batched just before commit. {@link withEventActions} adds it to the
 * DataSource's entities; without `synchronize`, run
 * {@link CreateAuditEntryTable} as a migration.
 */
@Entity('audit_entry')
@Index('IDX_audit_entry_entity', ['entityName', 'entityId'])
export class AuditEntry {
  /** The entry's generated key: entries of one entity sort by it in the order they were written. */
  @PrimaryGeneratedColumn() id!: number
  /** The entity class name, e.g. `'Order'`. */
  @Column({ type: 'varchar', length: 100 }) entityName!: string
  /** The primary key as a string; composite keys as JSON with sorted keys. */
  @Column({ type: 'varchar', length: 255 }) entityId!: string
  /** `insert`, `update`, `delete`, or the word given to `ctx.writeAudit`. */
  @Column({ type: 'varchar', length: 50 }) operation!: string
  /** `{ attr: { old, new } }`; dates as ISO strings, relations as their id. */
  @Column({ type: 'simple-json' }) changes!: Record<string, AuditChange>
  /** `String(user.id)` of the action's user, or null outside an action. */
  @Column({ type: 'varchar', length: 255, nullable: true }) userId!: string | null
  /** The name of the action (`runAction`) the write ran in, or null outside an action. */
  @Column({ type: 'varchar', length: 255, nullable: true }) actionName!: string | null
  /** The request id of that action, or null when it had none or outside an action. */
  @Column({ type: 'varchar', length: 255, nullable: true }) requestId!: string | null
  /** When the transaction wrote the entry: Node's clock at the flush before COMMIT, the same for all its entries. */
  @CreateDateColumn() at!: Date
  /** The same for every entry written in one transaction. */
  @Column({ type: 'varchar', length: 36 }) transactionId!: string
}

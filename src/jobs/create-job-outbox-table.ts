import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * The migration that creates `event_action_job_outbox`, the BullMQ engine's
 * outbox ({@link JobOutboxEntry}), for TypeORM CLI users who do not
 * synchronize. Add it to your DataSource's `migrations`.
 *
 * @example
 * ```ts
 * new DataSource({ ..., migrations: [CreateAuditEntryTable, CreateJobOutboxTable, ...yourMigrations] })
 * ```
 */
export class CreateJobOutboxTable1767225600000 implements MigrationInterface {
  name = 'CreateJobOutboxTable1767225600000'

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection
    // The create-date type, precision and default differ per database; the driver knows them.
    const mappings = (driver as unknown as { mappedDataTypes: { createDate: string; createDatePrecision?: number; createDateDefault: string } })
      .mappedDataTypes
    const varchar = (name: string, length: number) => ({ name, type: 'varchar', length: String(length) })
    await queryRunner.createTable(
      new Table({
        name: 'event_action_job_outbox',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('name', 255),
          varchar('kind', 20),
          varchar('job_key', 255),
          { name: 'payload', type: 'json' },
          { name: 'action', type: 'json', isNullable: true },
          {
            name: 'created_at',
            type: driver.normalizeType({ type: mappings.createDate }),
            precision: mappings.createDatePrecision,
            default: mappings.createDateDefault,
          },
          { name: 'sent_at', type: driver.normalizeType({ type: Date }), isNullable: true },
        ],
      }),
      true,
    )
    await queryRunner.createIndex(
      'event_action_job_outbox',
      new TableIndex({ name: 'IDX_event_action_job_outbox_unsent', columnNames: ['sent_at', 'created_at'] }),
    )
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('event_action_job_outbox', true)
  }
}

/** The migration class under a stable name. */
export const CreateJobOutboxTable = CreateJobOutboxTable1767225600000

import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm'

/**
 * The migration that creates `audit_entry`, for TypeORM CLI users who do not
 * synchronize. Add it to your DataSource's `migrations`.
 *
 * @example
 * ```ts
 * new DataSource({ ..., migrations: [CreateAuditEntryTable, ...yourMigrations] })
 * ```
 */
export class CreateAuditEntryTable1763769600000 implements MigrationInterface {
  name = 'CreateAuditEntryTable1763769600000'

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection
    // The create-date type, precision and default differ per database; the driver knows them.
    const mappings = (driver as unknown as { mappedDataTypes: { createDate: string; createDatePrecision?: number; createDateDefault: string } })
      .mappedDataTypes
    const varchar = (name: string, length: number, nullable = false) => ({ name, type: 'varchar', length: String(length), isNullable: nullable })
    await queryRunner.createTable(
      new Table({
        name: 'audit_entry',
        columns: [
          { name: 'id', type: driver.normalizeType({ type: Number }), isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          varchar('entityName', 100),
          varchar('entityId', 255),
          varchar('operation', 50),
          { name: 'changes', type: 'text' },
          varchar('userId', 255, true),
          varchar('actionName', 255, true),
          varchar('requestId', 255, true),
          {
            name: 'at',
            type: driver.normalizeType({ type: mappings.createDate }),
            precision: mappings.createDatePrecision,
            default: mappings.createDateDefault,
          },
          varchar('transactionId', 36),
        ],
      }),
      true,
    )
    await queryRunner.createIndex('audit_entry', new TableIndex({ name: 'IDX_audit_entry_entity', columnNames: ['entityName', 'entityId'] }))
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_entry', true)
  }
}

/** The migration class under a stable name. */
export const CreateAuditEntryTable = CreateAuditEntryTable1763769600000

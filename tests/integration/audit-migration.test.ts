/**
 * The migration that ships with the package (issue 4): on a DataSource that
 * does not synchronize, CreateAuditEntryTable creates an audit_entry table
 * the library can write to and read from, on the database chosen by DB, and
 * its down() drops it.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn, Table, type MigrationInterface, type QueryRunner } from 'typeorm'
import { Audited, AuditEntry, auditTrail, CreateAuditEntryTable, CreateAuditEntryTable1763769600000 } from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

@Entity('aud_mig_item')
@Audited({ exclude: ['secret'] })
class MigItem {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 100 }) name!: string
  @Column({ type: 'varchar', length: 100, default: '' }) secret!: string
}

/** The test's own table, created the way a user's migration would (after the library's). */
class CreateAudMigItem1763769600001 implements MigrationInterface {
  name = 'CreateAudMigItem1763769600001'

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'aud_mig_item',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'secret', type: 'varchar', length: '100', default: "''" },
        ],
      }),
    )
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('aud_mig_item')
  }
}

describe(`CreateAuditEntryTable migration (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([MigItem], {}, {
      synchronize: false,
      migrations: [CreateAuditEntryTable, CreateAudMigItem1763769600001],
      migrationsRun: true,
    })
  })
  afterAll(() => ds?.destroy())

  async function hasTable(name: string): Promise<boolean> {
    const qr = ds.createQueryRunner()
    try {
      return await qr.hasTable(name)
    } finally {
      await qr.release()
    }
  }

  it('is exported under a stable name and its timestamped name', () => {
    expect(CreateAuditEntryTable).toBe(CreateAuditEntryTable1763769600000)
  })

  it('ran as a migration and created audit_entry (synchronize is off)', async () => {
    expect(ds.options.synchronize).toBe(false)
    expect(await hasTable('audit_entry')).toBe(true)
    const rows: { name: string }[] = await ds.query(`SELECT ${ds.driver.escape('name')} AS name FROM ${ds.driver.escape('migrations')}`)
    expect(rows.map((r) => r.name)).toContain('CreateAuditEntryTable1763769600000')
  })

  it('the table matches the AuditEntry entity: a schema sync would change nothing in it', async () => {
    const pending = await ds.driver.createSchemaBuilder().log()
    const touching = pending.upQueries.map((q) => q.query).filter((q) => /audit_entry/i.test(q))
    expect(touching).toEqual([])
  })

  it('audited writes land in it and auditTrail reads them back', async () => {
    const before = Date.now()
    const repo = ds.getRepository(MigItem)
    const item = await repo.save(repo.create({ name: 'first', secret: 'topsecret' }))
    item.name = 'second'
    await repo.save(item)
    const id = item.id
    await repo.remove(item)

    const trail = await auditTrail(ds, MigItem, id)
    expect(trail.map((e) => e.operation)).toEqual(['insert', 'update', 'delete'])
    expect(trail[0]).toMatchObject({ entityName: 'MigItem', entityId: String(id), userId: null, actionName: null, requestId: null })
    expect(trail[0]!.changes).toMatchObject({ name: { old: null, new: 'first' } })
    expect(trail[1]!.changes).toEqual({ name: { old: 'first', new: 'second' } })
    expect(trail[2]!.changes).toMatchObject({ name: { old: 'second', new: null } })
    for (const e of trail) {
      expect(e.changes).not.toHaveProperty('secret')
      expect(e.at).toBeInstanceOf(Date)
      expect(Number.isNaN(e.at.getTime())).toBe(false)
      expect(Math.abs(e.at.getTime() - before)).toBeLessThan(24 * 3600 * 1000)
      expect(typeof e.id).toBe('number')
      expect(e.transactionId.length).toBeGreaterThan(0)
    }
    expect(new Set(trail.map((e) => e.id)).size).toBe(3)
    expect(new Set(trail.map((e) => e.transactionId)).size).toBe(3)

    // Several entries in one transaction: one batch, generated ids, one transactionId.
    await ds.transaction(async (m) => {
      await m.save(Array.from({ length: 5 }, (_, i) => m.create(MigItem, { name: `batch${i}` })))
    })
    const batch = (await ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })).slice(3)
    expect(batch).toHaveLength(5)
    expect(new Set(batch.map((e) => e.transactionId)).size).toBe(1)
    expect(new Set(batch.map((e) => e.id)).size).toBe(5)
    expect(await countRows(ds, 'audit_entry')).toBe(8)
  })

  it('long values fit: a 100-character entity name, a 255-character id, a 36-character transaction id', async () => {
    const repo = ds.getRepository(AuditEntry)
    const saved = await repo.save(
      repo.create({
        entityName: 'E'.repeat(100),
        entityId: 'i'.repeat(255),
        operation: 'o'.repeat(50),
        changes: { big: { old: 'x'.repeat(5000), new: null } },
        userId: 'u'.repeat(255),
        actionName: 'a'.repeat(255),
        requestId: 'r'.repeat(255),
        transactionId: 't'.repeat(36),
      }),
    )
    const back = await repo.findOneByOrFail({ id: saved.id })
    expect(back.entityId).toHaveLength(255)
    expect(back.changes.big!.old).toHaveLength(5000)
    expect(back.at).toBeInstanceOf(Date)
    await repo.delete({ id: saved.id })
  })

  it('down() drops audit_entry, and up() creates it again', async () => {
    await ds.undoLastMigration() // the test's own table
    expect(await hasTable('aud_mig_item')).toBe(false)
    expect(await hasTable('audit_entry')).toBe(true)
    await ds.undoLastMigration() // CreateAuditEntryTable
    expect(await hasTable('audit_entry')).toBe(false)

    const ran = await ds.runMigrations()
    expect(ran.map((m) => m.name)).toEqual(['CreateAuditEntryTable1763769600000', 'CreateAudMigItem1763769600001'])
    expect(await hasTable('audit_entry')).toBe(true)
    expect(await countRows(ds, 'audit_entry')).toBe(0)
    const item = await ds.getRepository(MigItem).save(ds.getRepository(MigItem).create({ name: 'again' }))
    expect((await auditTrail(ds, MigItem, item.id)).map((e) => e.operation)).toEqual(['insert'])
  })
})

/**
 * What the audit refuses, the same on every database: an entry too large for
 * the audit table, and a trail asked for without a key. Also: an @Audited
 * entity without a handler is validated like any other, and a subscriber
 * added to a running DataSource (as the NestJS module does) guards bulk writes.
 */
import { IsEmail } from 'class-validator'
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import {
  Audited,
  auditTrail,
  BulkWriteError,
  EntityValidationError,
  EventActionSubscriber,
  HardError,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

@Entity('lim_doc')
@Audited()
class LimDoc {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'text' }) first!: string
  @Column({ type: 'text' }) second!: string
  @Column({ type: 'varchar', length: 100, default: 'x@example.com' }) @IsEmail() email!: string
}

describe(`Audit limits (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([LimDoc])
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('audit_entry')}`)
    await ds.query(`DELETE FROM ${ds.driver.escape('lim_doc')}`)
  })

  const make = (first: string, second: string, email = 'a@example.com') => ds.getRepository(LimDoc).create({ first, second, email })

  it('an entry over 65,535 bytes of JSON fails the save with a HardError naming the largest attribute; nothing is written', async () => {
    // Each value fits its TEXT column on MariaDB; together they do not fit the audit's.
    const error = await ds
      .getRepository(LimDoc)
      .save(make('a'.repeat(40_000), 'b'.repeat(30_000)))
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(HardError)
    expect(error).toMatchObject({ entityName: 'LimDoc', attribute: 'first' })
    expect((error as Error).message).toMatch(
      /the audit entry of LimDoc 'insert' is \d+ bytes of JSON, more than the 65535 .* first \(40\d{3} bytes\), second \(30\d{3} bytes\).*@Audited\(\{ exclude: \['first'\] \}\)/,
    )
    expect(await countRows(ds, 'lim_doc')).toBe(0)
    expect(await countRows(ds, 'audit_entry')).toBe(0)
  })

  it('multi-byte text is measured in bytes, not characters', async () => {
    // 25,000 characters of 3 bytes each: 75,000 bytes, though .length is far under the limit.
    const error = await ds
      .getRepository(LimDoc)
      .save(make('€'.repeat(25_000), 'b'))
      .then(() => undefined, (e: unknown) => e)
    if (DB === 'mariadb') {
      // 75,000 bytes do not fit MariaDB's TEXT column itself: the database refuses first.
      expect(error).toBeInstanceOf(Error)
    } else {
      expect(error).toBeInstanceOf(HardError)
      expect((error as HardError).attribute).toBe('first')
    }
    expect(await countRows(ds, 'lim_doc')).toBe(0)
    expect(await countRows(ds, 'audit_entry')).toBe(0)
  })

  it('an entry just under the limit is written whole', async () => {
    const saved = await ds.getRepository(LimDoc).save(make('a'.repeat(30_000), 'b'.repeat(30_000)))
    const [entry] = await auditTrail(ds, LimDoc, saved.id)
    expect(entry!.changes.first!.new).toHaveLength(30_000)
    expect(entry!.changes.second!.new).toHaveLength(30_000)
  })

  it.each([[undefined], [null], [Number.NaN]])('auditTrail with the id %p is refused, naming entity and key', async (id) => {
    const unsaved = make('a', 'b')
    unsaved.id = id as number
    const error = await auditTrail(ds, LimDoc, unsaved.id).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(HardError)
    expect(error).toMatchObject({ entityName: 'LimDoc', attribute: 'id' })
    expect((error as Error).message).toMatch(/auditTrail\(LimDoc\) needs a primary key value, got (undefined|null|NaN)/)
  })

  it('an @Audited entity without a handler is validated: nothing written, nothing audited', async () => {
    const error = await ds
      .getRepository(LimDoc)
      .save(make('a', 'b', 'not-an-email'))
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(EntityValidationError)
    expect((error as EntityValidationError).failures.map((f) => f.attribute)).toEqual(['email'])
    expect(await countRows(ds, 'lim_doc')).toBe(0)
    expect(await countRows(ds, 'audit_entry')).toBe(0)
  })
})

describe(`A subscriber added to a running DataSource (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  it('guards bulk writes from then on, though a bulk write went through before it was added', async () => {
    const ds = await openDataSource([LimDoc], null)
    try {
      await ds.getRepository(LimDoc).save(make(ds, 'a', 'b'))
      // No subscriber yet: the library has nothing to guard.
      await ds.getRepository(LimDoc).update({ first: 'a' }, { second: 'c' })
      ds.subscribers.push(new EventActionSubscriber({ bulkWrites: 'forbid' }))
      await expect(ds.getRepository(LimDoc).update({ first: 'a' }, { second: 'd' })).rejects.toBeInstanceOf(BulkWriteError)
      const [row] = await ds.getRepository(LimDoc).find()
      expect(row!.second).toBe('c')
    } finally {
      await ds.destroy()
    }
  })

  function make(ds: DataSource, first: string, second: string): LimDoc {
    return ds.getRepository(LimDoc).create({ first, second })
  }
})

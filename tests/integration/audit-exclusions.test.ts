/**
 * Issue 17, items 10 and 11: what `@Audited({ exclude })` and `only` let into
 * the audit table, on the database chosen by DB.
 * - A name in `exclude`/`only` that is not an attribute (a typo) is refused
 *   with a HardError naming entity and attribute, at the entity's first
 *   event, before anything is written; names of inherited columns,
 *   single-table children, embeddeds and their columns, and relations are
 *   accepted, whatever the order of `@Audited` and `@Entity`.
 * - Excluding an embedded excludes all its columns, on insert, save,
 *   `EventActions.update(group)`, `updateWhere` and delete; `only` with an
 *   embedded takes all its columns.
 */
import { ChildEntity, Column, Entity, ManyToOne, PrimaryGeneratedColumn, TableInheritance, type DataSource } from 'typeorm'
import { Audited, auditTrail, EventActions, HardError } from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

// ----------------------------------------------------------------- entities

@Entity('h2ax_owner')
class Owner {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) name!: string
}

// Declared below the entities that embed it, on purpose: a check made when
// @Audited runs could not read its columns yet.
class Creds {
  @Column({ type: 'varchar', length: 50 }) key!: string
  @Column({ type: 'varchar', length: 50 }) pin!: string
}

@Entity('h2ax_vault')
@Audited({ exclude: ['creds'] })
class Vault {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) label!: string
  @Column(() => CredsLater) creds!: { key: string; pin: string }
}

@Audited({ only: ['creds'] })
@Entity('h2ax_only_vault')
class OnlyVault {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) label!: string
  @Column(() => Creds) creds!: Creds
}

/** A base that is no entity, with a column its entities inherit. */
@Audited({ exclude: ['creds', 'token', 'owner'] })
abstract class Guarded {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) token!: string
}

@Entity('h2ax_safe')
class Safe extends Guarded {
  @Column({ type: 'varchar', length: 50 }) label!: string
  @Column(() => Creds) creds!: Creds
  @ManyToOne(() => Owner, { nullable: true }) owner!: Owner | null
}

/** Single-table inheritance: the parent's exclusions name a column only the child has, and an embedded's column. */
@Entity('h2ax_animal')
@TableInheritance({ column: { type: 'varchar', name: 'kind', length: 20 } })
@Audited({ exclude: ['chip', 'creds.pin'] })
class Animal {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) name!: string
  @Column(() => Creds) creds!: Creds
}

@ChildEntity('cat')
class Cat extends Animal {
  @Column({ type: 'varchar', length: 50, nullable: true }) chip!: string | null
}

// Typos, with @Audited below and above @Entity, and on a base class.
@Entity('h2ax_typo_below')
@Audited({ exclude: ['passwrd'] })
class TypoBelow {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) password!: string
}

@Audited({ only: ['titel'] })
@Entity('h2ax_typo_above')
class TypoAbove {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) title!: string
  @Column({ type: 'varchar', length: 50 }) secret!: string
}

@Audited({ exclude: ['creds.pn'] })
abstract class TypoBase {
  @PrimaryGeneratedColumn() id!: number
  @Column(() => Creds) creds!: Creds
}

@Entity('h2ax_typo_child')
class TypoChild extends TypoBase {
  @Column({ type: 'varchar', length: 50 }) label!: string
}

// The embedded class of Vault, declared after it.
class CredsLater {
  @Column({ type: 'varchar', length: 50 }) key!: string
  @Column({ type: 'varchar', length: 50 }) pin!: string
}

// -------------------------------------------------------------------- tests

const ENTITIES = [Owner, Vault, OnlyVault, Safe, Animal, Cat]
const TABLES = ['h2ax_vault', 'h2ax_only_vault', 'h2ax_safe', 'h2ax_animal', 'h2ax_owner', 'audit_entry']

describe(`@Audited exclude/only (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let actions: EventActions

  beforeAll(async () => {
    ds = await openDataSource(ENTITIES)
    actions = new EventActions(ds)
  })
  afterAll(async () => {
    await ds?.destroy()
  })
  beforeEach(async () => {
    for (const table of TABLES) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
  })

  /** Every attribute name that reached the audit table, over all entries of the entity. */
  const auditedNames = async (entity: Function, id: unknown): Promise<string[]> => {
    const entries = await auditTrail(ds, entity as never, id as never)
    return [...new Set(entries.flatMap((e) => Object.keys(e.changes)))].sort()
  }
  const operations = async (entity: Function, id: unknown): Promise<string[]> =>
    (await auditTrail(ds, entity as never, id as never)).map((e) => e.operation)

  describe('names that are no attribute (item 10)', () => {
    const refusals: [string, Function, Record<string, unknown>, string][] = [
      ['@Audited({ exclude }) below @Entity', TypoBelow, { entityName: 'TypoBelow', attribute: 'passwrd' }, "TypoBelow has no attribute 'passwrd' (used in @Audited({ exclude }))"],
      ['@Audited({ only }) above @Entity', TypoAbove, { entityName: 'TypoAbove', attribute: 'titel' }, "TypoAbove has no attribute 'titel' (used in @Audited({ only }))"],
      [
        '@Audited on a base class, an embedded column misspelt',
        TypoChild,
        { entityName: 'TypoChild', attribute: 'creds.pn' },
        "TypoChild has no attribute 'creds.pn' (used in @Audited({ exclude }) of TypoBase)",
      ],
    ]

    it.each(refusals)('%s: the DataSource does not initialize; a HardError names entity and attribute', async (_label, entity, fields, text) => {
      const error = await openDataSource([entity]).then(
        async (opened) => {
          await opened.destroy()
          return undefined
        },
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ name: 'HardError', ...fields })
      expect((error as Error).message).toContain(text)
    })

    it('without the library the same classes are plain TypeORM entities: a DataSource with them initializes', async () => {
      // No schema work: on the servers it would drop the tables of the other tests.
      const plain = await openDataSource([TypoBelow, TypoAbove, TypoChild], null, { dropSchema: false, synchronize: false })
      await plain.destroy()
    })

    it('options that are not lists of names are refused when @Audited runs', () => {
      expect(() => Audited({ exlude: ['password'] } as never)).toThrow(new HardError("@Audited takes exclude or only, got an option 'exlude'"))
      expect(() => Audited({ exclude: 'password' } as never)).toThrow(new HardError('@Audited({ exclude }) needs a list of attribute names, got "password"'))
      expect(() => Audited({ only: ['title', 7] } as never)).toThrow(HardError)
      expect(() => Audited({ exclude: [''] })).toThrow(HardError)
    })
  })

  describe('an excluded embedded leaves out all its columns (item 11)', () => {
    it('insert, save, EventActions.update(group), updateWhere and delete: no creds.* in any entry, and the columns are written', async () => {
      const repo = ds.getRepository(Vault)
      const vault = await repo.save(repo.create({ label: 'v1', creds: { key: 'secret-key', pin: '1234' } }))
      const id = vault.id
      vault.creds.key = 'secret-key-2'
      vault.label = 'v2'
      await repo.save(vault)
      vault.creds.pin = '5678'
      vault.label = 'v2b'
      await actions.update(vault, ['creds', 'label'])
      await actions.update(vault, ['creds'])
      expect(await actions.updateWhere(Vault, { id }, { label: 'v3', creds: { key: 'secret-key-3', pin: '0000' } })).toBe(1)
      expect(await repo.findOneByOrFail({ id })).toMatchObject({ label: 'v3', creds: { key: 'secret-key-3', pin: '0000' } })
      await repo.remove(await repo.findOneByOrFail({ id }))

      expect(await operations(Vault, id)).toEqual(['insert', 'update', 'update', 'update', 'update', 'delete'])
      expect(await auditedNames(Vault, id)).toEqual(['id', 'label'])
      const rows: { changes: string }[] = await ds.query(`SELECT ${ds.driver.escape('changes')} FROM ${ds.driver.escape('audit_entry')}`)
      for (const row of rows) expect(row.changes).not.toMatch(/secret-key|1234|5678|0000/)
    })

    it('exclusions through a base class (an embedded, an inherited column, a relation) and a single-table parent (a child column, an embedded column)', async () => {
      const owner = await ds.getRepository(Owner).save({ name: 'o' })
      const safe = await ds.getRepository(Safe).save(ds.getRepository(Safe).create({ label: 's', token: 'tok', creds: { key: 'k', pin: '1' }, owner }))
      safe.creds.key = 'k2'
      safe.token = 'tok2'
      await ds.getRepository(Safe).save(safe)
      expect(await operations(Safe, safe.id)).toEqual(['insert', 'update'])
      expect(await auditedNames(Safe, safe.id)).toEqual(['id', 'label'])

      const cat = await ds.getRepository(Cat).save(ds.getRepository(Cat).create({ name: 'tom', chip: 'c-1', creds: { key: 'ck', pin: '9' } }))
      expect(await auditedNames(Cat, cat.id)).toEqual(['creds.key', 'id', 'name'])
      const animal = await ds.getRepository(Animal).save(ds.getRepository(Animal).create({ name: 'rex', creds: { key: 'ak', pin: '8' } }))
      expect((await auditedNames(Animal, animal.id)).filter((name) => name.startsWith('creds'))).toEqual(['creds.key'])
    })

    it('only with an embedded records all its columns, and nothing else', async () => {
      const repo = ds.getRepository(OnlyVault)
      const vault = await repo.save(repo.create({ label: 'l', creds: { key: 'k', pin: '1' } }))
      vault.creds.pin = '2'
      vault.label = 'l2'
      await repo.save(vault)
      const entries = await auditTrail(ds, OnlyVault, vault.id)
      expect(entries.map((e) => e.changes)).toEqual([
        { 'creds.key': { old: null, new: 'k' }, 'creds.pin': { old: null, new: '1' } },
        { 'creds.pin': { old: '1', new: '2' } },
      ])
    })
  })
})

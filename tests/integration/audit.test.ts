/**
 * The audit trail of issue 4 (AuditEntry, @Audited, ctx.writeAudit,
 * auditTrail), on the database chosen by DB: what an entry records, which
 * attributes it may record, batching, and that no entry outlives a rolled
 * back save.
 */
import {
  Column,
  DataSource,
  Entity,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  type Logger,
} from 'typeorm'
import {
  Audited,
  AuditEntry,
  auditTrail,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

// ---------------------------------------------------------------- plumbing

type Kind = 'account' | 'note' | 'pair' | 'plain' | 'parent' | 'child'
type Hook = (entity: any, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>) => unknown
/** Per-test behaviour of the handlers; emptied before every test. */
const hooks: Partial<Record<Kind, Hook>> = {}

function handle(kind: Kind, entity: object, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>) {
  return hooks[kind]?.(entity, timing, type, ctx)
}

/** The SQL statements of the DataSource, while `capturing`. */
const statements: string[] = []
let capturing = false
const sqlLogger: Logger = {
  logQuery(query: string) {
    if (capturing) statements.push(query)
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
}
const auditInserts = () => statements.filter((q) => /^\s*INSERT\s+INTO\s+[`"]?audit_entry\b/i.test(q))

// ----------------------------------------------------------------- entities

@Entity('aud_account')
@Audited({ exclude: ['password'] })
class Account {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) email!: string | null
  @Column({ type: 'int', default: 0 }) balance!: number
  @Column({ type: 'varchar', default: '' }) password!: string
  @Column({ type: 'varchar', nullable: true, unique: true }) code!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Account>) {
    return handle('account', this, timing, type, ctx)
  }
}

@Entity('aud_note')
@Audited({ only: ['title'] })
class Note {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @Column() body!: string
}

/** Declared region before code, so that a stable JSON must reorder them. */
@Entity('aud_pair')
@Audited()
class Pair {
  @PrimaryColumn({ type: 'varchar', length: 20 }) region!: string
  @PrimaryColumn({ type: 'int' }) code!: number
  @Column() label!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Pair>) {
    return handle('pair', this, timing, type, ctx)
  }
}

/** Not audited: entries only through ctx.writeAudit. */
@Entity('aud_plain')
class Plain {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @Column({ type: 'varchar', nullable: true }) state!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Plain>) {
    return handle('plain', this, timing, type, ctx)
  }
}

@Entity('aud_parent')
@Audited()
class Parent {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Parent>) {
    return handle('parent', this, timing, type, ctx)
  }
}

@Entity('aud_child')
@Audited()
class Child {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @ManyToOne(() => Parent, { nullable: true, onDelete: 'CASCADE' }) parent?: Parent | null

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Child>) {
    return handle('child', this, timing, type, ctx)
  }
}

const TABLES = ['aud_child', 'aud_parent', 'aud_account', 'aud_note', 'aud_pair', 'aud_plain', 'audit_entry'] as const

// -------------------------------------------------------------------- tests

describe(`Audit trail (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([Account, Note, Pair, Plain, Parent, Child], {}, { logging: true, logger: sqlLogger })
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    for (const table of TABLES) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    for (const kind of Object.keys(hooks) as Kind[]) delete hooks[kind]
    statements.length = 0
    capturing = false
  })

  /** Every entry, oldest first, read without the library's helper. */
  const allEntries = () => ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })

  /** The raw text of the changes column of every entry. */
  async function rawChanges(): Promise<string[]> {
    const rows: { c: unknown }[] = await ds.query(`SELECT ${ds.driver.escape('changes')} AS c FROM ${ds.driver.escape('audit_entry')}`)
    return rows.map((r) => (typeof r.c === 'string' ? r.c : Buffer.isBuffer(r.c) ? r.c.toString('utf8') : JSON.stringify(r.c)))
  }

  async function rowCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    for (const table of TABLES) counts[table] = await countRows(ds, table)
    return counts
  }

  const empty = Object.fromEntries(TABLES.map((t) => [t, 0]))

  const newAccount = (name: string, extra: Partial<Account> = {}) =>
    ds.getRepository(Account).create({ name, email: `${name}@example.com`, balance: 10, password: `secret-${name}`, ...extra })

  // ------------------------------------------------------- what an entry holds

  describe('@Audited: insert, update and delete', () => {
    it('an insert writes one entry with the new values, key, date and transaction', async () => {
      const before = Date.now()
      const a = await ds.getRepository(Account).save(newAccount('ann'))
      const entries = await allEntries()
      expect(entries).toHaveLength(1)
      const [e] = entries
      expect(e).toMatchObject({
        entityName: 'Account',
        entityId: String(a.id),
        operation: 'insert',
        userId: null,
        actionName: null,
        requestId: null,
      })
      expect(e!.changes).toMatchObject({
        name: { old: null, new: 'ann' },
        email: { old: null, new: 'ann@example.com' },
        balance: { old: null, new: 10 },
      })
      expect(e!.changes).not.toHaveProperty('password')
      expect(e!.at).toBeInstanceOf(Date)
      expect(Number.isNaN(e!.at.getTime())).toBe(false)
      // The library writes `at` from Node's clock, so it reads back right whatever the time zones of
      // Node and the database server (the TypeORM 1.x half of the matrix runs in America/New_York).
      expect(e!.at.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(e!.at.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
      expect(typeof e!.transactionId).toBe('string')
      expect(e!.transactionId.length).toBeGreaterThan(0)
    })

    it('an update of three attributes records all three, old and new', async () => {
      const a = await ds.getRepository(Account).save(newAccount('bob'))
      a.name = 'robert'
      a.email = 'robert@example.com'
      a.balance = 99
      await ds.getRepository(Account).save(a)
      const entries = await allEntries()
      expect(entries.map((e) => e.operation)).toEqual(['insert', 'update'])
      expect(entries[1]).toMatchObject({ entityName: 'Account', entityId: String(a.id) })
      expect(entries[1]!.changes).toEqual({
        name: { old: 'bob', new: 'robert' },
        email: { old: 'bob@example.com', new: 'robert@example.com' },
        balance: { old: 10, new: 99 },
      })
      // Two saves, two transactions.
      expect(entries[0]!.transactionId).not.toBe(entries[1]!.transactionId)
    })

    it('a delete records the last values under the old key', async () => {
      const a = await ds.getRepository(Account).save(newAccount('cid'))
      const id = a.id
      a.balance = 5
      await ds.getRepository(Account).save(a)
      await ds.getRepository(Account).remove(a)
      const entries = await allEntries()
      expect(entries.map((e) => e.operation)).toEqual(['insert', 'update', 'delete'])
      const del = entries[2]!
      expect(del).toMatchObject({ entityName: 'Account', entityId: String(id) })
      expect(del.changes).toMatchObject({
        name: { old: 'cid', new: null },
        email: { old: 'cid@example.com', new: null },
        balance: { old: 5, new: null },
      })
      expect(del.changes).not.toHaveProperty('password')
      expect(await countRows(ds, 'aud_account')).toBe(0)
    })

    it('every entry of one transaction has the same transactionId; other transactions another', async () => {
      await ds.getRepository(Account).save([newAccount('d1'), newAccount('d2')])
      await ds.transaction(async (m) => {
        await m.save(newAccount('d3'))
        await m.save(ds.getRepository(Note).create({ title: 't', body: 'b' }))
      })
      await ds.getRepository(Account).save(newAccount('d4'))
      const entries = await allEntries()
      expect(entries).toHaveLength(5)
      const ids = entries.map((e) => e.transactionId)
      expect(ids[0]).toBe(ids[1])
      expect(ids[2]).toBe(ids[3])
      expect(new Set([ids[0], ids[2], ids[4]]).size).toBe(3)
    })
  })

  // --------------------------------------------------------- exclude and only

  describe('options.exclude and options.only', () => {
    it('excluded attributes never reach audit_entry: insert, update, delete', async () => {
      const a = await ds.getRepository(Account).save(newAccount('eve', { password: 'hunter2-insert' }))
      a.password = 'hunter2-update'
      a.name = 'eva'
      await ds.getRepository(Account).save(a)
      a.password = 'hunter2-only'
      await ds.getRepository(Account).save(a)
      await ds.getRepository(Account).remove(a)
      const entries = await allEntries()
      expect(entries.map((e) => e.operation)).toEqual(expect.arrayContaining(['insert', 'update', 'delete']))
      expect(entries[1]!.changes).toEqual({ name: { old: 'eve', new: 'eva' } })
      for (const e of entries) expect(Object.keys(e.changes)).not.toContain('password')
      const raw = await rawChanges()
      expect(raw.length).toBe(entries.length)
      for (const text of raw) {
        expect(text).not.toMatch(/password/)
        expect(text).not.toMatch(/hunter2/)
      }
    })

    it('options.only records only the listed attributes', async () => {
      const n = await ds.getRepository(Note).save(ds.getRepository(Note).create({ title: 'first', body: 'body-one' }))
      n.title = 'second'
      n.body = 'body-two'
      await ds.getRepository(Note).save(n)
      const id = n.id
      await ds.getRepository(Note).remove(n)
      const entries = await auditTrail(ds, Note, id)
      expect(entries.map((e) => e.operation)).toEqual(['insert', 'update', 'delete'])
      expect(entries[0]!.changes).toEqual({ title: { old: null, new: 'first' } })
      expect(entries[1]!.changes).toEqual({ title: { old: 'first', new: 'second' } })
      expect(entries[2]!.changes).toEqual({ title: { old: 'second', new: null } })
      for (const text of await rawChanges()) expect(text).not.toMatch(/body/)
    })

    it('@Audited refuses exclude and only together', () => {
      expect(() => Audited({ exclude: ['a'], only: ['b'] })).toThrow(HardError)
    })
  })

  // ------------------------------------------------------------ ctx.writeAudit

  describe('ctx.writeAudit', () => {
    it('writes an entry with a custom operation word for an entity that is not @Audited', async () => {
      const p = await ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'claim', state: 'open' }))
      expect(await allEntries()).toEqual([])
      hooks.plain = async (entity: Plain, timing, type, ctx) => {
        if (timing === Post && type === Update && entity.state === 'approved') await ctx.writeAudit(entity, 'approve')
      }
      p.state = 'approved'
      await ds.getRepository(Plain).save(p)
      const entries = await auditTrail(ds, Plain, p.id)
      expect(entries).toHaveLength(1)
      expect(entries[0]).toMatchObject({ entityName: 'Plain', entityId: String(p.id), operation: 'approve' })
      expect(entries[0]!.changes).toEqual({ state: { old: 'open', new: 'approved' } })
    })

    it('without an operation word it uses the event\'s; called in Pre Insert it records the generated key', async () => {
      hooks.plain = async (entity: Plain, timing, type, ctx) => {
        if (timing === Pre && type === Insert) {
          expect(entity.id).toBeUndefined()
          await ctx.writeAudit()
        }
      }
      const p = await ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'fresh' }))
      expect(typeof p.id).toBe('number')
      const entries = await allEntries()
      expect(entries).toHaveLength(1)
      expect(entries[0]).toMatchObject({ entityName: 'Plain', entityId: String(p.id), operation: 'insert' })
      expect(entries[0]!.changes).toMatchObject({ title: { old: null, new: 'fresh' } })
    })

    it('called in Pre Insert of several entities in one save, each entry gets its own key', async () => {
      hooks.plain = async (_entity: Plain, timing, type, ctx) => {
        if (timing === Pre && type === Insert) await ctx.writeAudit(undefined, 'create')
      }
      const saved = await ds.getRepository(Plain).save(['x', 'y', 'z'].map((title) => ds.getRepository(Plain).create({ title })))
      const entries = await allEntries()
      expect(entries.map((e) => e.entityId).sort()).toEqual(saved.map((p) => String(p.id)).sort())
      for (const p of saved) {
        const [e] = await auditTrail(ds, Plain, p.id)
        expect(e!.changes).toMatchObject({ title: { old: null, new: p.title } })
      }
    })

    it('an empty operation word rejects with HardError and writes nothing', async () => {
      const errors: unknown[] = []
      hooks.plain = async (entity: Plain, timing, type, ctx) => {
        if (timing !== Post || type !== Insert) return
        for (const word of ['', '   ']) {
          try {
            await ctx.writeAudit(entity, word)
          } catch (error) {
            errors.push(error)
          }
        }
      }
      await ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'nope' }))
      expect(errors).toHaveLength(2)
      for (const e of errors) expect(e).toBeInstanceOf(HardError)
      expect(await allEntries()).toEqual([])
    })

    it('the HardError of an empty word, not caught, fails the save', async () => {
      hooks.plain = async (entity: Plain, timing, type, ctx) => {
        if (timing === Post && type === Insert) await ctx.writeAudit(entity, '')
      }
      await expect(ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'nope' }))).rejects.toBeInstanceOf(HardError)
      expect(await rowCounts()).toEqual(empty)
    })
  })

  // ----------------------------------------------------------- composite keys

  describe('composite primary keys', () => {
    it('entityId is a JSON with sorted keys, and auditTrail finds it from an object in any key order', async () => {
      const p = await ds.getRepository(Pair).save(ds.getRepository(Pair).create({ region: 'eu', code: 7, label: 'seven' }))
      await ds.getRepository(Pair).save(ds.getRepository(Pair).create({ region: 'us', code: 7, label: 'other' }))
      p.label = 'SEVEN'
      await ds.getRepository(Pair).save(p)
      await ds.getRepository(Pair).remove(p)
      const expected = JSON.stringify({ code: 7, region: 'eu' })
      const entries = await allEntries()
      expect(entries.filter((e) => e.entityId === expected).map((e) => e.operation)).toEqual(['insert', 'update', 'delete'])
      expect(entries.map((e) => e.entityId)).toContain(JSON.stringify({ code: 7, region: 'us' }))
      for (const key of [{ region: 'eu', code: 7 }, { code: 7, region: 'eu' }]) {
        const trail = await auditTrail(ds, Pair, key)
        expect(trail.map((e) => e.operation)).toEqual(['insert', 'update', 'delete'])
        expect(trail.every((e) => e.entityId === expected && e.entityName === 'Pair')).toBe(true)
      }
      expect((await auditTrail(ds, Pair, { region: 'us', code: 7 })).map((e) => e.operation)).toEqual(['insert'])
    })
  })

  // --------------------------------------------------------------- auditTrail

  describe('auditTrail', () => {
    it('returns one entity\'s entries, oldest first, from a DataSource or a manager', async () => {
      const a = await ds.getRepository(Account).save(newAccount('fay'))
      const b = await ds.getRepository(Account).save(newAccount('gus'))
      // An entry of another entity with the same id value (written directly: serial keys cannot be chosen on every database).
      await ds.getRepository(AuditEntry).save(
        ds.getRepository(AuditEntry).create({ entityName: 'Note', entityId: String(a.id), operation: 'insert', changes: {}, transactionId: 'other' }),
      )
      for (const balance of [1, 2, 3]) {
        a.balance = balance
        await ds.getRepository(Account).save(a)
        b.balance = balance + 100
        await ds.getRepository(Account).save(b)
      }
      const fromDs = await auditTrail(ds, Account, a.id)
      expect(fromDs.map((e) => e.operation)).toEqual(['insert', 'update', 'update', 'update'])
      expect(fromDs.map((e) => e.changes.balance?.new)).toEqual([10, 1, 2, 3])
      expect(fromDs.every((e) => e.entityName === 'Account' && e.entityId === String(a.id))).toBe(true)
      expect(fromDs.map((e) => e.id)).toEqual([...fromDs.map((e) => e.id)].sort((x, y) => x - y))

      expect((await auditTrail(ds.manager, Account, a.id)).map((e) => e.id)).toEqual(fromDs.map((e) => e.id))
      expect((await auditTrail(ds, Account, String(a.id))).map((e) => e.id)).toEqual(fromDs.map((e) => e.id))
      expect((await auditTrail(ds, 'Account', a.id)).map((e) => e.id)).toEqual(fromDs.map((e) => e.id))
      await ds.transaction(async (m) => {
        expect((await auditTrail(m, Account, a.id)).map((e) => e.id)).toEqual(fromDs.map((e) => e.id))
      })
      expect((await auditTrail(ds, Account, b.id)).map((e) => e.changes.balance?.new)).toEqual([10, 101, 102, 103])
      expect((await auditTrail(ds, Note, a.id)).map((e) => e.entityName)).toEqual(['Note'])
      expect(await auditTrail(ds, Account, 987654)).toEqual([])
    })
  })

  // ------------------------------------------------------------------ batching

  describe('batching', () => {
    it('saving 50 audited entities inserts their entries with one INSERT INTO audit_entry', async () => {
      const accounts = Array.from({ length: 50 }, (_, i) => newAccount(`batch${i}`))
      capturing = true
      await ds.getRepository(Account).save(accounts)
      capturing = false
      expect(auditInserts()).toHaveLength(1)
      const entries = await allEntries()
      expect(entries).toHaveLength(50)
      expect(new Set(entries.map((e) => e.entityId))).toEqual(new Set(accounts.map((a) => String(a.id))))
      expect(new Set(entries.map((e) => e.transactionId)).size).toBe(1)
      // The entries are written at the end of the transaction, after the entity rows.
      const lastAccountInsert = statements.map((q) => /INSERT\s+INTO\s+[`"]?aud_account/i.test(q)).lastIndexOf(true)
      expect(statements.indexOf(auditInserts()[0]!)).toBeGreaterThan(lastAccountInsert)
    })

    it('updating 50 in one transaction also costs one INSERT INTO audit_entry', async () => {
      const accounts = await ds.getRepository(Account).save(Array.from({ length: 50 }, (_, i) => newAccount(`upd${i}`)))
      for (const a of accounts) a.balance += 1
      statements.length = 0
      capturing = true
      await ds.transaction(async (m) => {
        for (const a of accounts.slice(0, 25)) await m.save(a)
        await m.save(accounts.slice(25))
      })
      capturing = false
      expect(auditInserts()).toHaveLength(1)
      expect((await allEntries()).filter((e) => e.operation === 'update')).toHaveLength(50)
    })
  })

  // ------------------------------------------------------------ all or nothing

  describe('all or nothing', () => {
    it('a SoftError in a Pre handler after other entities were written: no entry, no row', async () => {
      hooks.account = (entity: Account, timing) => {
        if (timing === Pre && entity.name === 'veto') throw new SoftError('no veto', { attribute: 'name' })
      }
      await expect(
        ds.getRepository(Account).save([newAccount('ok1'), newAccount('ok2'), newAccount('veto')]),
      ).rejects.toBeInstanceOf(SoftError)
      expect(await rowCounts()).toEqual(empty)
    })

    it('a SoftError in Pre Update of an earlier-inserted entity in the same transaction: nothing remains', async () => {
      hooks.account = (entity: Account, timing, type) => {
        if (timing === Pre && type === Update && entity.balance < 0) throw new SoftError('negative balance')
      }
      await expect(
        ds.transaction(async (m) => {
          const a = await m.save(newAccount('hal'))
          a.balance = -1
          await m.save(a)
        }),
      ).rejects.toBeInstanceOf(SoftError)
      expect(await rowCounts()).toEqual(empty)
    })

    it('an error in a Post handler of a nested entity saved through ctx.manager: no entry, no row', async () => {
      hooks.parent = async (entity: Parent, timing, type, ctx) => {
        if (timing === Post && type === Insert) {
          await ctx.manager.save(ctx.manager.create(Child, { name: 'first', parent: entity }))
          await ctx.manager.save(ctx.manager.create(Child, { name: 'boom', parent: entity }))
        }
      }
      hooks.child = (entity: Child, timing, type) => {
        if (timing === Post && type === Insert && entity.name === 'boom') throw new Error('child Post failed')
      }
      await expect(ds.getRepository(Parent).save(ds.getRepository(Parent).create({ name: 'p' }))).rejects.toThrow(
        'child Post failed',
      )
      expect(await rowCounts()).toEqual(empty)

      // The same save without the failure writes the three entries, in one transaction.
      delete hooks.child
      const p = await ds.getRepository(Parent).save(ds.getRepository(Parent).create({ name: 'p' }))
      const entries = await allEntries()
      expect(entries.map((e) => `${e.entityName} ${e.operation}`).sort()).toEqual(['Child insert', 'Child insert', 'Parent insert'])
      expect(new Set(entries.map((e) => e.transactionId)).size).toBe(1)
      const child = entries.find((e) => e.entityName === 'Child')!
      expect(child.changes.parent).toEqual({ old: null, new: p.id })
    })

    it('a failing statement later in the transaction: no entry, no row', async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.save(newAccount('ida'))
          await m.save(ds.getRepository(Note).create({ title: 'n', body: 'b' }))
          await m.query(`SELECT * FROM ${ds.driver.escape('aud_no_such_table')}`)
        }),
      ).rejects.toThrow()
      expect(await rowCounts()).toEqual(empty)
    })

    it('a constraint violation in the same save: no entry, no row', async () => {
      await expect(
        ds.getRepository(Account).save([newAccount('jo', { code: 'X' }), newAccount('kim', { code: 'X' })]),
      ).rejects.toThrow()
      expect(await rowCounts()).toEqual(empty)
    })

    it('a constraint violation in a later save, after Post handlers of the earlier one ran: no entry, no row', async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.save(newAccount('lou', { code: 'Y' }))
          await m.save(Array.from({ length: 3 }, (_, i) => newAccount(`n${i}`)))
          await m.save(newAccount('max', { code: 'Y' }))
        }),
      ).rejects.toThrow()
      expect(await rowCounts()).toEqual(empty)
    })

    it('a rolled-back inner transaction (savepoint) drops its entries; the outer keeps its own', async () => {
      let outer!: Account
      let innerAccount!: Account
      await ds.transaction(async (m) => {
        outer = await m.save(newAccount('outer1'))
        await expect(
          m.transaction(async (m2) => {
            innerAccount = await m2.save(newAccount('inner'))
            await m2.save(ds.getRepository(Note).create({ title: 'inner note', body: '' }))
            throw new Error('inner fails')
          }),
        ).rejects.toThrow('inner fails')
        outer.balance = 77
        await m.save(outer)
      })
      const entries = await allEntries()
      expect(entries.map((e) => `${e.entityName}#${e.entityId} ${e.operation}`)).toEqual([
        `Account#${outer.id} insert`,
        `Account#${outer.id} update`,
      ])
      expect(await auditTrail(ds, Account, innerAccount.id)).toEqual([])
      expect(await countRows(ds, 'aud_account')).toBe(1)
      expect(await countRows(ds, 'aud_note')).toBe(0)
      expect(new Set(entries.map((e) => e.transactionId)).size).toBe(1)
    })

    it('a rolled-back savepoint with no entries before it, and a committed one, in one transaction', async () => {
      let kept!: Account
      await ds.transaction(async (m) => {
        await m
          .transaction(async (m2) => {
            await m2.save(newAccount('dropped'))
            throw new Error('inner fails')
          })
          .catch(() => undefined)
        await m.transaction(async (m2) => {
          kept = await m2.save(newAccount('kept'))
        })
      })
      const entries = await allEntries()
      expect(entries.map((e) => `${e.entityId} ${e.operation}`)).toEqual([`${kept.id} insert`])
      expect(await countRows(ds, 'aud_account')).toBe(1)
    })

    it('when the outer transaction rolls back, entries of a committed inner one are dropped too', async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.transaction(async (m2) => {
            await m2.save(newAccount('inner-ok'))
          })
          throw new Error('outer fails')
        }),
      ).rejects.toThrow('outer fails')
      expect(await rowCounts()).toEqual(empty)
    })

    it('a failed save does not leave entries behind for the next transaction', async () => {
      hooks.account = (entity: Account, timing) => {
        if (timing === Pre && entity.name === 'veto') throw new SoftError('no veto')
      }
      await expect(ds.getRepository(Account).save([newAccount('lost'), newAccount('veto')])).rejects.toThrow(SoftError)
      const a = await ds.getRepository(Account).save(newAccount('next'))
      const entries = await allEntries()
      expect(entries.map((e) => `${e.entityId} ${e.operation}`)).toEqual([`${a.id} insert`])
    })
  })

  // ------------------------------------------------------ outside transactions

  describe('outside a transaction', () => {
    it('save({ transaction: false }) still writes its entries', async () => {
      const a = await ds.getRepository(Account).save(newAccount('lea'), { transaction: false })
      a.name = 'leah'
      await ds.getRepository(Account).save(a, { transaction: false })
      const entries = await auditTrail(ds, Account, a.id)
      expect(entries.map((e) => e.operation)).toEqual(['insert', 'update'])
      expect(entries[1]!.changes).toEqual({ name: { old: 'lea', new: 'leah' } })
      expect(entries[0]!.transactionId).not.toBe(entries[1]!.transactionId)
      expect(await countRows(ds, 'aud_account')).toBe(1)
    })

    it('ctx.writeAudit in Pre Insert with { transaction: false } still records the generated key', async () => {
      hooks.plain = async (_entity: Plain, timing, type, ctx) => {
        if (timing === Pre && type === Insert) await ctx.writeAudit(undefined, 'create')
      }
      const p = await ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'solo' }), { transaction: false })
      expect((await allEntries()).map((e) => `${e.entityId} ${e.operation}`)).toEqual([`${p.id} create`])
    })

    it('a failed save({ transaction: false }) leaves no entry behind for a later write', async () => {
      const [p1, p2] = await ds.getRepository(Plain).save([
        ds.getRepository(Plain).create({ title: 'one' }),
        ds.getRepository(Plain).create({ title: 'two' }),
      ])
      hooks.plain = async (entity: Plain, timing, type, ctx) => {
        if (timing !== Pre || type !== Update) return
        await ctx.writeAudit(entity, 'touch')
        if (entity.title === 'veto') throw new SoftError('no veto')
      }
      p1!.title = 'one!'
      p2!.title = 'veto'
      await expect(ds.getRepository(Plain).save([p1!, p2!], { transaction: false })).rejects.toThrow(SoftError)
      // A later, unrelated write outside a transaction, then one inside.
      const p3 = await ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'three' }), { transaction: false })
      await ds.getRepository(Plain).save(ds.getRepository(Plain).create({ title: 'four' }))
      expect(p3.id).toBeDefined()
      const entries = await allEntries()
      const written = (await ds.getRepository(Plain).find()).map((p) => p.title).sort()
      // Whatever TypeORM wrote before the veto, an entry may only describe a write that happened.
      if (!written.includes('one!')) expect(entries.filter((e) => e.operation === 'touch')).toEqual([])
      expect(entries.filter((e) => e.entityId === String(p2!.id))).toEqual([])
    })
  })
})

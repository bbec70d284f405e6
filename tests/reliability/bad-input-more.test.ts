/**
 * Reliability, issue 17 items 12 to 16: more bad input, on the database
 * chosen by DB. An audit operation word the audit table cannot hold, handlers
 * that throw something that is no Error, huge and countless unknown keys in
 * record sets, and NUL characters in where criteria. Every refusal is
 * checked for what a user sees: the error class, its name, message, entity
 * and attribute, and that nothing was written (counted with SQL), the same
 * on every database.
 */
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { Column, Entity, In, Like, Not, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import {
  Audited,
  auditTrail,
  EventActions,
  EventActionTiming,
  EventActionType,
  HardError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

type Hook = (item: MoreItem, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<MoreItem>) => unknown
/** Per-test behaviour of the handler; emptied before every test. */
const hooks: { own?: Hook } = {}

@Entity('h2bi_item')
@Audited()
class MoreItem {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) name!: string
  @Column({ type: 'int', default: 0 }) qty!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<MoreItem>) {
    return hooks.own?.(this, timing, type, ctx)
  }
}

/** Whatever an operation does with bad input (throw or reject), as a promise of the error. */
const failureOf = (fn: () => unknown): Promise<unknown> =>
  Promise.resolve()
    .then(fn)
    .then(
      (value) => {
        throw new Error(`expected a failure, got ${String(value)}`)
      },
      (error: unknown) => error,
    )

/**
 * The garbage collector, made reachable for the memory test. One collection
 * is not enough: V8 frees what only its hidden classes' weak transitions still
 * reach (an object's property names) over several.
 */
function collectGarbage(): () => Promise<void> {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  return async () => {
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      await gc()
    }
  }
}

describe(`Bad input, more (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let actions: EventActions

  beforeAll(async () => {
    ds = await openDataSource([MoreItem])
    actions = new EventActions(ds)
  })
  afterAll(async () => {
    await ds?.destroy()
  })
  beforeEach(async () => {
    for (const table of ['h2bi_item', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    delete hooks.own
  })

  const repo = () => ds.getRepository(MoreItem)
  const fresh = (name = 'fresh') => repo().create({ name, qty: 1 })
  const counts = async () => ({ items: await countRows(ds, 'h2bi_item'), audits: await countRows(ds, 'audit_entry') })
  const names = async (): Promise<string[]> =>
    ((await ds.query(`SELECT name FROM ${ds.driver.escape('h2bi_item')} ORDER BY id`)) as { name: string }[]).map((r) => r.name)

  // ------------------------------------------------- item 12: the audit word

  describe('ctx.writeAudit with an operation word the audit table cannot hold (item 12)', () => {
    it('50 characters are stored; 51 are refused when called, on every database: no row, no entry', async () => {
      const fifty = 'a'.repeat(50)
      hooks.own = (item, timing, type, ctx) => (timing === Post && type === Insert ? ctx.writeAudit(item, fifty) : undefined)
      const saved = await repo().save(fresh('fifty'))
      expect((await auditTrail(ds, MoreItem, saved.id)).map((e) => e.operation)).toEqual(['insert', fifty])

      await ds.query(`DELETE FROM ${ds.driver.escape('h2bi_item')}`)
      await ds.query(`DELETE FROM ${ds.driver.escape('audit_entry')}`)
      const long = 'b'.repeat(64)
      hooks.own = (item, timing, type, ctx) => (timing === Post && type === Insert ? ctx.writeAudit(item, long) : undefined)
      const error = await failureOf(() => repo().save(fresh('long')))
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ name: 'HardError', entityName: 'MoreItem', type: Insert, timing: Post })
      expect((error as Error).message).toBe(
        `ctx.writeAudit needs an operation word of at most 50 characters (the audit table's column), got 64: "${long}"`,
      )
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it('a word with a control character (NUL, newline) is refused the same way everywhere', async () => {
      for (const word of ['appr\0ve', 'approve\n']) {
        hooks.own = (item, timing, type, ctx) => (timing === Pre && type === Update ? ctx.writeAudit(item, word) : undefined)
        const item = await repo().save(fresh('a'))
        item.name = 'changed'
        const error = await failureOf(() => repo().save(item))
        expect(error).toMatchObject({ name: 'HardError', entityName: 'MoreItem', type: Update, timing: Pre })
        expect((error as Error).message).toBe(`ctx.writeAudit needs an operation word without control characters, got ${JSON.stringify(word)}`)
        expect(await names()).toEqual(['a'])
        expect(await countRows(ds, 'audit_entry')).toBe(1)
        delete hooks.own
        for (const table of ['h2bi_item', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
      }
    })
  })

  // ---------------------------------------- item 13: throwing a non-Error

  describe('handlers that throw something that is no Error (item 13)', () => {
    const cyclic: Record<string, unknown> = { code: 7 }
    cyclic.self = cyclic
    const thrown: [string, unknown, string][] = [
      ['a string', 'no way', '"no way"'],
      ['undefined', undefined, 'undefined'],
      ['null', null, 'null'],
      ['a plain object', { code: 42, reason: 'quota' }, '{"code":42,"reason":"quota"}'],
      ['a cyclic object', cyclic, '[object Object]'],
      ['a number', 0, '0'],
      ['a 1 MB string', 'z'.repeat(1024 * 1024), `"${'z'.repeat(79)}... (1048578 characters)`],
    ]
    const ways: [string, (value: unknown) => unknown][] = [
      ['throws', (value) => {
        throw value
      }],
      ['returns a promise rejected with', (value) => Promise.reject(value)],
      ['returns a thenable rejecting with', (value) => ({ then: (_ok: unknown, fail: (e: unknown) => void) => fail(value) })],
    ]
    const cases = ways.flatMap(([way, make]) => thrown.map(([what, value, shown]) => [`${way} ${what}`, make, value, shown] as const))

    it.each(cases)('a Pre Insert handler that %s: a HardError with entity, event, stack and the value as cause; no row, no entry', async (_label, make, value, shown) => {
      hooks.own = (_item, timing, type) => (timing === Pre && type === Insert ? make(value) : undefined)
      const error = await failureOf(() => repo().save(fresh()))
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ name: 'HardError', entityName: 'MoreItem', type: Insert, timing: Pre })
      expect((error as Error).message).toBe(`the Pre Insert handler of MoreItem threw ${shown}, which is not an Error`)
      expect(Object.prototype.hasOwnProperty.call(error, 'cause')).toBe(true)
      expect((error as Error).cause).toBe(value)
      expect((error as Error).stack).toEqual(expect.stringContaining('HardError'))
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it('a Post Update handler that throws a string: the update rolls back, and the error names the event; an Error still passes as it is', async () => {
      const item = await repo().save(fresh('before'))
      const bug = new TypeError('a bug in the handler')
      let throwing: unknown = bug
      hooks.own = (_item, timing, type) => {
        if (timing === Post && type === Update) throw throwing
      }
      item.name = 'after'
      await expect(repo().save(item)).rejects.toBe(bug)
      throwing = 'late veto'
      const error = await failureOf(() => repo().save(item))
      expect(error).toMatchObject({ name: 'HardError', entityName: 'MoreItem', type: Update, timing: Post, cause: 'late veto' })
      expect(await names()).toEqual(['before'])
      expect(await countRows(ds, 'audit_entry')).toBe(1)
    })
  })

  // ------------------------------------------ items 14, 15: record set keys

  describe('huge and countless unknown keys in fromRecordSet (items 14, 15)', () => {
    const TEN_MB = 10 * 1024 * 1024

    it('strict mode: a 10 MB unknown key makes a short message, cut like a value', async () => {
      const key = 'k'.repeat(TEN_MB)
      const error = await failureOf(() => actions.fromRecordSet(MoreItem, [{ name: 'a', [key]: 1 }], { strict: true }))
      expect(error).toMatchObject({ name: 'HardError', entityName: 'MoreItem' })
      expect((error as Error).message.length).toBeLessThan(300)
      expect((error as Error).message).toBe(`fromRecordSet(MoreItem) row 0: key '${'k'.repeat(80)}... (${TEN_MB} characters)' matches no column of MoreItem`)
    })

    it('a 10 MB alias_column key with a bad value, and a 10 MB unknown where key: short messages too', async () => {
      const alias = 'a'.repeat(TEN_MB)
      const error = await failureOf(() => actions.fromRecordSet(MoreItem, [{ [`${alias}_qty`]: 'many' }]))
      expect(error).toMatchObject({ name: 'HardError', entityName: 'MoreItem', attribute: 'qty' })
      expect((error as Error).message.length).toBeLessThan(300)
      expect((error as Error).message).toBe(`MoreItem row 0: column '${'a'.repeat(80)}... (${TEN_MB + 4} characters)' (qty) needs a number: "many"`)

      const whereError = await failureOf(() => actions.exists(MoreItem, { [alias]: 1 } as never))
      expect(whereError).toMatchObject({ name: 'HardError', entityName: 'MoreItem', attribute: alias })
      expect((whereError as Error).message.length).toBeLessThan(300)
    })

    it('40 distinct 1 MB unknown keys are not kept after the rows are gone', async () => {
      const gc = collectGarbage()
      // Warm up: the mapping itself and the first instances.
      await actions.fromRecordSet(MoreItem, [{ name: 'warm', qty: 1 }])
      await gc()
      const before = process.memoryUsage().heapUsed
      for (let i = 0; i < 40; i++) {
        const [item] = await actions.fromRecordSet(MoreItem, [{ name: `n${i}`, [`${i}:${'u'.repeat(1024 * 1024)}`]: i }])
        expect(item).toMatchObject({ name: `n${i}` })
      }
      await gc()
      const grown = process.memoryUsage().heapUsed - before
      expect(grown).toBeLessThan(8 * 1024 * 1024)
    })

    it('20,000 distinct short unknown keys are not all kept either', async () => {
      const gc = collectGarbage()
      await actions.fromRecordSet(MoreItem, [{ name: 'warm', qty: 1 }])
      await gc()
      const before = process.memoryUsage().heapUsed
      const rows = Array.from({ length: 20_000 }, (_, i) => ({ name: 'n', [`${i}_${'s'.repeat(240)}`]: i }))
      const made = (await actions.fromRecordSet(MoreItem, rows)).length
      rows.length = 0
      await gc()
      expect(made).toBe(20_000)
      // Kept, the keys alone would be 5 MB.
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 1024 * 1024)
    })
  })

  // ------------------------------------------ item 16: NUL in where values

  describe('a NUL character in where criteria values (item 16)', () => {
    const nul = (attribute: string, shown: string, label: string) => ({
      name: 'HardError',
      entityName: 'MoreItem',
      attribute,
      message:
        `${label}: MoreItem.${attribute} in the where criteria contains a NUL character (\\u0000), which PostgreSQL refuses in text ` +
        `(SQLite and MariaDB would match nothing): refused on every database, got ${shown}`,
    })

    it('exists, updateWhere and deleteWhere refuse it with the same HardError on every database; nothing changes', async () => {
      await repo().save([fresh('a'), fresh('b')])
      const value = 'a\0b'
      await expect(actions.exists(MoreItem, { name: value })).rejects.toMatchObject(nul('name', '"a\\u0000b"', 'exists(MoreItem)'))
      await expect(actions.exists(MoreItem, [{ qty: 1 }, { name: value }])).rejects.toMatchObject(nul('name', '"a\\u0000b"', 'exists(MoreItem)'))
      await expect(actions.updateWhere(MoreItem, { name: value }, { qty: 2 })).rejects.toMatchObject(nul('name', '"a\\u0000b"', 'updateWhere(MoreItem)'))
      await expect(actions.deleteWhere(MoreItem, { name: value })).rejects.toMatchObject(nul('name', '"a\\u0000b"', 'deleteWhere(MoreItem)'))
      expect(await names()).toEqual(['a', 'b'])
      expect(await countRows(ds, 'audit_entry')).toBe(2)
    })

    it('inside operators too: In, Like, Not', async () => {
      await repo().save(fresh('a'))
      await expect(actions.exists(MoreItem, { name: In(['a', 'x\0']) })).rejects.toBeInstanceOf(HardError)
      await expect(actions.exists(MoreItem, { name: Like('%\0%') })).rejects.toMatchObject({ name: 'HardError', attribute: 'name' })
      await expect(actions.deleteWhere(MoreItem, { name: Not('b\0') })).rejects.toMatchObject({ name: 'HardError', attribute: 'name' })
      expect(await names()).toEqual(['a'])
    })
  })
})

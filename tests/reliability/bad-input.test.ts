/**
 * Reliability, issue 7 part 4: bad input on the database chosen by DB.
 * Unknown attribute names, record sets with values of the wrong type, huge
 * strings, `__proto__`/`constructor`/`prototype` keys, SQL in criteria
 * values, bad action names, handlers returning foreign thenables, and
 * entities without a key where one is needed. Every refusal is checked for
 * what a user sees: the error class and its message naming entity, attribute
 * and value, no row and no audit entry written (counted with SQL), and no
 * prototype touched (checked after every test).
 */
import { Column, Entity, IsNull, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import {
  ActionEvents,
  anyInGroup,
  Audited,
  EventActions,
  EventActionTiming,
  EventActionType,
  HardError,
  inGroup,
  OnEventAction,
  runAction,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
  type PostActionEventContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

const DATETIME = DB === 'postgres' ? 'timestamp' : 'datetime'
/** MariaDB's TEXT holds 64 KB; the huge-string tests need more. */
const LONG_TEXT = DB === 'mariadb' ? 'longtext' : 'text'
const TEN_MB = 10 * 1024 * 1024

type Hook = (item: BadItem, timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<BadItem>) => unknown
/** Per-test behaviour of the handlers; emptied before every test. */
const hooks: { own?: Hook; declared?: Hook } = {}
/** Every handler call, as `timing type`. */
const calls: string[] = []

@Entity('bi_item')
@Audited({ exclude: ['body'] })
class BadItem {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 50 }) name!: string
  @Column({ type: 'int', default: 0 }) qty!: number
  @Column({ type: 'varchar', length: 50, nullable: true }) note!: string | null
  @Column({ type: DATETIME, nullable: true }) at!: Date | null
  @Column({ type: 'boolean', default: false }) flag!: boolean
  @Column({ type: 'simple-json', nullable: true }) meta!: Record<string, unknown> | null
  @Column({ type: LONG_TEXT, nullable: true }) body!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<BadItem>) {
    calls.push(`${timing} ${type}`)
    return hooks.own?.(this, timing, type, group, ctx)
  }

  @OnEventAction({ timing: EventActionTiming.Pre, types: [EventActionType.Insert, EventActionType.Update] })
  declared(group: AttributeGroup | null, ctx: EventActionContext<BadItem>) {
    return hooks.declared?.(this, ctx.timing, ctx.type, group, ctx)
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

/** A JSON text parsed the way a request body is: `__proto__` becomes an own key. */
const fromJson = <T = Record<string, unknown>>(text: string): T => JSON.parse(text) as T

const POLLUTING = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}'

describe(`Bad input (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let actions: EventActions
  const objectPrototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()
  const entityPrototypeKeys = Object.getOwnPropertyNames(BadItem.prototype).sort()

  beforeAll(async () => {
    ds = await openDataSource([BadItem])
    actions = new EventActions(ds)
  })
  afterAll(async () => {
    await ds?.destroy()
  })
  beforeEach(async () => {
    for (const table of ['bi_item', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    delete hooks.own
    delete hooks.declared
    calls.length = 0
  })
  afterEach(() => {
    // No input may reach Object.prototype or the entity's prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(objectPrototypeKeys)
    expect(Object.getOwnPropertyNames(BadItem.prototype).sort()).toEqual(entityPrototypeKeys)
    expect((BadItem.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(new BadItem())).toBe(BadItem.prototype)
  })

  const repo = () => ds.getRepository(BadItem)
  const fresh = (values: Partial<BadItem> = {}) => repo().create({ name: 'fresh', qty: 1, ...values })
  const seed = async (...names: string[]) => {
    const saved: BadItem[] = []
    for (const [i, name] of names.entries()) saved.push(await repo().save(fresh({ name, qty: i + 1 })))
    calls.length = 0
    return saved
  }
  /** Rows as the database has them, read with SQL. */
  const rows = async (): Promise<{ id: number; name: string; qty: number; note: string | null }[]> => {
    const raw: Record<string, unknown>[] = await ds.query(`SELECT id, name, qty, note FROM ${ds.driver.escape('bi_item')} ORDER BY id`)
    return raw.map((r) => ({ id: Number(r.id), name: String(r.name), qty: Number(r.qty), note: (r.note as string | null) ?? null }))
  }
  const counts = async () => ({ items: await countRows(ds, 'bi_item'), audits: await countRows(ds, 'audit_entry') })

  // -------------------------------------------------- unknown attribute names

  describe('unknown attribute names', () => {
    const unknown = (attribute: string) => ({ name: 'HardError', entityName: 'BadItem', attribute })

    it('inGroup and anyInGroup throw a HardError naming entity and attribute, also for a null group', () => {
      const item = fresh()
      const group = null
      for (const call of [
        () => inGroup(item, 'nmae' as never, group),
        () => anyInGroup(item, ['name', 'nmae'] as never, group),
        () => anyInGroup(item, 'nmae' as never, group),
      ]) {
        let error: unknown
        try {
          call()
        } catch (e) {
          error = e
        }
        expect(error).toBeInstanceOf(HardError)
        expect(error).toMatchObject(unknown('nmae'))
        expect((error as Error).message).toMatch(/BadItem has no attribute 'nmae'/)
      }
    })

    it('inGroup with an unknown name inside a Pre Insert handler fails the save: no row, no audit entry', async () => {
      hooks.own = (item, timing, type, group) => {
        if (timing === Pre && type === Insert && inGroup(item, 'nmae' as never, group)) item.note = 'never'
      }
      const error = await failureOf(() => repo().save(fresh()))
      expect(error).toMatchObject({ ...unknown('nmae'), type: Insert, timing: Pre })
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it.each([
      ['update', (a: EventActions, item: BadItem) => a.update(item, ['nmae' as never])],
      ['touch', (a: EventActions, item: BadItem) => a.touch(item, 'nmae' as never)],
      ['reset', (a: EventActions, item: BadItem) => a.reset(item, ['nmae' as never])],
      ['copy', (a: EventActions, item: BadItem) => a.copy(item, new BadItem(), ['nmae' as never])],
      ['create', (a: EventActions) => a.create(BadItem, { nmae: 'x' } as never)],
      ['exists', (a: EventActions) => a.exists(BadItem, { nmae: 'x' } as never)],
      ['updateWhere (where)', (a: EventActions) => a.updateWhere(BadItem, { nmae: 'x' } as never, { note: 'changed' })],
      ['updateWhere (values)', (a: EventActions) => a.updateWhere(BadItem, { name: 'a' }, { nmae: 'x' } as never)],
      ['deleteWhere', (a: EventActions) => a.deleteWhere(BadItem, { nmae: 'x' } as never)],
    ])('%s refuses an unknown attribute before any event or write', async (_label, operation) => {
      const [item] = await seed('a')
      item!.note = 'unsaved'
      const error = await failureOf(() => operation(actions, item!))
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject(unknown('nmae'))
      expect((error as Error).message).toMatch(/BadItem has no attribute 'nmae'/)
      expect(calls).toEqual([])
      expect(await rows()).toEqual([{ id: item!.id, name: 'a', qty: 1, note: null }])
      expect(item!.note).toBe('unsaved')
      expect(await countRows(ds, 'audit_entry')).toBe(1) // the seed's insert only
    })
  })

  // ------------------------------------------------ record sets, wrong types

  describe('fromRecordSet with values of the wrong type', () => {
    it.each<[string, Record<string, unknown>, string, RegExp]>([
      ['a string where a number column is', { name: 'a', qty: 'abc' }, 'qty', /column 'qty' \(qty\) needs a number: "abc"/],
      ['SQL where a number column is', { name: 'a', qty: '1 OR 1=1' }, 'qty', /needs a number: "1 OR 1=1"/],
      ['a fraction for an int column', { name: 'a', qty: 1.5 }, 'qty', /needs a whole number: 1.5/],
      ['a Date string for an int column', { name: 'a', qty: '2024-01-01' }, 'qty', /needs a number: "2024-01-01"/],
      ['an array for an int column', { name: 'a', qty: [1] }, 'qty', /needs a number: \[1\]/],
      ['an object where a string is', { name: { first: 'Ada' } }, 'name', /column 'name' \(name\) needs a string: \{"first":"Ada"\}/],
      ['an array where a string is', { name: ['a', 'b'] }, 'name', /needs a string: \["a","b"\]/],
      ['a boolean where a string is', { name: true }, 'name', /needs a string: true/],
      ['a Date where a string is', { name: new Date(Date.UTC(2024, 0, 2)) }, 'name', /needs a string: Date 2024-01-02T00:00:00.000Z/],
      ['null for a non-nullable column', { name: null }, 'name', /is not nullable, got null: null/],
      ['a date string that is not a date', { name: 'a', at: 'yesterday' }, 'at', /needs a date and time: "yesterday"/],
      ['February 30th (new Date() would roll it over to March 1st)', { name: 'a', at: '2024-02-30' }, 'at', /is not a date of the calendar: "2024-02-30"/],
      ['an object for a date column', { name: 'a', at: { y: 2024 } }, 'at', /needs a date and time: \{"y":2024\}/],
      ['"yes" for a boolean column', { name: 'a', flag: 'yes' }, 'flag', /needs a boolean: "yes"/],
    ])('refuses %s: HardError naming entity, row, column and value; no event, nothing written', async (_label, bad, attribute, message) => {
      const error = await failureOf(() => actions.fromRecordSet(BadItem, [{ name: 'good', qty: 1 }, bad]))
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BadItem', attribute })
      expect((error as Error).message).toMatch(/^BadItem row 1: /)
      expect((error as Error).message).toMatch(message)
      // the first row's RS2BO ran (rows are converted one at a time); the bad row's never did
      expect(calls).toEqual(['Pre RS2BO', 'Post RS2BO'])
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it('converts what can be the column type: numeric text, a number for a string, a date string, "t"', async () => {
      const [item] = await actions.fromRecordSet(BadItem, [{ name: 7, qty: ' 42 ', at: '2024-02-29T10:00:00Z', flag: 't' }])
      expect(item).toMatchObject({ name: '7', qty: 42, flag: true })
      expect(item!.at).toEqual(new Date('2024-02-29T10:00:00Z'))
    })

    it('a row that is not an object is refused, naming its index; a cyclic row does not break the message', async () => {
      const cyclic: Record<string, unknown> = { name: 'a' }
      cyclic.self = cyclic
      await expect(actions.fromRecordSet(BadItem, [{ name: 'a' }, 'name=b' as never])).rejects.toThrow('fromRecordSet(BadItem) row 1 is not an object: "name=b"')
      await expect(actions.fromRecordSet(BadItem, [['a'] as never])).rejects.toThrow(/row 0 is not an object/)
      await expect(actions.fromRecordSet(BadItem, 'rows' as never)).rejects.toThrow('fromRecordSet(BadItem) needs an array of rows, got string')
      // a cyclic value in a JSON column is the driver's business; the row itself is a valid object
      const error = await failureOf(() => actions.fromRecordSet(BadItem, [{ name: cyclic }]))
      expect(error).toMatchObject({ name: 'HardError', attribute: 'name' })
      expect((error as Error).message).toMatch(/needs a string: \[object Object\]/)
    })
  })

  // ------------------------------------------------------------- huge strings

  describe('huge strings (10 MB)', () => {
    const huge = 'x'.repeat(TEN_MB)

    it('fromRecordSet refuses 10 MB for a varchar(50) column, and the message stays short', async () => {
      const error = await failureOf(() => actions.fromRecordSet(BadItem, [{ name: huge }]))
      expect(error).toMatchObject({ name: 'HardError', entityName: 'BadItem', attribute: 'name' })
      expect((error as Error).message).toMatch(/^BadItem row 0: column 'name' \(name\) is longer than its 50 characters \(10485760\): "x{79}\.\.\. \(10485762 characters\)$/)
      expect(calls).toEqual([])
    })

    it('save() of 10 MB into varchar(50): refused and nothing is written (SQLite by the audit\'s size limit)', async () => {
      const item = fresh({ name: huge })
      const error = await failureOf(() => repo().save(item))
      if (DB === 'sqlite') {
        // SQLite does not enforce a varchar length; the audit entry's limit (65,535 bytes, as MariaDB's TEXT) does.
        expect(error).toMatchObject({ name: 'HardError', entityName: 'BadItem', attribute: 'name' })
        expect((error as Error).message).toMatch(/the audit entry of BadItem 'insert' is \d+ bytes of JSON/)
      } else {
        expect((error as Error).name).toBe('QueryFailedError')
        expect((error as Error).message).toMatch(DB === 'postgres' ? /value too long for type character varying\(50\)/ : /Data too long for column 'name'/)
      }
      expect(await counts()).toEqual({ items: 0, audits: 0 })
      expect(calls).toEqual(['Pre Insert'])
    })

    it('10 MB in a long text column round-trips through fromRecordSet, save and find unchanged', async () => {
      const [item] = await actions.fromRecordSet(BadItem, [{ name: 'big', body: huge }])
      await repo().save(item!)
      const loaded = await repo().findOneByOrFail({ id: item!.id })
      expect(loaded.body!.length).toBe(TEN_MB)
      expect(loaded.body === huge).toBe(true)
    })
  })

  // -------------------------------------------- __proto__, constructor, prototype

  describe('__proto__, constructor and prototype keys', () => {
    it('fromRecordSet ignores them (they reach no object): the instance is a plain BadItem', async () => {
      const row = fromJson(`{"name":"a",${POLLUTING.slice(1)}`)
      expect(Object.keys(row)).toEqual(['name', '__proto__', 'constructor', 'prototype'])
      const [item] = await actions.fromRecordSet(BadItem, [row])
      expect(Object.getPrototypeOf(item)).toBe(BadItem.prototype)
      expect(Object.keys(item!)).toEqual(['name'])
      expect(Object.prototype.hasOwnProperty.call(item, '__proto__')).toBe(false)
      expect(Object.prototype.hasOwnProperty.call(item, 'constructor')).toBe(false)
      expect(item!.constructor).toBe(BadItem)
      expect((item as unknown as Record<string, unknown>).polluted).toBeUndefined()
      await repo().save(item!)
      expect(await rows()).toEqual([{ id: item!.id, name: 'a', qty: 0, note: null }])
    })

    it('fromRecordSet with strict refuses them as keys that match no column', async () => {
      const error = await failureOf(() => actions.fromRecordSet(BadItem, [fromJson(`{"name":"a",${POLLUTING.slice(1)}`)], { strict: true }))
      expect(error).toMatchObject({ name: 'HardError', entityName: 'BadItem' })
      expect((error as Error).message).toBe("fromRecordSet(BadItem) row 0: key '__proto__' matches no column of BadItem")
      expect(calls).toEqual([])
    })

    it('inside a JSON value they stay data: the JSON column keeps them as own keys, save, load and copy included', async () => {
      const [item] = await actions.fromRecordSet(BadItem, [{ name: 'a', meta: POLLUTING }])
      expect(Object.getPrototypeOf(item!.meta)).toBe(Object.prototype)
      expect(Object.keys(item!.meta!)).toEqual(['__proto__', 'constructor', 'prototype'])
      await repo().save(item!)
      const loaded = await repo().findOneByOrFail({ id: item!.id })
      expect(Object.keys(loaded.meta!)).toEqual(['__proto__', 'constructor', 'prototype'])
      const copy = await actions.copy(loaded, new BadItem())
      expect(Object.keys(copy.meta!)).toEqual(['__proto__', 'constructor', 'prototype'])
      // (structuredClone builds the copy in Node's own realm, not jest's: compare the prototype's keys, not its identity)
      expect(Object.getOwnPropertyNames(Object.getPrototypeOf(copy.meta))).not.toContain('polluted')
      expect((copy.meta as Record<string, unknown>).polluted).toBeUndefined()
    })

    it.each(['__proto__', 'constructor', 'prototype'])('%s as an attribute name is refused everywhere a name is taken', async (key) => {
      const [item] = await seed('a')
      const group = null
      const attempts: [string, () => unknown][] = [
        ['inGroup', () => inGroup(item!, key as never, group)],
        ['anyInGroup', () => anyInGroup(item!, [key] as never, group)],
        ['update', () => actions.update(item!, [key] as never)],
        ['touch', () => actions.touch(item!, key as never)],
        ['reset', () => actions.reset(item!, [key] as never)],
        ['copy', () => actions.copy(item!, new BadItem(), [key] as never)],
        ['create', () => actions.create(BadItem, fromJson(`{"${key}":{"polluted":"yes"}}`))],
        ['exists', () => actions.exists(BadItem, fromJson(`{"${key}":{"polluted":"yes"}}`))],
        ['updateWhere', () => actions.updateWhere(BadItem, { name: 'a' }, fromJson(`{"${key}":{"polluted":"yes"}}`))],
        ['deleteWhere', () => actions.deleteWhere(BadItem, fromJson(`{"${key}":{"polluted":"yes"}}`))],
      ]
      for (const [label, attempt] of attempts) {
        const error = await failureOf(attempt)
        expect([label, error]).toEqual([label, expect.objectContaining({ name: 'HardError', entityName: 'BadItem', attribute: key })])
      }
      expect(calls).toEqual([])
      expect(await rows()).toEqual([{ id: item!.id, name: 'a', qty: 1, note: null }])
    })
  })

  // ----------------------------------------------------- SQL in criteria values

  describe('SQL in exists/updateWhere/deleteWhere criteria values', () => {
    const injections = ["x' OR '1'='1", "1; DROP TABLE bi_item; --", "a' --", "' OR 1=1 --", '" OR ""="']

    it.each(injections)('%s is a plain value: nothing matched, nothing changed, the table intact', async (evil) => {
      await seed('a', 'b')
      expect(await actions.exists(BadItem, { name: evil })).toBe(false)
      expect(await actions.exists(BadItem, [{ name: evil }, { note: evil }])).toBe(false)
      expect(await actions.updateWhere(BadItem, { name: evil }, { note: 'hacked' })).toBe(0)
      expect(await actions.deleteWhere(BadItem, { name: evil })).toBe(0)
      expect(await actions.deleteWhere(BadItem, { note: evil })).toBe(0)
      expect((await rows()).map((r) => [r.name, r.note])).toEqual([
        ['a', null],
        ['b', null],
      ])
      expect(calls).toEqual([])
    })

    it('a row whose name is the SQL text is matched exactly, and only that row', async () => {
      await seed('a', "x' OR '1'='1", 'b')
      expect(await actions.exists(BadItem, { name: "x' OR '1'='1" })).toBe(true)
      expect(await actions.updateWhere(BadItem, { name: "x' OR '1'='1" }, { note: 'found' })).toBe(1)
      expect(await actions.deleteWhere(BadItem, { name: "x' OR '1'='1" })).toBe(1)
      expect((await rows()).map((r) => [r.name, r.note])).toEqual([
        ['a', null],
        ['b', null],
      ])
    })

    it.each<[string, Record<string, unknown>, string, RegExp]>([
      // MariaDB casts '1 OR 1=1' to 1 and matched (and deleted) row 1; PostgreSQL threw a driver error; SQLite matched nothing.
      ['SQL text for an int column', { qty: '1 OR 1=1' }, 'qty', /BadItem\.qty in the where criteria needs a whole number, got "1 OR 1=1"/],
      ['SQL text for the key', { id: '1; DROP TABLE bi_item' }, 'id', /BadItem\.id in the where criteria needs a whole number, got "1; DROP TABLE bi_item"/],
      // MariaDB casts the names to numbers to compare them with 0: 'a' = 0 is true there.
      ['a number for a string column', { name: 0 }, 'name', /BadItem\.name in the where criteria needs a string, got 0/],
      ['an object for a string column', { name: { a: 1 } }, 'name', /needs a string, got \{"a":1\}/],
      ['a list for a string column', { name: ['a', 'b'] }, 'name', /needs one value \(for a list, use In\(\[\.\.\.\]\)\), got \["a","b"\]/],
      ['text for a date column', { at: "2024' OR '1'='1" }, 'at', /BadItem\.at in the where criteria needs a date, got "2024' OR '1'='1"/],
      ['text for a boolean column', { flag: 'true' }, 'flag', /needs a boolean, got "true"/],
      ['undefined (TypeORM 0.3 drops the condition and matches every row)', { id: undefined }, 'id', /BadItem\.id in the where criteria is undefined/],
      ['null (TypeORM 0.3 drops the condition and matches every row)', { name: null }, 'name', /BadItem\.name in the where criteria is null \(for SQL NULL, use IsNull\(\)\)/],
    ])('%s: exists, updateWhere and deleteWhere refuse it the same on every database', async (_label, where, attribute, message) => {
      await seed('a', 'b')
      for (const attempt of [
        () => actions.exists(BadItem, where as never),
        () => actions.exists(BadItem, [{ name: 'a' }, where] as never),
        () => actions.updateWhere(BadItem, where as never, { note: 'hacked' }),
        () => actions.deleteWhere(BadItem, where as never),
      ]) {
        const error = await failureOf(attempt)
        expect(error).toBeInstanceOf(HardError)
        expect(error).toMatchObject({ entityName: 'BadItem', attribute })
        expect((error as Error).message).toMatch(message)
      }
      expect(calls).toEqual([])
      expect((await rows()).map((r) => [r.name, r.note])).toEqual([
        ['a', null],
        ['b', null],
      ])
    })

    it('an empty list of where objects is refused (TypeORM would match every row); IsNull() and numeric text work', async () => {
      await seed('a', 'b')
      await expect(actions.exists(BadItem, [])).rejects.toThrow('exists(BadItem) needs at least one where object, got []')
      await expect(actions.exists(BadItem, 'name = a' as never)).rejects.toThrow('exists(BadItem) needs a where object, got "name = a"')
      await expect(actions.deleteWhere(BadItem, [{ name: 'a' }] as never)).rejects.toThrow('deleteWhere(BadItem) needs one where object, got a list')
      expect(await actions.exists(BadItem, { note: IsNull() })).toBe(true)
      expect(await actions.exists(BadItem, { qty: '2' as never })).toBe(true)
      expect(await actions.updateWhere(BadItem, { qty: 2, note: IsNull() }, { note: 'two' })).toBe(1)
      expect((await rows()).map((r) => r.note)).toEqual([null, 'two'])
    })

    it('empty criteria {} are refused by updateWhere and deleteWhere, as by TypeORM\'s update()/delete(); exists({}) asks for any row', async () => {
      await seed('a', 'b')
      await expect(actions.deleteWhere(BadItem, {})).rejects.toThrow(
        'deleteWhere(BadItem) got empty criteria {}, which would delete every row. To delete every row on purpose, load them with find() and save()/remove() them.',
      )
      await expect(actions.updateWhere(BadItem, {}, { note: 'all' })).rejects.toThrow(/updateWhere\(BadItem\) got empty criteria \{\}, which would change every row/)
      expect(calls).toEqual([])
      expect((await rows()).map((r) => [r.name, r.note])).toEqual([
        ['a', null],
        ['b', null],
      ])
      expect(await actions.exists(BadItem, {})).toBe(true)
    })
  })

  // ------------------------------------------------------------- action names

  describe('empty and invalid action names', () => {
    const badNames: [string, unknown, RegExp][] = [
      ['empty', '', /runAction needs a non-empty action name, got ""/],
      ['blank', '   ', /runAction needs a non-empty action name, got "   "/],
      ['a number', 42, /runAction needs a non-empty action name, got 42/],
      ['null', null, /runAction needs a non-empty action name, got null/],
      ['missing', undefined, /runAction needs a non-empty action name, got undefined/],
      ['a pattern', 'orders:*', /action name 'orders:\*' may not contain '\*' \(patterns are for bind\(\)\)/],
      ['a bare star', '*', /action name '\*' may not contain '\*'/],
    ]

    it.each(badNames)('runAction refuses a name that is %s: no handler, no fn, nothing written', async (_label, name, message) => {
      const events = new ActionEvents()
      const pre = jest.fn()
      const post = jest.fn()
      events.bind('*', Pre, pre)
      events.bind('*', Post, post)
      const fn = jest.fn(async () => repo().save(fresh()))
      for (const attempt of [
        () => runAction({ name: name as string }, fn),
        () => runAction({ name: name as string }, fn, { events }),
        () => runAction({ name: name as string }, fn, { events, dataSource: ds, transaction: true }),
      ]) {
        const error = await failureOf(attempt)
        expect(error).toBeInstanceOf(HardError)
        expect((error as Error).message).toMatch(message)
      }
      expect(fn).not.toHaveBeenCalled()
      expect(pre).not.toHaveBeenCalled()
      expect(post).not.toHaveBeenCalled()
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it('runAction refuses an action that is not an object', async () => {
      const fn = jest.fn()
      await expect(failureOf(() => runAction(null as never, fn))).resolves.toMatchObject({
        name: 'HardError',
        message: 'runAction needs { name, user?, requestId? }, got null',
      })
      await expect(failureOf(() => runAction('orders:submit' as never, fn))).resolves.toMatchObject({ name: 'HardError' })
      expect(fn).not.toHaveBeenCalled()
    })

    it.each<[string, unknown, RegExp]>([
      ['empty', '', /an action name must be a non-empty string, got ""/],
      ['blank', ' ', /an action name must be a non-empty string, got " "/],
      ['a number', 7, /an action name must be a non-empty string, got 7/],
      ['null', null, /an action name must be a non-empty string, got null/],
      ['a star in the middle', 'orders:*:submit', /action pattern 'orders:\*:submit': '\*' may only end a pattern/],
      ['two stars', '**', /action pattern '\*\*': '\*' may only end a pattern/],
      ['a leading star', '*:submit', /action pattern '\*:submit': '\*' may only end a pattern/],
    ])('ActionEvents.bind refuses a name that is %s, and binds nothing', async (_label, name, message) => {
      const events = new ActionEvents()
      const handler = jest.fn()
      const error = await failureOf(() => events.bind(name as string, Pre, handler))
      expect(error).toBeInstanceOf(HardError)
      expect((error as Error).message).toMatch(message)
      for (const action of ['orders:submit', 'orders:', 'x']) await runAction({ name: action }, () => undefined, { events })
      expect(handler).not.toHaveBeenCalled()
    })
  })

  // ------------------------------------------- handlers returning foreign thenables

  describe('handlers that return non-native thenables', () => {
    const refusal = () => new SoftError('the thenable says no', { attribute: 'name' })
    /** Each kind of broken thenable, and the error the caller must get (the very object). */
    const failing: [string, (error: Error) => PromiseLike<void>][] = [
      ['calls reject', (error) => ({ then: (_resolve: (v: void) => void, reject: (e: unknown) => void) => reject(error) }) as PromiseLike<void>],
      [
        'throws inside then',
        (error) =>
          ({
            then: () => {
              throw error
            },
          }) as unknown as PromiseLike<void>,
      ],
      [
        'throws from its then getter',
        (error) =>
          ({
            get then(): never {
              throw error
            },
          }) as unknown as PromiseLike<void>,
      ],
    ]

    it.each(failing)('an _eventAction thenable that %s, in Pre Insert: the save rejects with its error; no row, no entry', async (_label, make) => {
      const error = refusal()
      hooks.own = (_item, timing, type) => (timing === Pre && type === Insert ? make(error) : undefined)
      await expect(repo().save(fresh())).rejects.toBe(error)
      expect(error).toMatchObject({ entityName: 'BadItem', attribute: 'name' })
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it.each(failing)('an _eventAction thenable that %s, in Post Update: the update rolls back', async (_label, make) => {
      const [item] = await seed('a')
      const error = refusal()
      hooks.own = (_item, timing, type) => (timing === Post && type === Update ? make(error) : undefined)
      item!.name = 'changed'
      await expect(repo().save(item!)).rejects.toBe(error)
      expect((await rows()).map((r) => r.name)).toEqual(['a'])
      expect(await countRows(ds, 'audit_entry')).toBe(1)
    })

    it.each(failing)('an @OnEventAction thenable that %s: the save rejects with its error; no row', async (_label, make) => {
      const error = refusal()
      hooks.declared = () => make(error)
      await expect(repo().save(fresh())).rejects.toBe(error)
      expect(error).toMatchObject({ entityName: 'BadItem', type: Insert, timing: Pre })
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it.each(failing)('action-event handlers whose thenable %s: Pre vetoes, sync Post rolls back, after-commit Post is reported', async (_label, make) => {
      const reported: { error: unknown; ctx: PostActionEventContext }[] = []
      const events = new ActionEvents({ onPostActionError: (error, ctx) => void reported.push({ error, ctx }) })
      const preError = refusal()
      const syncError = refusal()
      const lateError = refusal()
      events.bind('items:veto', Pre, () => make(preError))
      events.bind('items:sync', Post, () => make(syncError), { mode: 'sync' })
      events.bind('items:late', Post, () => make(lateError))
      const fn = jest.fn(async (manager: unknown) => (manager as DataSource['manager']).save(fresh({ name: 'in action' })))
      const run = (name: string) => runAction({ name, user: { id: 'u1' } }, fn, { events, dataSource: ds, transaction: true })

      await expect(run('items:veto')).rejects.toBe(preError)
      expect(fn).not.toHaveBeenCalled()
      await expect(run('items:sync')).rejects.toBe(syncError)
      expect(await counts()).toEqual({ items: 0, audits: 0 })

      await expect(run('items:late')).resolves.toMatchObject({ name: 'in action' })
      expect(reported).toEqual([{ error: lateError, ctx: expect.objectContaining({ action: 'items:late' }) }])
      expect(await counts()).toEqual({ items: 1, audits: 1 })
    })

    it('a thenable that resolves twice (or resolves, then rejects) counts once: one handler run, one row, one entry', async () => {
      let settled = 0
      const twice = {
        then(resolve: (v: void) => void, reject: (e: unknown) => void) {
          settled++
          resolve()
          resolve()
          reject(new Error('too late: already resolved'))
        },
      }
      hooks.own = (_item, timing, type) => (timing === Pre && type === Insert ? twice : undefined)
      hooks.declared = () => twice
      const events = new ActionEvents({ onPostActionError: (error) => { throw error } })
      const post = jest.fn(() => twice)
      events.bind('items:twice', Pre, () => twice)
      events.bind('items:twice', Post, post)
      events.bind('items:twice', Post, () => twice, { mode: 'sync' })
      await runAction({ name: 'items:twice' }, (manager) => manager!.save(fresh()), { events, dataSource: ds, transaction: true })
      expect(calls).toEqual(['Pre Insert', 'Post Insert'])
      expect(post).toHaveBeenCalledTimes(1)
      // _eventAction, @OnEventAction, Pre-action, sync Post and after-commit Post: each adopted once
      expect(settled).toBe(5)
      expect(await counts()).toEqual({ items: 1, audits: 1 })
    })
  })

  // ------------------------------------------------ entities without a key

  describe('entities without a primary key value where one is needed', () => {
    it('update() of an unsaved entity names the key and its value; no event, nothing written', async () => {
      await seed('a')
      const error = await failureOf(() => actions.update(fresh({ name: 'new' }), ['name']))
      expect(error).toMatchObject({ name: 'HardError', entityName: 'BadItem', attribute: 'id' })
      expect((error as Error).message).toBe("update(BadItem) needs a persisted entity: its primary key 'id' is undefined")
      // a null key too (TypeORM 0.3 dropped it from the WHERE and read some other row)
      const withNull = Object.assign(fresh({ name: 'new' }), { id: null })
      await expect(actions.update(withNull, ['name'])).rejects.toMatchObject({
        name: 'HardError',
        attribute: 'id',
        message: "update(BadItem) needs a persisted entity: its primary key 'id' is null",
      })
      expect(calls).toEqual([])
      expect((await rows()).map((r) => r.name)).toEqual(['a'])
      expect(await countRows(ds, 'audit_entry')).toBe(1)
    })

    it('exists/updateWhere/deleteWhere by the key of an unsaved entity are refused (TypeORM 0.3 matched, changed or deleted every row)', async () => {
      await seed('a', 'b')
      const unsaved = fresh()
      for (const attempt of [
        () => actions.exists(BadItem, { id: unsaved.id }),
        () => actions.updateWhere(BadItem, { id: unsaved.id }, { note: 'all of them' }),
        () => actions.deleteWhere(BadItem, { id: unsaved.id }),
      ]) {
        const error = await failureOf(attempt)
        expect(error).toMatchObject({ name: 'HardError', entityName: 'BadItem', attribute: 'id' })
        expect((error as Error).message).toMatch(/^\w+\(BadItem\): BadItem\.id in the where criteria is undefined \(TypeORM 0\.3 would drop the condition and match every row\), got undefined$/)
      }
      expect((await rows()).map((r) => [r.name, r.note])).toEqual([
        ['a', null],
        ['b', null],
      ])
      expect(calls).toEqual([])
    })

    it('reset() of a never-saved instance has no state to go back to; one made by create() goes back to that', async () => {
      const bare = new BadItem()
      bare.name = 'typed'
      await expect(actions.reset(bare)).rejects.toMatchObject({
        name: 'HardError',
        entityName: 'BadItem',
        message: expect.stringMatching(/^reset\(BadItem\): the instance has no row in the database and was not made by EventActions.create/),
      })
      expect(bare.name).toBe('typed')
      const created = await actions.create(BadItem, { name: 'first' })
      created.name = 'typed'
      await actions.reset(created)
      expect(created.name).toBe('first')
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })

    it('touch() of an unsaved entity writes nothing; its next insert carries the attribute (documented)', async () => {
      const item = fresh({ note: 'n' })
      await actions.touch(item, 'note')
      expect(await counts()).toEqual({ items: 0, audits: 0 })
      expect(calls).toEqual([])
      let group: string[] = []
      hooks.own = (_i, timing, type, g) => {
        if (timing === Pre && type === Insert) group = g!.toArray()
      }
      await repo().save(item)
      expect(group).toContain('note')
      expect(await counts()).toEqual({ items: 1, audits: 1 })
    })

    it('ctx.writeAudit() of another, unsaved entity fails the save before COMMIT: no row, no entry', async () => {
      hooks.own = (_item, timing, type, _g, ctx) => (timing === Post && type === Insert ? ctx.writeAudit(fresh({ name: 'other' })) : undefined)
      const error = await failureOf(() => repo().save(fresh()))
      expect((error as Error).message).toMatch(/cannot audit BadItem 'insert': it has no primary key value/)
      expect(await counts()).toEqual({ items: 0, audits: 0 })
    })
  })
})

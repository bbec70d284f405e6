/**
 * The business-object operations of issue 3 (`EventActions`): create,
 * setAutomatics (and `@Automatic`), reset, copy (BO2BO), fromRecordSet
 * (RS2BO), update, exists, touch, updateWhere and deleteWhere. Each test
 * asserts the resulting instances, the rows in the database and the exact
 * sequence of events `[entity#id, timing, type, group]`.
 */
import {
  Column,
  CreateDateColumn,
  DataSource,
  Entity,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type Logger,
  type QueryRunner,
} from 'typeorm'
import {
  Automatic,
  EventActions,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Create, SetAutomatics, Reset, BO2BO, RS2BO, Insert, Update, Delete, Load } = EventActionType

/** A group as the recorder stores it: sorted names. */
const g = (...names: string[]): string[] => [...names].sort()

/** Every attribute of BoOrder: the group of Post Insert, of Load, and of RS2BO for a whole row. */
const ALL = g('id', 'customer', 'status', 'quantity', 'note', 'postcode', 'price', 'orderedAt', 'meta', 'createdAt', 'updatedAt', 'number', 'label')

const DATETIME = DB === 'postgres' ? 'timestamp' : 'datetime'

/** Cents in the database, euros on the instance. */
const cents = {
  to: (v: number | null | undefined) => (v == null ? v : Math.round(v * 100)),
  from: (v: number | string | null | undefined) => (v == null ? v : Number(v) / 100),
}

/** What the automatic `number` function was called with. */
interface AutomaticCall {
  entity: unknown
  ctxEntity: unknown
  type: EventActionType
}
const automaticCalls: AutomaticCall[] = []
let sequence = 0

/** The defined own values of an instance, copied (so later changes do not show). */
function definedValues(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue
    out[k] = v instanceof Date ? new Date(v.getTime()) : v !== null && typeof v === 'object' ? structuredClone(v) : v
  }
  return out
}

/** What a BoOrder handler saw, besides the recorded event. */
interface Seen {
  timing: EventActionTiming
  type: EventActionType
  values: Record<string, unknown>
  source: unknown
  previousQuantity: unknown
  inTransaction: boolean
  queryRunner: QueryRunner | undefined
}
const seen: Seen[] = []

type Hook = (o: BoOrder, timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<BoOrder>) => void | Promise<void>
/** Per-test behaviour of the BoOrder handler; cleared in beforeEach. */
let hook: Hook | undefined

@Entity('bo_order')
class BoOrder {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 40 }) customer!: string
  @Column({ type: 'varchar', length: 20, default: 'new' }) status!: string
  @Column({ type: 'int', default: 0 }) quantity!: number
  @Column({ type: 'varchar', length: 100, nullable: true }) note!: string | null
  @Column({ name: 'post_code', type: 'varchar', length: 10, nullable: true }) postcode!: string | null
  @Column({ type: 'int', nullable: true, transformer: cents }) price!: number | null
  @Column({ type: DATETIME, nullable: true }) orderedAt!: Date | null
  @Column({ type: 'simple-json', nullable: true }) meta!: { tags: string[] } | null
  @CreateDateColumn() createdAt!: Date
  @UpdateDateColumn() updatedAt!: Date

  /** A sequence number, computed asynchronously. */
  @Column({ type: 'int' })
  @Automatic<BoOrder>(async (o, ctx) => {
    automaticCalls.push({ entity: o, ctxEntity: ctx.entity, type: ctx.type })
    await new Promise((resolve) => setTimeout(resolve, 2))
    return ++sequence
  })
  number!: number

  /** A default computed from another attribute. */
  @Column({ type: 'varchar', length: 40 })
  @Automatic<BoOrder>((o) => (o.customer ?? 'anon').toUpperCase())
  label!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<BoOrder>) {
    // TypeORM clears the key before Post Delete; the database copy keeps it.
    const id = this.id ?? (type === Delete ? ctx.previous('id') : undefined)
    record(`BoOrder#${id ?? 'new'}`, timing, type, group)
    seen.push({
      timing,
      type,
      values: definedValues(this),
      source: ctx.source,
      previousQuantity: ctx.previous('quantity'),
      inTransaction: ctx.manager.queryRunner?.isTransactionActive === true,
      queryRunner: ctx.manager.queryRunner,
    })
    return hook?.(this, timing, type, group, ctx)
  }
}

/** The query runner the BoLine handler ran in. */
let lineQueryRunner: QueryRunner | undefined

@Entity('bo_line')
class BoLine {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'int' }) qty!: number
  @ManyToOne(() => BoOrder, { nullable: false }) order!: BoOrder

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<BoLine>) {
    record(`BoLine#${this.id ?? 'new'}`, timing, type, group)
    if (type !== Insert) return
    if (timing === Pre) {
      // The CaseMaster pattern: a line updates its order's quantity with one targeted UPDATE.
      lineQueryRunner = ctx.manager.queryRunner
      this.order.quantity += this.qty
      await ctx.actions.update(this.order, ['quantity'])
    }
    if (timing === Post && this.qty === 99) throw new SoftError('99 is too many', { attribute: 'qty' })
  }
}

/** Collects the SQL TypeORM sends. */
class SqlLog implements Logger {
  queries: { query: string; parameters: unknown[] | undefined }[] = []
  logQuery(query: string, parameters?: unknown[]): void {
    this.queries.push({ query, parameters })
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  clear(): void {
    this.queries = []
  }
  updates(): string[] {
    return this.queries.map((q) => q.query).filter((q) => /^\s*UPDATE\b/i.test(q))
  }
  texts(): string[] {
    return this.queries.map((q) => q.query)
  }
}

describe(`Business-object operations (${DB})`, () => {
  let ds: DataSource
  let actions: EventActions
  const sql = new SqlLog()

  beforeAll(async () => {
    ds = await openDataSource([BoOrder, BoLine], {}, { logging: true, logger: sql })
    actions = new EventActions(ds)
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('bo_line')}`)
    await ds.query(`DELETE FROM ${ds.driver.escape('bo_order')}`)
    hook = undefined
    lineQueryRunner = undefined
    sequence = 0
    automaticCalls.length = 0
    seen.length = 0
    sql.clear()
    resetRecorded()
  })

  const orders = () => ds.getRepository(BoOrder)
  const e = (name: string) => ds.driver.escape(name)
  const ORDERED_AT = new Date('2024-03-05T10:20:30.000Z')

  /** Forgets everything recorded so far. */
  function forget(): void {
    resetRecorded()
    seen.length = 0
    automaticCalls.length = 0
    sql.clear()
  }

  /** Saves a new order (automatics set by the save), then forgets its events. */
  async function seed(values: Partial<BoOrder> = {}): Promise<BoOrder> {
    const o = orders().create({ customer: 'ann', quantity: 1, note: 'n', ...values })
    await orders().save(o)
    forget()
    return o
  }

  /** A fresh copy from the database, its Load events forgotten. */
  async function fresh(id: number): Promise<BoOrder> {
    const o = await orders().findOneByOrFail({ id })
    forget()
    return o
  }

  /** The stored row, read with SQL. */
  async function row(id: number) {
    const rows = await ds.query(`SELECT * FROM ${e('bo_order')} WHERE ${e('id')} = ${Number(id)}`)
    expect(rows).toHaveLength(1)
    const r = rows[0]
    return {
      customer: r.customer as string,
      status: r.status as string,
      quantity: Number(r.quantity),
      note: r.note as string | null,
      postcode: r.post_code as string | null,
      price: r.price === null ? null : Number(r.price),
      number: Number(r.number),
      label: r.label as string,
    }
  }

  // ---------------------------------------------------------------- create

  describe('create', () => {
    it('Pre Create sees the empty instance, then the values are applied, then SetAutomatics, then Post Create; nothing is saved', async () => {
      const o = await actions.create(BoOrder, { customer: 'ann', quantity: 3 })
      expect(o).toBeInstanceOf(BoOrder)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, Create, null],
        ['BoOrder#new', Pre, SetAutomatics, g('number', 'label')],
        ['BoOrder#new', Post, SetAutomatics, g('number', 'label')],
        ['BoOrder#new', Post, Create, null],
      ])
      expect(seen[0]!.values).toEqual({})
      // the values are in before the automatics are computed
      expect(seen[1]!.values).toEqual({ customer: 'ann', quantity: 3 })
      expect(seen[3]!.values).toEqual({ customer: 'ann', quantity: 3, number: 1, label: 'ANN' })
      expect(definedValues(o)).toEqual({ customer: 'ann', quantity: 3, number: 1, label: 'ANN' })
      expect(automaticCalls).toEqual([{ entity: o, ctxEntity: o, type: SetAutomatics }])
      expect(automaticCalls[0]!.entity).toBe(o)
      expect(await countRows(ds, 'bo_order')).toBe(0)
      expect(sql.texts().filter((q) => /^\s*INSERT\b/i.test(q))).toEqual([])
    })

    it('without values; an automatic attribute given in values is not computed again', async () => {
      const empty = await actions.create(BoOrder)
      expect(definedValues(empty)).toEqual({ number: 1, label: 'ANON' })
      forget()
      const given = await actions.create(BoOrder, { customer: 'bob', number: 77 })
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, Create, null],
        ['BoOrder#new', Pre, SetAutomatics, ['label']],
        ['BoOrder#new', Post, SetAutomatics, ['label']],
        ['BoOrder#new', Post, Create, null],
      ])
      expect(definedValues(given)).toEqual({ customer: 'bob', number: 77, label: 'BOB' })
      expect(automaticCalls).toEqual([])
    })

    it('a SoftError in Pre Create stops it: no values, no automatics, no Post', async () => {
      hook = (o, timing, type) => {
        if (timing === Pre && type === Create) throw new SoftError('no new orders today')
      }
      await expect(actions.create(BoOrder, { customer: 'ann' })).rejects.toMatchObject({
        name: 'SoftError',
        entityName: 'BoOrder',
        type: Create,
        timing: Pre,
      })
      expect(recorded).toEqual([['BoOrder#new', Pre, Create, null]])
      expect(automaticCalls).toEqual([])
      expect(await countRows(ds, 'bo_order')).toBe(0)
    })

    it('an unknown attribute in values throws a HardError naming entity and attribute, before any event', async () => {
      const error = await actions.create(BoOrder, { customer: 'ann', bogus: 1 } as Partial<BoOrder>).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder', attribute: 'bogus' })
      expect((error as Error).message).toMatch(/BoOrder/)
      expect((error as Error).message).toMatch(/bogus/)
      expect(recorded).toEqual([])
    })
  })

  // --------------------------------------------------------- setAutomatics

  describe('setAutomatics and @Automatic', () => {
    it('sets only the automatic attributes still undefined; the function gets (entity, ctx) and may be async', async () => {
      const o = new BoOrder()
      o.customer = 'cy'
      o.number = 5
      const result = await actions.setAutomatics(o)
      expect(result).toBe(o)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, SetAutomatics, ['label']],
        ['BoOrder#new', Post, SetAutomatics, ['label']],
      ])
      expect(seen[0]!.values).toEqual({ customer: 'cy', number: 5 })
      expect(definedValues(o)).toEqual({ customer: 'cy', number: 5, label: 'CY' })
      expect(automaticCalls).toEqual([])

      forget()
      const n = new BoOrder()
      n.label = 'fixed'
      await actions.setAutomatics(n)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, SetAutomatics, ['number']],
        ['BoOrder#new', Post, SetAutomatics, ['number']],
      ])
      // the async function's result, not a promise
      expect(n.number).toBe(1)
      expect(automaticCalls).toHaveLength(1)
      expect(automaticCalls[0]!.entity).toBe(n)
      expect(automaticCalls[0]!.ctxEntity).toBe(n)
      expect(automaticCalls[0]!.type).toBe(SetAutomatics)
    })

    it('fires no events when no automatic attribute is due', async () => {
      const o = new BoOrder()
      o.customer = 'cy'
      o.number = 5
      o.label = 'kept'
      await actions.setAutomatics(o)
      expect(recorded).toEqual([])
      expect(definedValues(o)).toEqual({ customer: 'cy', number: 5, label: 'kept' })
      expect(automaticCalls).toEqual([])
    })

    it('{ force: true } sets all of them', async () => {
      const o = new BoOrder()
      o.customer = 'cy'
      o.number = 5
      o.label = 'kept'
      await actions.setAutomatics(o, { force: true })
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, SetAutomatics, g('number', 'label')],
        ['BoOrder#new', Post, SetAutomatics, g('number', 'label')],
      ])
      expect(definedValues(o)).toEqual({ customer: 'cy', number: 1, label: 'CY' })
      expect(automaticCalls).toHaveLength(1)
    })

    it('saving an entity made with new applies the unset automatics before Pre Insert, and writes them', async () => {
      const o = new BoOrder()
      o.customer = 'dee'
      o.number = 40
      await orders().save(o)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, SetAutomatics, ['label']],
        ['BoOrder#new', Post, SetAutomatics, ['label']],
        ['BoOrder#new', Pre, Insert, g('customer', 'number', 'label')],
        [`BoOrder#${o.id}`, Post, Insert, ALL],
      ])
      // Pre Insert already sees the automatic value
      expect(seen[2]!.values).toEqual({ customer: 'dee', number: 40, label: 'DEE' })
      expect(o.label).toBe('DEE')
      expect(await row(o.id)).toMatchObject({ customer: 'dee', number: 40, label: 'DEE' })

      forget()
      const both = new BoOrder()
      both.customer = 'eve'
      await orders().save(both)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, SetAutomatics, g('number', 'label')],
        ['BoOrder#new', Post, SetAutomatics, g('number', 'label')],
        ['BoOrder#new', Pre, Insert, g('customer', 'number', 'label')],
        [`BoOrder#${both.id}`, Post, Insert, ALL],
      ])
      expect(await row(both.id)).toMatchObject({ customer: 'eve', number: 1, label: 'EVE' })
    })

    it('an instance whose automatics are all set fires no SetAutomatics on insert', async () => {
      const o = await actions.create(BoOrder, { customer: 'fay' })
      forget()
      await orders().save(o)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, Insert, g('customer', 'number', 'label')],
        [`BoOrder#${o.id}`, Post, Insert, ALL],
      ])
      expect(await row(o.id)).toMatchObject({ customer: 'fay', number: 1, label: 'FAY' })
    })
  })

  // ----------------------------------------------------------------- reset

  describe('reset', () => {
    it('default group: the attributes that differ from the loaded state; Pre sees them changed, Post reverted', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1, note: 'n' })
      const o = await fresh(id)
      const loaded = definedValues(o)
      o.customer = 'changed'
      o.quantity = 9
      const result = await actions.reset(o)
      expect(result).toBe(o)
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Reset, g('customer', 'quantity')],
        [`BoOrder#${id}`, Post, Reset, g('customer', 'quantity')],
      ])
      expect(seen[0]!.values).toMatchObject({ customer: 'changed', quantity: 9 })
      expect(seen[1]!.values).toMatchObject({ customer: 'ann', quantity: 1 })
      expect(definedValues(o)).toEqual(loaded)
      expect(await row(id)).toMatchObject({ customer: 'ann', quantity: 1 })
    })

    it('after a save, reset goes back to the saved state (not the loaded one)', async () => {
      const { id } = await seed({ customer: 'ann' })
      const o = await fresh(id)
      o.customer = 'saved'
      await orders().save(o)
      forget()
      o.customer = 'unsaved'
      o.note = 'x'
      await actions.reset(o)
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Reset, g('customer', 'note')],
        [`BoOrder#${id}`, Post, Reset, g('customer', 'note')],
      ])
      expect(o.customer).toBe('saved')
      expect(o.note).toBe('n')
    })

    it('after an insert of an instance made by create, reset goes back to what was inserted', async () => {
      const o = await actions.create(BoOrder, { customer: 'ann' })
      o.customer = 'inserted'
      await orders().save(o)
      forget()
      o.customer = 'unsaved'
      await actions.reset(o)
      expect(recorded).toEqual([
        [`BoOrder#${o.id}`, Pre, Reset, ['customer']],
        [`BoOrder#${o.id}`, Post, Reset, ['customer']],
      ])
      expect(o.customer).toBe('inserted')
    })

    it('a never-saved entity made by create reverts to its state right after create', async () => {
      const o = await actions.create(BoOrder, { customer: 'ann', quantity: 2 })
      const created = definedValues(o)
      forget()
      o.customer = 'x'
      o.quantity = 5
      o.note = 'added'
      o.label = 'relabelled'
      await actions.reset(o)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, Reset, g('customer', 'quantity', 'note', 'label')],
        ['BoOrder#new', Post, Reset, g('customer', 'quantity', 'note', 'label')],
      ])
      expect(definedValues(o)).toEqual(created)
      expect(created).toEqual({ customer: 'ann', quantity: 2, number: 1, label: 'ANN' })
    })

    it('explicit attributes: only those are reverted, and they are the group', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1 })
      const o = await fresh(id)
      o.customer = 'changed'
      o.quantity = 9
      await actions.reset(o, ['customer'])
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Reset, ['customer']],
        [`BoOrder#${id}`, Post, Reset, ['customer']],
      ])
      expect(o.customer).toBe('ann')
      expect(o.quantity).toBe(9)
    })

    it('a Pre Reset veto leaves the entity unchanged', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1 })
      const o = await fresh(id)
      o.customer = 'changed'
      o.quantity = 9
      const before = definedValues(o)
      hook = (_o, timing, type) => {
        if (timing === Pre && type === Reset) throw new SoftError('keep my changes')
      }
      await expect(actions.reset(o)).rejects.toMatchObject({ name: 'SoftError', entityName: 'BoOrder', type: Reset, timing: Pre })
      expect(recorded).toEqual([[`BoOrder#${id}`, Pre, Reset, g('customer', 'quantity')]])
      expect(definedValues(o)).toEqual(before)
    })

    it('an entity with no known state (plain new) throws a HardError', async () => {
      const o = new BoOrder()
      o.customer = 'x'
      const error = await actions.reset(o).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder' })
      expect(recorded).toEqual([])
      expect(o.customer).toBe('x')
    })

    it('after update(entity, attrs), reset reverts an attribute that was changed but not written to the stored value', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1, note: 'n' })
      const o = await fresh(id)
      o.quantity = 5
      o.note = 'not written'
      await actions.update(o, ['quantity'])
      expect(await row(id)).toMatchObject({ quantity: 5, note: 'n' })
      forget()
      await actions.reset(o)
      // the last saved state of note is what the database holds: 'n'
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Reset, ['note']],
        [`BoOrder#${id}`, Post, Reset, ['note']],
      ])
      expect(o.note).toBe('n')
      expect(o.quantity).toBe(5)
    })
  })

  // ------------------------------------------------------------------ copy

  describe('copy (BO2BO)', () => {
    async function loadedSource(): Promise<BoOrder> {
      const { id } = await seed({
        customer: 'src',
        status: 'locked',
        quantity: 4,
        note: 'source note',
        postcode: 'AB1',
        price: 12.5,
        orderedAt: ORDERED_AT,
        meta: { tags: ['a', 'b'] },
      })
      return fresh(id)
    }

    it('fires BO2BO on the target with ctx.source = the source; copies all but keys, generated, dates and automatics', async () => {
      const source = await loadedSource()
      const sourceBefore = definedValues(source)
      const target = await actions.create(BoOrder, { customer: 'tgt' })
      const targetBefore = definedValues(target)
      forget()
      const result = await actions.copy(source, target)
      expect(result).toBe(target)
      const group = g('customer', 'status', 'quantity', 'note', 'postcode', 'price', 'orderedAt', 'meta')
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, BO2BO, group],
        ['BoOrder#new', Post, BO2BO, group],
      ])
      expect(seen[0]!.source).toBe(source)
      expect(seen[1]!.source).toBe(source)
      // Pre runs before the values are copied
      expect(seen[0]!.values).toEqual(targetBefore)
      expect(definedValues(target)).toEqual({
        customer: 'src',
        status: 'locked',
        quantity: 4,
        note: 'source note',
        postcode: 'AB1',
        price: 12.5,
        orderedAt: ORDERED_AT,
        meta: { tags: ['a', 'b'] },
        number: targetBefore.number,
        label: 'TGT',
      })
      expect(target.id).toBeUndefined()
      expect(target.createdAt).toBeUndefined()
      expect(target.updatedAt).toBeUndefined()
      expect(source.number).not.toBe(target.number)
      expect(definedValues(source)).toEqual(sourceBefore)
      // the copy can be saved as a new row
      await orders().save(target)
      expect(target.id).not.toBe(source.id)
      expect(await row(target.id)).toMatchObject({ customer: 'src', status: 'locked', price: 1250, label: 'TGT' })
    })

    it('copied Date and JSON values are not shared with the source', async () => {
      const source = await loadedSource()
      const target = await actions.create(BoOrder)
      await actions.copy(source, target)
      expect(target.orderedAt).not.toBe(source.orderedAt)
      expect(target.meta).not.toBe(source.meta)
      expect(target.meta!.tags).not.toBe(source.meta!.tags)
      source.orderedAt!.setTime(0)
      source.meta!.tags.push('changed')
      expect(target.orderedAt!.getTime()).toBe(ORDERED_AT.getTime())
      expect(target.meta).toEqual({ tags: ['a', 'b'] })
    })

    it('a Pre veto leaves the target unchanged', async () => {
      const source = await loadedSource()
      const target = await actions.create(BoOrder, { customer: 'tgt' })
      const before = definedValues(target)
      forget()
      hook = (_o, timing, type, _group, ctx) => {
        if (timing === Pre && type === BO2BO && (ctx.source as BoOrder).status === 'locked') {
          throw new SoftError('a locked order cannot be copied', { attribute: 'status' })
        }
      }
      await expect(actions.copy(source, target)).rejects.toMatchObject({
        name: 'SoftError',
        entityName: 'BoOrder',
        type: BO2BO,
        timing: Pre,
        attribute: 'status',
      })
      expect(recorded.map((r) => r.slice(0, 3))).toEqual([['BoOrder#new', Pre, BO2BO]])
      expect(definedValues(target)).toEqual(before)
    })

    it('explicit attributes: only those, and they are the group; a Post handler may undo status', async () => {
      const source = await loadedSource()
      const target = await actions.create(BoOrder, { customer: 'tgt', quantity: 1 })
      forget()
      await actions.copy(source, target, ['note', 'status'])
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, BO2BO, g('note', 'status')],
        ['BoOrder#new', Post, BO2BO, g('note', 'status')],
      ])
      expect(target).toMatchObject({ customer: 'tgt', quantity: 1, note: 'source note', status: 'locked' })
      expect(target.postcode).toBeUndefined()

      // "copying an order must not copy its status"
      hook = (o, timing, type, group) => {
        if (timing === Post && type === BO2BO && group?.has('status')) o.status = 'new'
      }
      const other = await actions.create(BoOrder, { customer: 'other' })
      await actions.copy(source, other)
      expect(other.status).toBe('new')
      expect(other.customer).toBe('src')
    })

    it('an unknown attribute throws a HardError naming it, with no events and the target unchanged', async () => {
      const source = await loadedSource()
      const target = await actions.create(BoOrder, { customer: 'tgt' })
      const before = definedValues(target)
      forget()
      const error = await actions.copy(source, target, ['customer', 'nope'] as (keyof BoOrder & string)[]).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder', attribute: 'nope' })
      expect((error as Error).message).toMatch(/nope/)
      expect(recorded).toEqual([])
      expect(definedValues(target)).toEqual(before)
    })
  })

  // --------------------------------------------------------- fromRecordSet

  describe('fromRecordSet (RS2BO)', () => {
    async function seedTwo(): Promise<BoOrder[]> {
      const a = await seed({ customer: 'ann', quantity: 2, postcode: 'AB1', price: 12.5, orderedAt: ORDERED_AT, meta: { tags: ['x'] } })
      const b = await seed({ customer: 'bob', quantity: 3, note: null })
      const loaded = [await orders().findOneByOrFail({ id: a.id }), await orders().findOneByOrFail({ id: b.id })]
      forget()
      return loaded
    }

    it('rows from manager.query(): database column names (post_code), column types and the transformer', async () => {
      const loaded = await seedTwo()
      const rows = await ds.query(`SELECT * FROM ${e('bo_order')} ORDER BY ${e('id')}`)
      expect(Object.keys(rows[0])).toContain('post_code')
      forget()
      const result = await actions.fromRecordSet(BoOrder, rows)
      expect(result).toHaveLength(2)
      expect(result[0]).toBeInstanceOf(BoOrder)
      expect(result[0]).toEqual(loaded[0])
      expect(result[1]).toEqual(loaded[1])
      expect(result[0]).toMatchObject({ customer: 'ann', postcode: 'AB1', price: 12.5, quantity: 2, meta: { tags: ['x'] } })
      expect(result[0]!.orderedAt).toBeInstanceOf(Date)
      expect(result[0]!.orderedAt!.getTime()).toBe(ORDERED_AT.getTime())
      expect(result[0]!.createdAt.getTime()).toBe(loaded[0]!.createdAt.getTime())
      expect(recorded).toEqual([
        [`BoOrder#new`, Pre, RS2BO, ALL],
        [`BoOrder#${loaded[0]!.id}`, Post, RS2BO, ALL],
        [`BoOrder#new`, Pre, RS2BO, ALL],
        [`BoOrder#${loaded[1]!.id}`, Post, RS2BO, ALL],
      ])
      // Pre sees the empty instance and the raw row; Post the values
      expect(seen[0]!.values).toEqual({})
      expect(seen[0]!.source).toBe(rows[0])
      expect(seen[1]!.source).toBe(rows[0])
      expect(seen[1]!.values).toMatchObject({ customer: 'ann', postcode: 'AB1', price: 12.5 })
      expect(seen[2]!.values).toEqual({})
      expect(seen[2]!.source).toBe(rows[1])
      expect(seen[3]!.source).toBe(rows[1])
    })

    it('rows from QueryBuilder getRawMany() (alias_column keys)', async () => {
      const loaded = await seedTwo()
      const rows = await orders().createQueryBuilder('o').orderBy('o.id').getRawMany()
      expect(Object.keys(rows[0])).toEqual(expect.arrayContaining(['o_id', 'o_customer', 'o_post_code', 'o_price']))
      forget()
      const result = await actions.fromRecordSet(BoOrder, rows)
      expect(result).toEqual(loaded)
      expect(result[0]).toMatchObject({ postcode: 'AB1', price: 12.5 })
      expect(recorded).toEqual([
        [`BoOrder#new`, Pre, RS2BO, ALL],
        [`BoOrder#${loaded[0]!.id}`, Post, RS2BO, ALL],
        [`BoOrder#new`, Pre, RS2BO, ALL],
        [`BoOrder#${loaded[1]!.id}`, Post, RS2BO, ALL],
      ])
      expect(seen[0]!.source).toBe(rows[0])
    })

    it('getRawMany() with a joined alias: the joined columns (l_id) never overwrite those of the entity (o_id)', async () => {
      const order = await seed({ customer: 'ann', quantity: 1 })
      await ds.getRepository(BoLine).save(ds.getRepository(BoLine).create({ qty: 2, order }))
      await ds.getRepository(BoLine).save(ds.getRepository(BoLine).create({ qty: 3, order }))
      const rows = await orders()
        .createQueryBuilder('o')
        .leftJoin(BoLine, 'l', `l.orderId = o.id`)
        .addSelect('l.id')
        .addSelect('l.qty')
        .orderBy('l.id')
        .getRawMany()
      expect(rows).toHaveLength(2)
      expect(Object.keys(rows[0])).toEqual(expect.arrayContaining(['o_id', 'l_id']))
      // two different line ids: at least one differs from the order's id
      expect(new Set(rows.map((r: Record<string, unknown>) => Number(r.l_id))).size).toBe(2)
      forget()
      const result = await actions.fromRecordSet(BoOrder, rows).catch((x: unknown) => x)
      if (result instanceof HardError) {
        // refusing the ambiguous key is acceptable; silently taking the line's id is not
        expect(result.message).toMatch(/l_id|o_id/)
        return
      }
      expect((result as BoOrder[]).map((o) => o.id)).toEqual([order.id, order.id])
      expect((result as BoOrder[]).map((o) => o.quantity)).toEqual([4, 4])
    })

    it('property names; strings converted by column type and transformer; unknown keys ignored; group = attributes in the row', async () => {
      const rows = [
        { customer: 'cy', quantity: '7', price: '1999', orderedAt: '2024-03-05T10:20:30.000Z', meta: '{"tags":["q"]}', bogus: 'ignored' },
        { customer: 'dee', postcode: null },
      ]
      const result = await actions.fromRecordSet(BoOrder, rows)
      expect(definedValues(result[0]!)).toEqual({
        customer: 'cy',
        quantity: 7,
        price: 19.99,
        orderedAt: ORDERED_AT,
        meta: { tags: ['q'] },
      })
      expect(result[0]).not.toHaveProperty('bogus')
      expect(definedValues(result[1]!)).toEqual({ customer: 'dee', postcode: null })
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, RS2BO, g('customer', 'quantity', 'price', 'orderedAt', 'meta')],
        ['BoOrder#new', Post, RS2BO, g('customer', 'quantity', 'price', 'orderedAt', 'meta')],
        ['BoOrder#new', Pre, RS2BO, g('customer', 'postcode')],
        ['BoOrder#new', Post, RS2BO, g('customer', 'postcode')],
      ])
      expect(seen[0]!.values).toEqual({})
      expect(seen[0]!.source).toBe(rows[0])
      expect(seen[2]!.source).toBe(rows[1])
      // nothing is saved; the instance can be reset to what the row said
      expect(await countRows(ds, 'bo_order')).toBe(0)
      result[0]!.customer = 'changed'
      await actions.reset(result[0]!)
      expect(result[0]!.customer).toBe('cy')
    })

    it('{ strict: true } throws a HardError for an unknown key', async () => {
      const error = await actions.fromRecordSet(BoOrder, [{ customer: 'cy', bogus: 1 }], { strict: true }).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect((error as Error).message).toMatch(/bogus/)
      expect(recorded).toEqual([])
      // without strict the same row is fine
      await expect(actions.fromRecordSet(BoOrder, [{ customer: 'cy', bogus: 1 }])).resolves.toHaveLength(1)
    })

    it('a value that cannot be converted throws a HardError naming row index, column and value', async () => {
      const notInt = await actions
        .fromRecordSet(BoOrder, [{ customer: 'a', quantity: 1 }, { customer: 'b', quantity: 'abc' }])
        .catch((x: unknown) => x)
      expect(notInt).toBeInstanceOf(HardError)
      expect(notInt).toMatchObject({ entityName: 'BoOrder', attribute: 'quantity' })
      expect((notInt as Error).message).toMatch(/row 1\b/)
      expect((notInt as Error).message).toMatch(/quantity/)
      expect((notInt as Error).message).toMatch(/abc/)

      const badDate = await actions.fromRecordSet(BoOrder, [{ customer: 'a', orderedAt: 'not a date' }]).catch((x: unknown) => x)
      expect(badDate).toBeInstanceOf(HardError)
      expect(badDate).toMatchObject({ entityName: 'BoOrder', attribute: 'orderedAt' })
      expect((badDate as Error).message).toMatch(/row 0\b/)
      expect((badDate as Error).message).toMatch(/orderedAt/)
      expect((badDate as Error).message).toMatch(/not a date/)

      const fraction = await actions.fromRecordSet(BoOrder, [{ quantity: '2.5' }]).catch((x: unknown) => x)
      expect(fraction).toBeInstanceOf(HardError)
      expect((fraction as Error).message).toMatch(/2\.5/)
    })

    it('__proto__, constructor and prototype keys never touch any prototype', async () => {
      const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort()
      const boBefore = Object.getOwnPropertyNames(BoOrder.prototype).sort()
      const row = JSON.parse(
        '{"customer":"p","__proto__":{"polluted":"yes","customer":"proto"},"constructor":{"prototype":{"polluted2":"yes"}},"prototype":{"polluted3":"yes"}}',
      ) as Record<string, unknown>
      expect(Object.keys(row)).toEqual(['customer', '__proto__', 'constructor', 'prototype'])
      const [o] = await actions.fromRecordSet(BoOrder, [row])
      expect(Object.getPrototypeOf(o)).toBe(BoOrder.prototype)
      expect(definedValues(o!)).toEqual({ customer: 'p' })
      expect(Object.getOwnPropertyNames(o).sort()).toEqual(['customer'])
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, RS2BO, ['customer']],
        ['BoOrder#new', Post, RS2BO, ['customer']],
      ])
      const strict = await actions.fromRecordSet(BoOrder, [row], { strict: true }).catch((x: unknown) => x)
      expect(strict).toBeInstanceOf(HardError)
      for (const probe of [{}, o, new BoOrder()] as Record<string, unknown>[]) {
        expect(probe.polluted).toBeUndefined()
        expect(probe.polluted2).toBeUndefined()
        expect(probe.polluted3).toBeUndefined()
      }
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore)
      expect(Object.getOwnPropertyNames(BoOrder.prototype).sort()).toEqual(boBefore)
      expect(Object.getPrototypeOf(BoOrder.prototype)).toBe(Object.prototype)
      expect(BoOrder.prototype.constructor).toBe(BoOrder)
    })
  })

  // ---------------------------------------------------------------- update

  describe('update', () => {
    it('one targeted UPDATE of exactly the named columns; the group is exactly attrs; ctx.previous is the database value', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1, note: 'n' })
      const o = await fresh(id)
      o.quantity = 5
      o.note = 'changed but not listed'
      o.customer = 'also not listed'
      const result = await actions.update(o, ['quantity'])
      expect(result).toBe(o)
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Update, ['quantity']],
        [`BoOrder#${id}`, Post, Update, ['quantity']],
      ])
      expect(seen.map((s) => s.previousQuantity)).toEqual([1, 1])
      expect(seen.map((s) => s.inTransaction)).toEqual([true, true])
      const updates = sql.updates()
      expect(updates).toHaveLength(1)
      expect(updates[0]).toContain(e('quantity'))
      expect(updates[0]).not.toContain(e('note'))
      expect(updates[0]).not.toContain(e('customer'))
      // outside a transaction, update wraps one
      expect(sql.texts().some((q) => /^(START TRANSACTION|BEGIN)/i.test(q))).toBe(true)
      expect(sql.texts().some((q) => /^COMMIT/i.test(q))).toBe(true)
      expect(await row(id)).toMatchObject({ customer: 'ann', quantity: 5, note: 'n' })
      // the instance keeps its other (unwritten) changes
      expect(o).toMatchObject({ customer: 'also not listed', note: 'changed but not listed', quantity: 5 })
    })

    it('writes the named columns even if unchanged', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1 })
      const o = await fresh(id)
      await actions.update(o, ['customer', 'quantity'])
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Update, g('customer', 'quantity')],
        [`BoOrder#${id}`, Post, Update, g('customer', 'quantity')],
      ])
      const updates = sql.updates()
      expect(updates).toHaveLength(1)
      expect(updates[0]).toContain(e('customer'))
      expect(updates[0]).toContain(e('quantity'))
      expect(await row(id)).toMatchObject({ customer: 'ann', quantity: 1 })
    })

    it('a Pre Update SoftError writes nothing', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1 })
      const o = await fresh(id)
      o.quantity = 50
      hook = (x, timing, type) => {
        if (timing === Pre && type === Update && x.quantity > 10) throw new SoftError('quantity too high', { attribute: 'quantity' })
      }
      await expect(actions.update(o, ['quantity'])).rejects.toMatchObject({
        name: 'SoftError',
        entityName: 'BoOrder',
        type: Update,
        timing: Pre,
        attribute: 'quantity',
      })
      expect(recorded).toEqual([[`BoOrder#${id}`, Pre, Update, ['quantity']]])
      expect(sql.updates()).toEqual([])
      expect(await row(id)).toMatchObject({ quantity: 1 })
    })

    it('an entity without a primary key value throws a HardError', async () => {
      const o = await actions.create(BoOrder, { customer: 'ann' })
      forget()
      const error = await actions.update(o, ['customer']).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder' })
      expect(recorded).toEqual([])
      expect(sql.updates()).toEqual([])
      expect(await countRows(ds, 'bo_order')).toBe(0)
    })

    it('an unknown attribute throws a HardError naming it', async () => {
      const o = await seed()
      const error = await actions.update(o, ['nope'] as unknown as (keyof BoOrder & string)[]).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder', attribute: 'nope' })
      expect(recorded).toEqual([])
      expect(sql.updates()).toEqual([])
    })

    it('inside a handler via ctx.actions: same transaction, one UPDATE, events nested in the line insert', async () => {
      const order = await seed({ customer: 'ann', quantity: 1 })
      const line = ds.getRepository(BoLine).create({ qty: 2, order })
      await ds.getRepository(BoLine).save(line)
      expect(recorded).toEqual([
        ['BoLine#new', Pre, Insert, g('qty', 'order')],
        [`BoOrder#${order.id}`, Pre, Update, ['quantity']],
        [`BoOrder#${order.id}`, Post, Update, ['quantity']],
        [`BoLine#${line.id}`, Post, Insert, g('id', 'qty', 'order')],
      ])
      expect(seen.map((s) => s.previousQuantity)).toEqual([1, 1])
      expect(lineQueryRunner).toBeDefined()
      expect(seen[0]!.queryRunner).toBe(lineQueryRunner)
      expect(sql.updates()).toHaveLength(1)
      expect(await row(order.id)).toMatchObject({ quantity: 3 })
    })

    it('inside a handler via ctx.actions: rolled back with the transaction it ran in', async () => {
      const order = await seed({ customer: 'ann', quantity: 1 })
      const line = ds.getRepository(BoLine).create({ qty: 99, order })
      await expect(ds.getRepository(BoLine).save(line)).rejects.toThrow(SoftError)
      expect(recorded.map((r) => r.slice(0, 3))).toEqual([
        ['BoLine#new', Pre, Insert],
        [`BoOrder#${order.id}`, Pre, Update],
        [`BoOrder#${order.id}`, Post, Update],
        [`BoLine#${line.id}`, Post, Insert],
      ])
      expect(sql.updates()).toHaveLength(1)
      expect(await row(order.id)).toMatchObject({ quantity: 1 })
      expect(await countRows(ds, 'bo_line')).toBe(0)
    })

    it('inside a transaction the caller started: uses it (rolled back with it)', async () => {
      const { id } = await seed({ customer: 'ann', quantity: 1 })
      let runner: QueryRunner | undefined
      await expect(
        ds.transaction(async (manager) => {
          runner = manager.queryRunner
          const o = await manager.findOneByOrFail(BoOrder, { id })
          o.quantity = 8
          await new EventActions(manager).update(o, ['quantity'])
          const rows = await manager.query(`SELECT ${e('quantity')} AS q FROM ${e('bo_order')} WHERE ${e('id')} = ${Number(id)}`)
          expect(Number(rows[0].q)).toBe(8)
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      const updates = seen.filter((s) => s.type === Update)
      expect(updates).toHaveLength(2)
      expect(updates[0]!.queryRunner).toBe(runner)
      expect(await row(id)).toMatchObject({ quantity: 1 })
    })
  })

  // ---------------------------------------------------------------- exists

  describe('exists', () => {
    it('true and false', async () => {
      await seed({ customer: 'ann', postcode: 'AB1' })
      await expect(actions.exists(BoOrder, { customer: 'ann' })).resolves.toBe(true)
      await expect(actions.exists(BoOrder, { customer: 'zed' })).resolves.toBe(false)
      await expect(actions.exists(BoOrder, { customer: 'ann', postcode: 'AB1' })).resolves.toBe(true)
      await expect(actions.exists(BoOrder, { customer: 'ann', postcode: 'XX' })).resolves.toBe(false)
      await expect(actions.exists(BoOrder, [{ customer: 'zed' }, { postcode: 'AB1' }])).resolves.toBe(true)
      expect(recorded).toEqual([])
    })

    it("a string with SQL in it finds nothing and does not change the SQL", async () => {
      await seed({ customer: 'ann' })
      sql.clear()
      await expect(actions.exists(BoOrder, { customer: 'zed' })).resolves.toBe(false)
      const benign = sql.texts().filter((q) => /^\s*SELECT\b/i.test(q))
      sql.clear()
      const evil = "x' OR '1'='1"
      await expect(actions.exists(BoOrder, { customer: evil })).resolves.toBe(false)
      const injected = sql.texts().filter((q) => /^\s*SELECT\b/i.test(q))
      expect(benign).toHaveLength(1)
      expect(injected).toEqual(benign)
      expect(injected[0]).not.toContain("'1'='1")
      expect(sql.queries.find((q) => /^\s*SELECT\b/i.test(q.query))!.parameters).toContain(evil)
      await expect(actions.exists(BoOrder, { customer: 'x" OR "1"="1' })).resolves.toBe(false)
      expect(await countRows(ds, 'bo_order')).toBe(1)
    })

    it('an unknown attribute throws a HardError naming it', async () => {
      const error = await actions.exists(BoOrder, { nope: 1 } as never).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder', attribute: 'nope' })
      expect((error as Error).message).toMatch(/nope/)
    })
  })

  // ----------------------------------------------------------------- touch

  describe('touch', () => {
    it('the next Update has the touched attributes in its group (and writes them); the touch is then consumed', async () => {
      const { id } = await seed({ customer: 'ann', note: 'n' })
      const o = await fresh(id)
      await actions.touch(o, 'note')
      expect(recorded).toEqual([])
      o.customer = 'changed'
      await orders().save(o)
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Update, g('customer', 'note')],
        [`BoOrder#${id}`, Post, Update, g('customer', 'note', 'updatedAt')], // TypeORM's UPDATE also sets updatedAt
      ])
      // TypeORM's UPDATE writes the changed column; the unchanged touched one is written by a
      // second, targeted UPDATE in the same transaction.
      const updates = sql.updates()
      expect(updates).toHaveLength(2)
      expect(updates[0]).toContain(e('customer'))
      expect(updates[0]).not.toContain(e('note'))
      expect(updates[1]).toContain(e('note'))
      expect(updates[1]).not.toContain(e('customer'))
      forget()
      o.quantity = 7
      await orders().save(o)
      expect(recorded).toEqual([
        [`BoOrder#${id}`, Pre, Update, ['quantity']],
        [`BoOrder#${id}`, Post, Update, g('quantity', 'updatedAt')],
      ])
      expect(await row(id)).toMatchObject({ customer: 'changed', note: 'n', quantity: 7 })
    })

    it('the next Insert has them in its group even if unset; consumed by that insert', async () => {
      const o = await actions.create(BoOrder, { customer: 'ann' })
      await actions.touch(o, 'note', 'postcode')
      forget()
      await orders().save(o)
      expect(recorded).toEqual([
        ['BoOrder#new', Pre, Insert, g('customer', 'number', 'label', 'note', 'postcode')],
        [`BoOrder#${o.id}`, Post, Insert, ALL],
      ])
      forget()
      o.customer = 'again'
      await orders().save(o)
      expect(recorded).toEqual([
        [`BoOrder#${o.id}`, Pre, Update, ['customer']],
        [`BoOrder#${o.id}`, Post, Update, g('customer', 'updatedAt')],
      ])
    })

    it('an unknown attribute throws a HardError', async () => {
      const o = await seed()
      const error = await actions.touch(o, 'nope' as keyof BoOrder & string).catch((x: unknown) => x)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({ entityName: 'BoOrder', attribute: 'nope' })
    })
  })

  // ------------------------------------------------- updateWhere / deleteWhere

  describe('updateWhere and deleteWhere', () => {
    async function seedThree(): Promise<BoOrder[]> {
      const a = await seed({ customer: 'a', status: 'open', quantity: 1 })
      const b = await seed({ customer: 'b', status: 'open', quantity: 2 })
      const c = await seed({ customer: 'c', status: 'held', quantity: 3 })
      return [a, b, c]
    }

    it('updateWhere fires Update per affected row with its group and returns the number of rows', async () => {
      const [a, b, c] = await seedThree()
      const n = await actions.updateWhere(BoOrder, { status: 'open' }, { status: 'closed', note: 'bulk' })
      expect(n).toBe(2)
      expect(recorded).toEqual([
        [`BoOrder#${a!.id}`, Pre, Load, ALL],
        [`BoOrder#${a!.id}`, Post, Load, ALL],
        [`BoOrder#${b!.id}`, Pre, Load, ALL],
        [`BoOrder#${b!.id}`, Post, Load, ALL],
        [`BoOrder#${a!.id}`, Pre, Update, g('status', 'note')],
        [`BoOrder#${a!.id}`, Post, Update, g('status', 'note', 'updatedAt')],
        [`BoOrder#${b!.id}`, Pre, Update, g('status', 'note')],
        [`BoOrder#${b!.id}`, Post, Update, g('status', 'note', 'updatedAt')],
      ])
      expect(seen.filter((s) => s.type === Update).every((s) => s.inTransaction)).toBe(true)
      expect(await row(a!.id)).toMatchObject({ status: 'closed', note: 'bulk', quantity: 1 })
      expect(await row(b!.id)).toMatchObject({ status: 'closed', note: 'bulk', quantity: 2 })
      expect(await row(c!.id)).toMatchObject({ status: 'held', note: 'n', quantity: 3 })
      await expect(actions.updateWhere(BoOrder, { status: 'nothing' }, { note: 'x' })).resolves.toBe(0)
    })

    it('updateWhere is all-or-nothing: a SoftError on the 2nd row leaves every row unchanged', async () => {
      const [a, b] = await seedThree()
      hook = (o, timing, type) => {
        if (timing === Pre && type === Update && o.customer === 'b') throw new SoftError('not b')
      }
      await expect(actions.updateWhere(BoOrder, { status: 'open' }, { status: 'closed' })).rejects.toMatchObject({
        name: 'SoftError',
        type: Update,
        timing: Pre,
      })
      // the first row was written before the second refused
      expect(recorded.filter((r) => r[2] === Update)).toEqual([
        [`BoOrder#${a!.id}`, Pre, Update, ['status']],
        [`BoOrder#${a!.id}`, Post, Update, g('status', 'updatedAt')],
        [`BoOrder#${b!.id}`, Pre, Update, ['status']],
      ])
      expect(await row(a!.id)).toMatchObject({ status: 'open' })
      expect(await row(b!.id)).toMatchObject({ status: 'open' })
    })

    it('updateWhere: an unknown attribute in where or values throws a HardError', async () => {
      await seedThree()
      await expect(actions.updateWhere(BoOrder, { nope: 1 } as never, { note: 'x' })).rejects.toMatchObject({ name: 'HardError', attribute: 'nope' })
      await expect(actions.updateWhere(BoOrder, { status: 'open' }, { nope: 1 } as never)).rejects.toMatchObject({ name: 'HardError', attribute: 'nope' })
      expect(recorded).toEqual([])
    })

    it('deleteWhere fires Delete per affected row and returns the number of rows', async () => {
      const [a, b, c] = await seedThree()
      const n = await actions.deleteWhere(BoOrder, { status: 'open' })
      expect(n).toBe(2)
      // row by row, like updateWhere: each row's Pre Delete, DELETE and Post Delete before the next row's
      expect(recorded).toEqual([
        [`BoOrder#${a!.id}`, Pre, Load, ALL],
        [`BoOrder#${a!.id}`, Post, Load, ALL],
        [`BoOrder#${b!.id}`, Pre, Load, ALL],
        [`BoOrder#${b!.id}`, Post, Load, ALL],
        [`BoOrder#${a!.id}`, Pre, Delete, null],
        [`BoOrder#${a!.id}`, Post, Delete, null],
        [`BoOrder#${b!.id}`, Pre, Delete, null],
        [`BoOrder#${b!.id}`, Post, Delete, null],
      ])
      expect(seen.filter((s) => s.type === Delete).every((s) => s.inTransaction)).toBe(true)
      expect(await countRows(ds, 'bo_order')).toBe(1)
      expect(await row(c!.id)).toMatchObject({ customer: 'c' })
      await expect(actions.deleteWhere(BoOrder, { status: 'nothing' })).resolves.toBe(0)
    })

    it('deleteWhere is all-or-nothing: a SoftError on the 2nd row leaves every row in place', async () => {
      const [a, b] = await seedThree()
      hook = (o, timing, type, _group, ctx) => {
        if (timing === Pre && type === Delete && (o.customer ?? ctx.previous('customer')) === 'b') throw new SoftError('not b')
      }
      await expect(actions.deleteWhere(BoOrder, { status: 'open' })).rejects.toMatchObject({ name: 'SoftError', type: Delete, timing: Pre })
      expect(recorded.filter((r) => r[2] === Delete && r[1] === Pre).map((r) => r[0])).toEqual([`BoOrder#${a!.id}`, `BoOrder#${b!.id}`])
      expect(await countRows(ds, 'bo_order')).toBe(3)
      expect(await row(a!.id)).toMatchObject({ customer: 'a' })
      expect(await row(b!.id)).toMatchObject({ customer: 'b' })
    })

    it('deleteWhere is all-or-nothing when the 2nd row refuses after the 1st was deleted (Post Delete)', async () => {
      const [a, b] = await seedThree()
      let deletedBeforeRefusal: number | undefined
      hook = async (o, timing, type, _group, ctx) => {
        if (timing === Post && type === Delete && ctx.previous('customer') === 'b') {
          deletedBeforeRefusal = Number(
            (await ctx.manager.query(`SELECT COUNT(*) AS n FROM ${e('bo_order')} WHERE ${e('status')} = 'open'`))[0].n,
          )
          throw new SoftError('not b')
        }
      }
      await expect(actions.deleteWhere(BoOrder, { status: 'open' })).rejects.toThrow(SoftError)
      expect(deletedBeforeRefusal).toBe(0)
      expect(await countRows(ds, 'bo_order')).toBe(3)
      expect(await row(a!.id)).toMatchObject({ customer: 'a' })
      expect(await row(b!.id)).toMatchObject({ customer: 'b' })
    })
  })
})

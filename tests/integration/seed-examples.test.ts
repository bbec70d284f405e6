/**
 * The seed's examples (issue 3, "Done when"), as tests on the database chosen
 * by DB: postcode formatting only when the postcode is in the group, a
 * duplicate-name check with `exists`, the `_noRecursion_` pattern with
 * `update(me, ['quantity'])` inside Pre Update, a line updating its order's
 * total inside a cascading save, and a copy that must not copy the status.
 */
import { Column, DataSource, Entity, ManyToOne, Not, OneToMany, PrimaryGeneratedColumn, type Logger } from 'typeorm'
import {
  EventActions,
  EventActionTiming,
  EventActionType,
  OnEventAction,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
  type EventActionsConfig,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Create, BO2BO } = EventActionType

// ---------------------------------------------------------------- SQL trace

/** Every statement sent while `capturing`. */
const sql: string[] = []
let capturing = false

const sqlLogger: Logger = {
  logQuery(query: string) {
    if (capturing) sql.push(query.trim())
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
}

async function traced<T>(run: () => Promise<T>): Promise<T> {
  sql.length = 0
  capturing = true
  try {
    return await run()
  } finally {
    capturing = false
  }
}

/** The UPDATE statements of the trace on `table`. */
function updatesOf(table: string): string[] {
  return sql.filter((q) => new RegExp(`^UPDATE\\s+[\`"]?${table}[\`"]?\\s`, 'i').test(q))
}

// ----------------------------------------------------------------- entities

/** "1234ab", " 1234 AB " -> "1234 AB" (Dutch postcodes); anything else is left alone. */
function formatPostcode(value: string): string {
  const m = /^(\d{4})([A-Z]{2})$/.exec(value.replace(/\s+/g, '').toUpperCase())
  return m ? `${m[1]} ${m[2]}` : value
}

@Entity('seed_address')
class SeedAddress {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) postcode!: string | null
  @Column({ type: 'varchar', nullable: true }) city!: string | null

  @OnEventAction({ timing: Pre, types: [Insert, Update], when: ['postcode'] })
  formatPostcode(group: AttributeGroup | null, ctx: EventActionContext<SeedAddress>) {
    record('formatPostcode', ctx.timing, ctx.type, group)
    if (this.postcode) this.postcode = formatPostcode(this.postcode)
  }
}

@Entity('seed_customer')
class SeedCustomer {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) city!: string | null

  @OnEventAction({ timing: Pre, types: [Insert], when: ['name'] })
  async uniqueNameOnInsert(group: AttributeGroup | null, ctx: EventActionContext<SeedCustomer>) {
    record('uniqueName', ctx.timing, ctx.type, group)
    if (await ctx.actions.exists(SeedCustomer, { name: this.name })) {
      throw new SoftError(`a customer named ${this.name} already exists`, { attribute: 'name' })
    }
  }

  @OnEventAction({ timing: Pre, types: [Update], when: ['name'] })
  async uniqueNameOnUpdate(group: AttributeGroup | null, ctx: EventActionContext<SeedCustomer>) {
    record('uniqueName', ctx.timing, ctx.type, group)
    if (await new EventActions(ctx.manager).exists(SeedCustomer, { name: this.name, id: Not(this.id) })) {
      throw new SoftError(`a customer named ${this.name} already exists`, { attribute: 'name' })
    }
  }
}

@Entity('seed_order')
class SeedOrder {
  @PrimaryGeneratedColumn() id!: number
  @Column() customer!: string
  @Column({ default: 'new' }) status!: string
  @Column({ default: 0 }) total!: number
  @OneToMany(() => SeedOrderLine, (line) => line.order, { cascade: true }) lines?: SeedOrderLine[]

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<SeedOrder>) {
    record(`Order#${this.id ?? 'new'} d${ctx.depth}`, timing, type, group)
  }

  @OnEventAction({ timing: Post, types: [Create] })
  initialStatus() {
    this.status ??= 'new'
  }

  /** Copying an order must not copy its status: the target keeps its own. */
  @OnEventAction({ timing: Post, types: [BO2BO], when: ['status'] })
  keepOwnStatus(group: AttributeGroup | null, ctx: EventActionContext<SeedOrder>) {
    record('keepOwnStatus', ctx.timing, ctx.type, group)
    expect(ctx.source).toBeInstanceOf(SeedOrder)
    this.status = ctx.previous('status') ?? 'new'
  }
}

const MAX_QUANTITY = 10

@Entity('seed_order_line')
class SeedOrderLine {
  @PrimaryGeneratedColumn() id!: number
  @Column() product!: string
  @Column() quantity!: number
  @Column({ default: 0 }) price!: number
  @ManyToOne(() => SeedOrder, (order) => order.lines, { nullable: true, onDelete: 'CASCADE' }) order?: SeedOrder | null

  /** The CaseMaster guard: a plain property, no column. */
  _noRecursion_ = false

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<SeedOrderLine>) {
    if (group?.has('_noRecursion_')) throw new Error('_noRecursion_ is no attribute')
    record(`Line#${this.id ?? 'new'} d${ctx.depth}`, timing, type, group)
  }

  /** Clamps the quantity and writes it with a targeted update of this very line. */
  @OnEventAction({ timing: Pre, types: [Update], when: ['quantity'] })
  async clampQuantity(group: AttributeGroup | null, ctx: EventActionContext<SeedOrderLine>) {
    record(`clampQuantity${this._noRecursion_ ? ' (guarded)' : ''} d${ctx.depth}`, ctx.timing, ctx.type, group)
    if (this._noRecursion_ || this.quantity <= MAX_QUANTITY) return
    this._noRecursion_ = true
    try {
      this.quantity = MAX_QUANTITY
      await ctx.actions.update(this, ['quantity'])
    } finally {
      this._noRecursion_ = false
    }
  }

  /** Adds the line's amount to its order with one targeted UPDATE of the order's total. */
  @OnEventAction({ timing: Post, types: [Insert] })
  async addToOrderTotal(_group: AttributeGroup | null, ctx: EventActionContext<SeedOrderLine>) {
    if (!this.order) return
    this.order.total += this.quantity * this.price
    await ctx.actions.update(this.order, ['total'])
  }
}

const ENTITIES = [SeedAddress, SeedCustomer, SeedOrder, SeedOrderLine]
const TABLES = ['seed_order_line', 'seed_order', 'seed_customer', 'seed_address']

function suite(title: string, config: EventActionsConfig, body: (get: () => DataSource) => void): void {
  describe(`${title} (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
    let ds: DataSource
    beforeAll(async () => {
      ds = await openDataSource(ENTITIES, config, { logger: sqlLogger })
    })
    afterAll(() => ds?.destroy())
    beforeEach(async () => {
      for (const table of TABLES) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
      resetRecorded()
      sql.length = 0
      capturing = false
    })
    body(() => ds)
  })
}

async function value(ds: DataSource, table: string, column: string, id: number): Promise<unknown> {
  const e = (s: string) => ds.driver.escape(s)
  const rows = await ds.query(`SELECT ${e(column)} AS v FROM ${e(table)} WHERE ${e('id')} = ${Number(id)}`)
  return rows[0]?.v
}

suite('Seed examples', {}, (get) => {
  let ds: DataSource
  let actions: EventActions
  beforeEach(() => {
    ds = get()
    actions = new EventActions(ds)
  })

  describe('postcode formatting, only when the postcode is in the group', () => {
    async function saved(values: Partial<SeedAddress>): Promise<SeedAddress> {
      const a = await ds.getRepository(SeedAddress).save(ds.getRepository(SeedAddress).create(values))
      resetRecorded()
      return a
    }

    it('Pre Insert with a postcode formats it', async () => {
      const a = await ds.getRepository(SeedAddress).save(ds.getRepository(SeedAddress).create({ name: 'home', postcode: ' 1234ab ' }))
      expect(recorded).toEqual([['formatPostcode', Pre, Insert, ['name', 'postcode']]])
      expect(a.postcode).toBe('1234 AB')
      expect(await value(ds, 'seed_address', 'postcode', a.id)).toBe('1234 AB')
    })

    it('Pre Insert without a postcode does not run the handler', async () => {
      const a = await ds.getRepository(SeedAddress).save(ds.getRepository(SeedAddress).create({ name: 'nowhere', city: 'Delft' }))
      expect(recorded).toEqual([])
      expect(await value(ds, 'seed_address', 'postcode', a.id)).toBeNull()
    })

    it('Pre Update of the postcode formats it', async () => {
      const a = await saved({ name: 'work', postcode: '1111 AA' })
      a.postcode = '5678cd'
      await ds.getRepository(SeedAddress).save(a)
      expect(recorded).toEqual([['formatPostcode', Pre, Update, ['postcode']]])
      expect(await value(ds, 'seed_address', 'postcode', a.id)).toBe('5678 CD')
    })

    it('an update of another attribute leaves a raw postcode written by SQL untouched', async () => {
      const a = await saved({ name: 'raw', postcode: '1111 AA' })
      await ds.query(`UPDATE ${ds.driver.escape('seed_address')} SET ${ds.driver.escape('postcode')} = '9999zz'`)
      const loaded = await ds.getRepository(SeedAddress).findOneByOrFail({ id: a.id })
      loaded.city = 'Utrecht'
      await ds.getRepository(SeedAddress).save(loaded)
      expect(recorded).toEqual([])
      expect(loaded.postcode).toBe('9999zz')
      expect(await value(ds, 'seed_address', 'postcode', a.id)).toBe('9999zz')
      expect(await value(ds, 'seed_address', 'city', a.id)).toBe('Utrecht')

      // The same through a targeted update of the city.
      loaded.city = 'Gouda'
      await actions.update(loaded, ['city'])
      expect(recorded).toEqual([])
      expect(await value(ds, 'seed_address', 'postcode', a.id)).toBe('9999zz')
      expect(await value(ds, 'seed_address', 'city', a.id)).toBe('Gouda')
    })

    it("update(me, ['postcode']) formats an unchanged raw postcode: the named attribute is in the group", async () => {
      const a = await saved({ name: 'again', postcode: '1111 AA' })
      await ds.query(`UPDATE ${ds.driver.escape('seed_address')} SET ${ds.driver.escape('postcode')} = '9999zz'`)
      const loaded = await ds.getRepository(SeedAddress).findOneByOrFail({ id: a.id })
      await actions.update(loaded, ['postcode'])
      expect(recorded).toEqual([['formatPostcode', Pre, Update, ['postcode']]])
      expect(await value(ds, 'seed_address', 'postcode', a.id)).toBe('9999 ZZ')
    })
  })

  describe('duplicate-name check with exists', () => {
    const customers = () => ds.getRepository(SeedCustomer)

    it('a second customer with the same name is refused with a SoftError; nothing is written', async () => {
      await customers().save(customers().create({ name: 'Ada' }))
      resetRecorded()
      const dup = customers().save(customers().create({ name: 'Ada', city: 'Leiden' }))
      await expect(dup).rejects.toBeInstanceOf(SoftError)
      await expect(dup).rejects.toMatchObject({ entityName: 'SeedCustomer', type: Insert, timing: Pre, attribute: 'name' })
      expect(recorded).toEqual([['uniqueName', Pre, Insert, ['city', 'name']]])
      expect(await countRows(ds, 'seed_customer')).toBe(1)
    })

    it('renaming to a taken name is refused, the row unchanged; other updates and keeping the own name pass', async () => {
      const ada = await customers().save(customers().create({ name: 'Ada' }))
      const bob = await customers().save(customers().create({ name: 'Bob' }))
      resetRecorded()
      bob.name = 'Ada'
      await expect(customers().save(bob)).rejects.toMatchObject({
        name: 'SoftError',
        entityName: 'SeedCustomer',
        type: Update,
        timing: Pre,
        attribute: 'name',
      })
      expect(await value(ds, 'seed_customer', 'name', bob.id)).toBe('Bob')

      resetRecorded()
      ada.city = 'Delft'
      await customers().save(ada)
      expect(recorded).toEqual([])
      await actions.update(ada, ['name']) // the row itself is no duplicate
      expect(recorded).toEqual([['uniqueName', Pre, Update, ['name']]])
      expect(await value(ds, 'seed_customer', 'city', ada.id)).toBe('Delft')
    })

    it('a name with quotes is a value, never SQL', async () => {
      await customers().save(customers().create({ name: 'Ada' }))
      const tricky = "Ada' OR '1'='1"
      await customers().save(customers().create({ name: tricky }))
      await expect(customers().save(customers().create({ name: tricky }))).rejects.toBeInstanceOf(SoftError)
      expect(await countRows(ds, 'seed_customer')).toBe(2)
    })

    it('exists runs in the transaction: a duplicate within one transaction is refused and both roll back', async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.save(m.create(SeedCustomer, { name: 'Cy' }))
          await m.save(m.create(SeedCustomer, { name: 'Cy' }))
        }),
      ).rejects.toMatchObject({ name: 'SoftError', entityName: 'SeedCustomer', attribute: 'name' })
      expect(await countRows(ds, 'seed_customer')).toBe(0)
    })
  })

  describe("the _noRecursion_ pattern: update(me, ['quantity']) inside Pre Update", () => {
    const lines = () => ds.getRepository(SeedOrderLine)

    async function savedLine(quantity: number): Promise<SeedOrderLine> {
      const line = await lines().save(lines().create({ product: 'p', quantity }))
      resetRecorded()
      return line
    }

    async function expectNoRecursionNeverPersisted(id: number): Promise<void> {
      expect(sql.length).toBeGreaterThan(0)
      expect(sql.filter((q) => /noRecursion/i.test(q))).toEqual([])
      expect(ds.getMetadata(SeedOrderLine).columns.map((c) => c.propertyName)).not.toContain('_noRecursion_')
      const rows: Record<string, unknown>[] = await ds.query(
        `SELECT * FROM ${ds.driver.escape('seed_order_line')} WHERE ${ds.driver.escape('id')} = ${Number(id)}`,
      )
      expect(Object.keys(rows[0]!).sort()).toEqual(['id', 'orderId', 'price', 'product', 'quantity'])
    }

    it('save(): the handler clamps and writes the quantity; the nested Update is not dispatched again', async () => {
      const line = await savedLine(3)
      line.quantity = 50
      await traced(() => lines().save(line))
      const l = `Line#${line.id}`
      expect(recorded).toEqual([
        [`${l} d1`, Pre, Update, ['quantity']],
        ['clampQuantity d1', Pre, Update, ['quantity']],
        [`${l} d1`, Post, Update, ['quantity']],
      ])
      expect(line.quantity).toBe(MAX_QUANTITY)
      expect(line._noRecursion_).toBe(false)
      expect(Number(await value(ds, 'seed_order_line', 'quantity', line.id))).toBe(MAX_QUANTITY)
      // The handler's targeted UPDATE, then TypeORM's own: both write the quantity only.
      const updates = updatesOf('seed_order_line')
      expect(updates).toHaveLength(2)
      for (const u of updates) expect(u).toMatch(/^UPDATE\s+\S*seed_order_line\S*\s+SET\s+\S*quantity\S*\s*=\s*\S+\s+WHERE/i)
      await expectNoRecursionNeverPersisted(line.id)
    })

    it('EventActions.update from outside: same single dispatch, the clamped value is written', async () => {
      const line = await savedLine(3)
      line.quantity = 99
      await traced(() => actions.update(line, ['quantity']))
      const l = `Line#${line.id}`
      expect(recorded).toEqual([
        [`${l} d1`, Pre, Update, ['quantity']],
        ['clampQuantity d1', Pre, Update, ['quantity']],
        [`${l} d1`, Post, Update, ['quantity']],
      ])
      expect(Number(await value(ds, 'seed_order_line', 'quantity', line.id))).toBe(MAX_QUANTITY)
      await expectNoRecursionNeverPersisted(line.id)
    })

    it('a quantity within bounds: no nested update at all', async () => {
      const line = await savedLine(3)
      line.quantity = 7
      await traced(() => lines().save(line))
      expect(recorded.map((r) => r[0])).toEqual([`Line#${line.id} d1`, 'clampQuantity d1', `Line#${line.id} d1`])
      expect(updatesOf('seed_order_line')).toHaveLength(1)
      expect(Number(await value(ds, 'seed_order_line', 'quantity', line.id))).toBe(7)
    })
  })

  describe("a line's Post Insert updates its order's total with update(order, ['total'])", () => {
    it('inside a cascading save: one targeted UPDATE per line, the total correct in the database', async () => {
      const order = ds.getRepository(SeedOrder).create({ customer: 'Ada', total: 0 })
      order.lines = [
        ds.getRepository(SeedOrderLine).create({ product: 'a', quantity: 2, price: 5 }),
        ds.getRepository(SeedOrderLine).create({ product: 'b', quantity: 1, price: 7 }),
      ]
      for (const line of order.lines) line.order = order
      await traced(() => ds.getRepository(SeedOrder).save(order))

      expect(order.total).toBe(17)
      expect(Number(await value(ds, 'seed_order', 'total', order.id))).toBe(17)
      const updates = updatesOf('seed_order')
      expect(updates).toHaveLength(2)
      for (const u of updates) {
        expect(u).toMatch(/^UPDATE\s+\S*seed_order\S*\s+SET\s+\S*total\S*\s*=\s*\S+\s+WHERE/i)
        expect(u).not.toMatch(/customer|status/)
      }
      const o = `Order#${order.id}`
      const [a, b] = order.lines.map((l) => `Line#${l.id}`)
      const orderUpdate = (): typeof recorded => [
        [`${o} d2`, Pre, Update, ['total']],
        [`${o} d2`, Post, Update, ['total']],
      ]
      const lineInsert = ['order', 'price', 'product', 'quantity']
      expect(recorded).toEqual([
        ['Order#new d1', Pre, Insert, ['customer', 'lines', 'total']],
        ['Line#new d1', Pre, Insert, lineInsert],
        ['Line#new d1', Pre, Insert, lineInsert],
        [`${o} d1`, Post, Insert, ['customer', 'id', 'lines', 'status', 'total']],
        [`${a} d1`, Post, Insert, ['id', ...lineInsert]],
        ...orderUpdate(),
        [`${b} d1`, Post, Insert, ['id', ...lineInsert]],
        ...orderUpdate(),
      ])
    })

    it('a second save of the order afterwards has nothing left to write', async () => {
      const order = ds.getRepository(SeedOrder).create({ customer: 'Bo', total: 0 })
      order.lines = [ds.getRepository(SeedOrderLine).create({ product: 'a', quantity: 3, price: 4 })]
      for (const line of order.lines) line.order = order
      await ds.getRepository(SeedOrder).save(order)
      await traced(() => ds.getRepository(SeedOrder).save(order))
      expect(updatesOf('seed_order')).toEqual([])
      expect(Number(await value(ds, 'seed_order', 'total', order.id))).toBe(12)
    })
  })

  describe('a copy must not copy the status', () => {
    async function shippedOrder(): Promise<SeedOrder> {
      const source = await ds.getRepository(SeedOrder).save(
        ds.getRepository(SeedOrder).create({ customer: 'Ada', status: 'shipped', total: 30 }),
      )
      resetRecorded()
      return source
    }

    it('a new order copied from a shipped one keeps its initial status; the rest is copied', async () => {
      const source = await shippedOrder()
      const target = await actions.create(SeedOrder)
      expect(target.status).toBe('new')
      resetRecorded()
      await actions.copy(source, target)
      // status was in the group (so without the handler it would have been copied)
      expect(recorded).toEqual([
        ['Order#new d1', Pre, BO2BO, ['customer', 'status', 'total']],
        ['Order#new d1', Post, BO2BO, ['customer', 'status', 'total']],
        ['keepOwnStatus', Post, BO2BO, ['customer', 'status', 'total']],
      ])
      expect(target).toMatchObject({ customer: 'Ada', total: 30, status: 'new' })
      expect(target.id).toBeUndefined()
      await ds.getRepository(SeedOrder).save(target)
      expect(await value(ds, 'seed_order', 'status', target.id)).toBe('new')
      expect(await value(ds, 'seed_order', 'customer', target.id)).toBe('Ada')
      expect(Number(await value(ds, 'seed_order', 'total', target.id))).toBe(30)
      expect(await value(ds, 'seed_order', 'status', source.id)).toBe('shipped')
    })

    it('a plain new instance as target ends with the initial status too', async () => {
      const source = await shippedOrder()
      const target = new SeedOrder()
      await actions.copy(source, target)
      expect(target).toMatchObject({ customer: 'Ada', total: 30, status: 'new' })
    })

    it('an existing order keeps its own status', async () => {
      const source = await shippedOrder()
      const target = await ds.getRepository(SeedOrder).save(ds.getRepository(SeedOrder).create({ customer: 'Bob', status: 'paid', total: 1 }))
      await actions.copy(source, target)
      expect(target).toMatchObject({ customer: 'Ada', total: 30, status: 'paid' })
      await ds.getRepository(SeedOrder).save(target)
      expect(await value(ds, 'seed_order', 'status', target.id)).toBe('paid')
      expect(await value(ds, 'seed_order', 'customer', target.id)).toBe('Ada')
    })

    it('a copy of named attributes without the status does not run the handler', async () => {
      const source = await shippedOrder()
      const target = await actions.create(SeedOrder)
      resetRecorded()
      await actions.copy(source, target, ['customer'])
      expect(recorded).toEqual([
        ['Order#new d1', Pre, BO2BO, ['customer']],
        ['Order#new d1', Post, BO2BO, ['customer']],
      ])
      expect(target).toMatchObject({ customer: 'Ada', status: 'new' })
      expect(target.total).toBeUndefined()
    })
  })
})

// With the library's guard off, the _noRecursion_ flag alone stops the recursion.
suite("The _noRecursion_ flag with recursion: 'allow'", { recursion: 'allow' }, (get) => {
  it('the nested Pre Update is dispatched, sees the flag and returns: one nested level, then done', async () => {
    const ds = get()
    const lines = ds.getRepository(SeedOrderLine)
    const line = await lines.save(lines.create({ product: 'p', quantity: 3 }))
    resetRecorded()
    line.quantity = 50
    await traced(() => lines.save(line))
    const l = `Line#${line.id}`
    expect(recorded).toEqual([
      [`${l} d1`, Pre, Update, ['quantity']],
      ['clampQuantity d1', Pre, Update, ['quantity']],
      [`${l} d2`, Pre, Update, ['quantity']],
      ['clampQuantity (guarded) d2', Pre, Update, ['quantity']],
      [`${l} d2`, Post, Update, ['quantity']],
      [`${l} d1`, Post, Update, ['quantity']],
    ])
    expect(line._noRecursion_).toBe(false)
    expect(Number(await value(ds, 'seed_order_line', 'quantity', line.id))).toBe(MAX_QUANTITY)
    expect(sql.filter((q) => /noRecursion/i.test(q))).toEqual([])
  })
})

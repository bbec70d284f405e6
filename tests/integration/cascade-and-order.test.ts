/**
 * Semantics 5 (cascades and chains) and 6 (order, one handler at a time) of
 * issue 2, on the database chosen by DB.
 *
 * Every handler writes `enter <event>` / `exit <event>` to `log`, where
 * <event> is `<Entity>#<id> <timing> <type> d<ctx.depth>`; a logger adds the
 * SQL statements of the save under test (BEGIN/COMMIT/ROLLBACK and
 * INSERT/UPDATE/DELETE by table; SELECTs differ between drivers and are left
 * out, as are repeats of one statement, since bulk INSERTs differ too).
 */
import {
  Column,
  DataSource,
  Entity,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type Logger,
} from 'typeorm'
import {
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert } = EventActionType

// ---------------------------------------------------------------- recording

/** The trace of the save under test: handler enter/exit and SQL, in order. */
const log: string[] = []
let capturing = false

type Kind = 'order' | 'line' | 'audit'
type Hook = (entity: any, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>) => void | Promise<void>
/** Per-test behaviour of the handlers; reset before every test. */
const hooks: Partial<Record<Kind, Hook>> = {}

/** Lets every other pending job run, so that handlers running concurrently would interleave. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

async function handle(
  kind: Kind,
  label: string,
  entity: object,
  timing: EventActionTiming,
  type: EventActionType,
  ctx: EventActionContext<any>,
): Promise<void> {
  const name = `${label} ${timing} ${type} d${ctx.depth}`
  // Only the save under test is traced: the tests' own reads afterwards fire Load too.
  const traceIt = capturing
  if (traceIt) log.push(`enter ${name}`)
  try {
    await tick()
    await hooks[kind]?.(entity, timing, type, ctx)
    await tick()
  } finally {
    if (traceIt) log.push(`exit ${name}`)
  }
}

/** The events of the trace, without the exits: `Order#1 Post Insert d1`, `SQL INSERT cas_order`, `BEGIN`... */
function events(): string[] {
  return log.filter((l) => !l.startsWith('exit ')).map((l) => l.replace(/^enter /, ''))
}

function sqlLabel(query: string): string | undefined {
  const q = query.trim()
  if (/^(BEGIN|START TRANSACTION)/i.test(q)) return 'BEGIN'
  if (/^COMMIT/i.test(q)) return 'COMMIT'
  if (/^ROLLBACK/i.test(q)) return 'ROLLBACK'
  if (/^(SAVEPOINT|RELEASE)/i.test(q)) return q.split(/\s+/)[0]!.toUpperCase()
  const m = /^(INSERT INTO|UPDATE|DELETE FROM)\s+[`"]?(\w+)/i.exec(q)
  if (m) return `SQL ${m[1]!.split(' ')[0]!.toUpperCase()} ${m[2]}`
  return undefined
}

const sqlLogger: Logger = {
  logQuery(query: string) {
    if (!capturing) return
    const label = sqlLabel(query)
    if (label && !(label.startsWith('SQL ') && log[log.length - 1] === label)) log.push(label)
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
}

/** Runs the save under test with the SQL logger on. */
async function traced<T>(run: () => Promise<T>): Promise<T> {
  capturing = true
  try {
    return await run()
  } finally {
    capturing = false
  }
}

/**
 * Fails unless the handlers ran one at a time: a handler starts only while
 * nothing but its own ancestors (one per depth level above it) is running,
 * and the last one started is the first to finish.
 */
function expectNoOverlap(trace: string[]): void {
  const open: string[] = []
  for (const entry of trace) {
    const m = /^(enter|exit) (.* d(\d+))$/.exec(entry)
    if (!m) continue
    const [, what, name, depth] = m
    if (what === 'enter') {
      if (open.length !== Number(depth) - 1) throw new Error(`'${name}' started while [${open.join(', ')}] were running`)
      open.push(name!)
    } else {
      const top = open.pop()
      if (top !== name) throw new Error(`'${name}' finished while '${top}' was the innermost running handler`)
    }
  }
  expect(open).toEqual([])
}

// ----------------------------------------------------------------- entities

@Entity('cas_order')
class Order {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) total!: number
  @OneToMany(() => OrderLine, (line) => line.order, { cascade: true }) lines?: OrderLine[]

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Order>) {
    return handle('order', `Order#${this.id ?? 'new'}`, this, timing, type, ctx)
  }
}

@Entity('cas_order_line')
class OrderLine {
  @PrimaryGeneratedColumn() id!: number
  @Column() label!: string
  @Column() amount!: number
  @ManyToOne(() => Order, (order) => order.lines, { cascade: ['insert'], onDelete: 'CASCADE' }) order?: Order

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<OrderLine>) {
    return handle('line', `Line(${this.label})#${this.id ?? 'new'}`, this, timing, type, ctx)
  }
}

@Entity('cas_audit')
class Audit {
  @PrimaryGeneratedColumn() id!: number
  @Column() message!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Audit>) {
    return handle('audit', `Audit(${this.message})#${this.id ?? 'new'}`, this, timing, type, ctx)
  }
}

const TABLES = ['cas_order_line', 'cas_order', 'cas_audit'] as const

describe(`Cascades, chains and order (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([Order, OrderLine, Audit], {}, { logger: sqlLogger })
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    // Raw SQL: repository.delete(criteria) is a bulk write and refused for these entities.
    for (const table of TABLES) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    log.length = 0
    capturing = false
    for (const kind of Object.keys(hooks) as Kind[]) delete hooks[kind]
  })

  function newOrder(name: string, ...lines: [string, number][]): Order {
    return ds.getRepository(Order).create({
      name,
      lines: lines.map(([label, amount]) => ds.getRepository(OrderLine).create({ label, amount })),
    })
  }

  async function rowCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    for (const table of TABLES) counts[table] = await countRows(ds, table)
    return counts
  }

  async function orderTotal(id: number): Promise<number> {
    const rows = await ds.query(
      `SELECT ${ds.driver.escape('total')} AS t FROM ${ds.driver.escape('cas_order')} WHERE ${ds.driver.escape('id')} = ${Number(id)}`,
    )
    return Number(rows[0].t)
  }

  describe('5. cascades and chains', () => {
    it('a cascaded save fires the events of every entity it writes, in one transaction', async () => {
      const order = newOrder('o1', ['a', 5], ['b', 7])
      await traced(() => ds.manager.save(order))
      const [a, b] = order.lines!
      expect(events()).toEqual([
        'BEGIN',
        'Order#new Pre Insert d1',
        'Line(a)#new Pre Insert d1',
        'Line(b)#new Pre Insert d1',
        'SQL INSERT cas_order',
        'SQL INSERT cas_order_line',
        `Order#${order.id} Post Insert d1`,
        `Line(a)#${a!.id} Post Insert d1`,
        `Line(b)#${b!.id} Post Insert d1`,
        'COMMIT',
      ])
      expect(await rowCounts()).toEqual({ cas_order_line: 2, cas_order: 1, cas_audit: 0 })
      const lines = await ds.getRepository(OrderLine).find({ where: { order: { id: order.id } }, order: { label: 'ASC' } })
      expect(lines.map((l) => [l.id, l.label, l.amount])).toEqual([
        [a!.id, 'a', 5],
        [b!.id, 'b', 7],
      ])
    })

    it('writes made by a handler through ctx.manager fire their own events, nested at depth 2, in the same transaction', async () => {
      hooks.order = async (order: Order, timing, type, ctx) => {
        if (timing === Post && type === Insert) {
          expect(ctx.manager.queryRunner?.isTransactionActive).toBe(true)
          await ctx.manager.save(ctx.manager.create(Audit, { message: `order ${order.name}` }))
        }
      }
      hooks.line = async (line: OrderLine, timing, type, ctx) => {
        if (timing === Pre && type === Insert && line.label === 'b') {
          await ctx.manager.save(ctx.manager.create(Audit, { message: 'before b' }))
        }
      }
      const order = newOrder('o2', ['a', 5], ['b', 7])
      await traced(() => ds.manager.save(order))
      const [a, b] = order.lines!
      const audits = await ds.getRepository(Audit).find({ order: { id: 'ASC' } })
      expect(audits.map((x) => x.message)).toEqual(['before b', 'order o2'])
      const [early, late] = audits
      expect(log).toEqual([
        'BEGIN',
        'enter Order#new Pre Insert d1',
        'exit Order#new Pre Insert d1',
        'enter Line(a)#new Pre Insert d1',
        'exit Line(a)#new Pre Insert d1',
        'enter Line(b)#new Pre Insert d1',
        'enter Audit(before b)#new Pre Insert d2',
        'exit Audit(before b)#new Pre Insert d2',
        'SQL INSERT cas_audit',
        `enter Audit(before b)#${early!.id} Post Insert d2`,
        `exit Audit(before b)#${early!.id} Post Insert d2`,
        'exit Line(b)#new Pre Insert d1',
        'SQL INSERT cas_order',
        'SQL INSERT cas_order_line',
        `enter Order#${order.id} Post Insert d1`,
        'enter Audit(order o2)#new Pre Insert d2',
        'exit Audit(order o2)#new Pre Insert d2',
        'SQL INSERT cas_audit',
        `enter Audit(order o2)#${late!.id} Post Insert d2`,
        `exit Audit(order o2)#${late!.id} Post Insert d2`,
        `exit Order#${order.id} Post Insert d1`,
        `enter Line(a)#${a!.id} Post Insert d1`,
        `exit Line(a)#${a!.id} Post Insert d1`,
        `enter Line(b)#${b!.id} Post Insert d1`,
        `exit Line(b)#${b!.id} Post Insert d1`,
        'COMMIT',
      ])
      expect(await rowCounts()).toEqual({ cas_order_line: 2, cas_order: 1, cas_audit: 2 })
    })

    it('a chain three levels deep reports depth 1, 2, 3', async () => {
      hooks.order = async (order: Order, timing, type, ctx) => {
        if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Audit, { message: 'level 2' }))
      }
      hooks.audit = async (audit: Audit, timing, type, ctx) => {
        if (timing === Post && type === Insert && audit.message === 'level 2') {
          await ctx.manager.save(ctx.manager.create(Audit, { message: 'level 3' }))
        }
      }
      await traced(() => ds.manager.save(newOrder('o3')))
      expect(events().filter((e) => e.includes(' Insert '))).toEqual([
        'Order#new Pre Insert d1',
        expect.stringMatching(/^Order#\d+ Post Insert d1$/),
        'Audit(level 2)#new Pre Insert d2',
        expect.stringMatching(/^Audit\(level 2\)#\d+ Post Insert d2$/),
        'Audit(level 3)#new Pre Insert d3',
        expect.stringMatching(/^Audit\(level 3\)#\d+ Post Insert d3$/),
      ])
      expect(events().filter((e) => /^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)/.test(e))).toEqual(['BEGIN', 'COMMIT'])
      expect(await rowCounts()).toEqual({ cas_order_line: 0, cas_order: 1, cas_audit: 2 })
    })

    const failures: [string, Partial<Record<Kind, Hook>>, object][] = [
      [
        'a SoftError in a nested Pre Insert (depth 2)',
        {
          order: async (_o, timing, type, ctx) => {
            if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Audit, { message: 'nested' }))
          },
          audit: (_a, timing, type) => {
            if (timing === Pre && type === Insert) throw new SoftError('audit refused')
          },
        },
        { name: 'SoftError', message: 'audit refused', entityName: 'Audit', type: Insert, timing: Pre },
      ],
      [
        'a HardError in a nested Post Insert (depth 2), after its INSERT ran',
        {
          line: async (_l, timing, type, ctx) => {
            if (timing === Pre && type === Insert) await ctx.manager.save(ctx.manager.create(Audit, { message: 'nested' }))
          },
          audit: async (_a, timing, type) => {
            if (timing === Post && type === Insert) throw new HardError('audit broken')
          },
        },
        { name: 'HardError', message: 'audit broken', entityName: 'Audit', type: Insert, timing: Post },
      ],
      [
        'a SoftError in the Post Insert of the 2nd line, after every INSERT of the save and a nested write',
        {
          order: async (_o, timing, type, ctx) => {
            if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Audit, { message: 'nested' }))
          },
          line: async (line: OrderLine, timing, type) => {
            if (timing === Post && type === Insert && line.label === 'b') throw new SoftError('line b refused', { attribute: 'amount' })
          },
        },
        {
          name: 'SoftError',
          message: 'line b refused',
          entityName: 'OrderLine',
          type: Insert,
          timing: Post,
          attribute: 'amount',
        },
      ],
      [
        'a plain Error in a depth 3 handler',
        {
          order: async (_o, timing, type, ctx) => {
            if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Audit, { message: 'level 2' }))
          },
          audit: async (audit: Audit, timing, type, ctx) => {
            if (timing === Post && type === Insert && audit.message === 'level 2') {
              await ctx.manager.save(ctx.manager.create(Audit, { message: 'level 3' }))
            }
            if (timing === Post && type === Insert && audit.message === 'level 3') throw new TypeError('bug at depth 3')
          },
        },
        { name: 'TypeError', message: 'bug at depth 3' },
      ],
    ]

    it.each(failures)('%s rolls everything back: zero rows in every table', async (_title, failingHooks, expected) => {
      Object.assign(hooks, failingHooks)
      const order = newOrder('doomed', ['a', 5], ['b', 7])
      await expect(traced(() => ds.manager.save(order))).rejects.toMatchObject(expected)
      expect(events()).toContain('ROLLBACK')
      expect(events()).not.toContain('COMMIT')
      expect(await rowCounts()).toEqual({ cas_order_line: 0, cas_order: 0, cas_audit: 0 })
    })
  })

  describe('6. order: one handler at a time', () => {
    /** The case: each line's Post Insert adds its amount to the order total, read from and written to the database. */
    function linesAddToTotal(): void {
      hooks.line = async (line: OrderLine, timing, type, ctx) => {
        if (timing !== Post || type !== Insert) return
        const order = await ctx.manager.findOneByOrFail(Order, { id: line.order!.id })
        await ctx.manager.query('SELECT 1 AS one') // any round trip: a concurrent handler would read the same total meanwhile
        await tick()
        order.total += line.amount
        await ctx.manager.save(order)
      }
    }

    function orderWithBackReferences(name: string, ...lines: [string, number][]): Order {
      const order = newOrder(name, ...lines)
      for (const line of order.lines!) line.order = order
      return order
    }

    it('two lines whose async Post Insert both add to the order total: no lost update', async () => {
      linesAddToTotal()
      const order = orderWithBackReferences('race', ['a', 5], ['b', 7])
      await traced(() => ds.manager.save(order))
      expect(await orderTotal(order.id)).toBe(12)
    })

    it('the same with five lines', async () => {
      linesAddToTotal()
      const order = orderWithBackReferences('race5', ['a', 1], ['b', 2], ['c', 4], ['d', 8], ['e', 16])
      await traced(() => ds.manager.save(order))
      expect(await orderTotal(order.id)).toBe(31)
      expectNoOverlap(log)
    })

    it('handlers never overlap, and run in a deterministic order (whole trace of the race case)', async () => {
      linesAddToTotal()
      const order = orderWithBackReferences('trace', ['a', 5], ['b', 7])
      await traced(() => ds.manager.save(order))
      expectNoOverlap(log)
      const [a, b] = order.lines!
      const o = `Order#${order.id}`
      const nested = [
        `${o} Pre Load d2`,
        `${o} Post Load d2`,
        `${o} Pre Update d2`,
        'SQL UPDATE cas_order',
        `${o} Post Update d2`,
      ].flatMap((e) => (e.startsWith('SQL') ? [e] : [`enter ${e}`, `exit ${e}`]))
      expect(log).toEqual([
        'BEGIN',
        'enter Order#new Pre Insert d1',
        'exit Order#new Pre Insert d1',
        'enter Line(a)#new Pre Insert d1',
        'exit Line(a)#new Pre Insert d1',
        'enter Line(b)#new Pre Insert d1',
        'exit Line(b)#new Pre Insert d1',
        'SQL INSERT cas_order',
        'SQL INSERT cas_order_line',
        `enter ${o} Post Insert d1`,
        `exit ${o} Post Insert d1`,
        `enter Line(a)#${a!.id} Post Insert d1`,
        ...nested,
        `exit Line(a)#${a!.id} Post Insert d1`,
        `enter Line(b)#${b!.id} Post Insert d1`,
        ...nested,
        `exit Line(b)#${b!.id} Post Insert d1`,
        'COMMIT',
      ])
      expect(await orderTotal(order.id)).toBe(12)
    })

    it('Pre handlers of inserts run in subject order before any SQL; Post handlers run parent first, after all SQL', async () => {
      // The line is saved and cascades to its new order: the line is the first subject, but the order is inserted first.
      const order = ds.getRepository(Order).create({ name: 'child first' })
      const a = ds.getRepository(OrderLine).create({ label: 'a', amount: 1 })
      a.order = order // assigned, not passed to create(): create() would copy the order
      await traced(() => ds.manager.save(a))
      expect(events()).toEqual([
        'BEGIN',
        'Line(a)#new Pre Insert d1',
        'Order#new Pre Insert d1',
        'SQL INSERT cas_order',
        'SQL INSERT cas_order_line',
        `Order#${order.id} Post Insert d1`,
        `Line(a)#${a.id} Post Insert d1`,
        'COMMIT',
      ])
      expectNoOverlap(log)
      const rows = await ds.getRepository(OrderLine).find({ relations: { order: true } })
      expect(rows.map((r) => [r.label, r.order?.id, r.order?.name])).toEqual([['a', order.id, 'child first']])
    })

    it('a save that inserts and updates: every Pre (inserts, then updates) before any SQL, every Post after', async () => {
      const order = newOrder('before', ['a', 1])
      await ds.manager.save(order)
      order.name = 'after'
      const b = ds.getRepository(OrderLine).create({ label: 'b', amount: 2 })
      const c = ds.getRepository(OrderLine).create({ label: 'c', amount: 3 })
      order.lines!.push(b, c)
      await traced(() => ds.manager.save(order))
      expect(events()).toEqual([
        'BEGIN',
        'Line(b)#new Pre Insert d1',
        'Line(c)#new Pre Insert d1',
        `Order#${order.id} Pre Update d1`,
        'SQL INSERT cas_order_line',
        'SQL UPDATE cas_order',
        `Line(b)#${b.id} Post Insert d1`,
        `Line(c)#${c.id} Post Insert d1`,
        `Order#${order.id} Post Update d1`,
        'COMMIT',
      ])
      expectNoOverlap(log)
      const saved = await ds.getRepository(Order).findOneOrFail({ where: { id: order.id }, relations: { lines: true } })
      expect(saved.name).toBe('after')
      expect(saved.lines!.map((l) => l.label).sort()).toEqual(['a', 'b', 'c'])
    })

    it('a Pre handler runs before the SQL it precedes: what it sets is written', async () => {
      hooks.line = (line: OrderLine, timing, type) => {
        if (timing === Pre && type === Insert) line.amount *= 10
      }
      hooks.order = (order: Order, timing, type) => {
        if (timing === Pre && type === Insert) order.total = 99
      }
      const order = newOrder('pre', ['a', 1], ['b', 2])
      await ds.manager.save(order)
      const saved = await ds.getRepository(Order).findOneOrFail({ where: { id: order.id }, relations: { lines: true } })
      expect(saved.total).toBe(99)
      expect(saved.lines!.map((l) => l.amount).sort((x, y) => x - y)).toEqual([10, 20])
    })
  })

})

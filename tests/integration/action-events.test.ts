/**
 * Action events of issue 5 (ActionEvents.bind + runAction with { events,
 * dataSource, transaction }) on the database chosen by DB: which handlers
 * run for which action and in what order, what they are told, Pre-action
 * vetoes, Post-action handlers after commit ('after-commit') or before it
 * ('sync'), the changes an action wrote, bad input, and isolation between
 * concurrent actions.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Logger } from 'typeorm'
import { databaseOptions } from '../../ormconfig'
import {
  ActionEvents,
  Audited,
  EntityValidationError,
  EventActionTiming,
  EventActionType,
  HardError,
  runAction,
  SoftError,
  type ActionChange,
  type ActionEventContext,
  type ActionUser,
  type AttributeGroup,
  type EventActionContext,
  type PostActionEventContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert } = EventActionType

// ---------------------------------------------------------------- plumbing

/** The trace: transaction statements and marks pushed by handlers and fn, in order. */
const log: string[] = []

const sqlLogger: Logger = {
  logQuery(query: string) {
    const q = query.trim()
    if (/^(BEGIN|START TRANSACTION)/i.test(q)) log.push('BEGIN')
    else if (/^COMMIT/i.test(q)) log.push('COMMIT')
    else if (/^ROLLBACK TO/i.test(q)) log.push('ROLLBACK TO SAVEPOINT')
    else if (/^ROLLBACK/i.test(q)) log.push('ROLLBACK')
    else if (/^SAVEPOINT/i.test(q)) log.push('SAVEPOINT')
    else if (/^RELEASE/i.test(q)) log.push('RELEASE SAVEPOINT')
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
}

type Hook = (entity: any, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>) => unknown
/** Per-test behaviour of the entity event actions; emptied before every test. */
const hooks: { order?: Hook; line?: Hook } = {}

/** Lets other pending work run, so that concurrent actions interleave. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
/** Lets queued work happen before the test looks. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20))

/** On the servers another connection can look: only committed rows are visible there. */
const SERVER = DB !== 'sqlite'

// ----------------------------------------------------------------- entities

@Entity('ae_order')
@Audited({ exclude: ['secret'] })
class Order {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 60 }) customer!: string
  @Column({ type: 'varchar', length: 40 }) status!: string
  @Column({ type: 'int' }) total!: number
  @Column({ type: 'varchar', length: 40 }) secret!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Order>) {
    return hooks.order?.(this, timing, type, ctx)
  }
}

@Entity('ae_line')
class Line {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'int' }) orderId!: number
  @Column({ type: 'varchar', length: 80 }) product!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Line>) {
    return hooks.line?.(this, timing, type, ctx)
  }
}

/** No _eventAction, no @Audited, no automatics: an entity WITHOUT event actions. */
@Entity('ae_plain')
class Plain {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 60 }) label!: string
}

/** A change with its group sorted, so that comparisons do not depend on column order. */
function norm(change: ActionChange): ActionChange {
  return { ...change, group: change.group === null ? null : [...change.group].sort() }
}

const insertChanges = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { old: null, new: v }]))

/** Whatever runAction does with bad input (throw or reject), as a promise. */
const attempt = (fn: () => unknown): Promise<unknown> => Promise.resolve().then(fn)

// -------------------------------------------------------------------- tests

describe(`Action events (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  /** A second DataSource on the same server: its connections only see committed rows. */
  let observer: DataSource | undefined
  let events: ActionEvents
  const reported: { error: unknown; ctx: PostActionEventContext }[] = []

  beforeAll(async () => {
    ds = await openDataSource([Order, Line, Plain], {}, { logging: true, logger: sqlLogger, ...(SERVER ? ({ poolSize: 10 } as object) : {}) })
    if (SERVER) {
      observer = new DataSource({ ...databaseOptions(DB), entities: [] })
      await observer.initialize()
    }
  })
  afterAll(async () => {
    await observer?.destroy()
    await ds?.destroy()
  })
  beforeEach(async () => {
    for (const table of ['ae_line', 'ae_order', 'ae_plain', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    delete hooks.order
    delete hooks.line
    reported.length = 0
    events = new ActionEvents({ onPostActionError: (error, ctx) => void reported.push({ error, ctx }) })
    log.length = 0
  })
  afterEach(() => jest.restoreAllMocks())

  const orders = () => ds.getRepository(Order)
  const newOrder = (customer: string, extra: Partial<Order> = {}) =>
    orders().create({ customer, status: 'new', total: 10, secret: 'hush', ...extra })
  const plains = () => ds.getRepository(Plain)
  /** Committed orders, seen from another connection (servers only). */
  const committedOrders = async () => countRows(observer!, 'ae_order')

  // ---------------------------------------------------------------- bind

  describe('bind, unbind, patterns and order', () => {
    it('bind returns an unbind function: after it, the handler no longer runs', async () => {
      const pre = jest.fn()
      const post = jest.fn()
      const unbindPre = events.bind('orders:submit', Pre, pre)
      const unbindPost = events.bind('orders:submit', Post, post)
      expect(typeof unbindPre).toBe('function')
      expect(typeof unbindPost).toBe('function')

      await runAction({ name: 'orders:submit' }, () => 'one', { events })
      expect(pre).toHaveBeenCalledTimes(1)
      expect(post).toHaveBeenCalledTimes(1)

      unbindPre()
      await runAction({ name: 'orders:submit' }, () => 'two', { events })
      expect(pre).toHaveBeenCalledTimes(1)
      expect(post).toHaveBeenCalledTimes(2)

      unbindPost()
      unbindPost() // a second call is harmless
      await expect(runAction({ name: 'orders:submit' }, () => 'three', { events })).resolves.toBe('three')
      expect(pre).toHaveBeenCalledTimes(1)
      expect(post).toHaveBeenCalledTimes(2)
    })

    it('unbinding during a run does not disturb that run, only the next ones', async () => {
      const calls: string[] = []
      let unbindB: () => void = () => undefined
      let unbindPost2: () => void = () => undefined
      let unbindSync: () => void = () => undefined
      let unbindPost3: () => void = () => undefined
      events.bind('orders:submit', Pre, () => {
        calls.push('pre A')
        unbindB()
        unbindSync()
        unbindPost3()
      })
      unbindB = events.bind('orders:submit', Pre, () => void calls.push('pre B'))
      unbindSync = events.bind('orders:submit', Post, (ctx) => void calls.push(`sync ${ctx.changes.length}`), { mode: 'sync' })
      events.bind('orders:submit', Post, (ctx) => {
        calls.push(`post 1 ${ctx.changes.length}`)
        unbindPost2()
      })
      unbindPost2 = events.bind('orders:submit', Post, (ctx) => void calls.push(`post 2 ${ctx.changes.length}`))
      unbindPost3 = events.bind('orders:*', Post, (ctx) => void calls.push(`post 3 ${ctx.changes.length}`))

      const run = () =>
        runAction(
          { name: 'orders:submit' },
          async (manager) => {
            calls.push('fn')
            await manager!.save(manager!.create(Order, { customer: 'c', status: 'new', total: 1, secret: '' }))
          },
          { events, dataSource: ds, transaction: true },
        )
      await run()
      expect(calls).toEqual(['pre A', 'pre B', 'fn', 'sync 1', 'post 1 1', 'post 2 1', 'post 3 1'])
      calls.length = 0
      await run()
      expect(calls).toEqual(['pre A', 'fn', 'post 1 1'])
      expect(await countRows(ds, 'ae_order')).toBe(2)
    })

    it('exact names and trailing-* patterns select the handlers', async () => {
      const hits: string[] = []
      const on = (pattern: string) => events.bind(pattern, Pre, ({ action }) => void hits.push(`${pattern} <- ${action}`))
      on('orders:submit')
      on('orders:*')
      on('*')
      on('accounts:*')
      on('orders:sub*')

      const run = async (name: string) => {
        hits.length = 0
        await runAction({ name }, () => undefined, { events })
        return [...hits]
      }
      expect(await run('orders:submit')).toEqual([
        'orders:submit <- orders:submit',
        'orders:* <- orders:submit',
        '* <- orders:submit',
        'orders:sub* <- orders:submit',
      ])
      expect(await run('orders:edit')).toEqual(['orders:* <- orders:edit', '* <- orders:edit'])
      expect(await run('orders:submitted')).toEqual([
        'orders:* <- orders:submitted',
        '* <- orders:submitted',
        'orders:sub* <- orders:submitted',
      ])
      expect(await run('accounts:open')).toEqual(['* <- accounts:open', 'accounts:* <- accounts:open'])
      // A pattern is a prefix, not a substring, and the exact name is not a prefix.
      expect(await run('order:submit')).toEqual(['* <- order:submit'])
      expect(await run('xorders:submit')).toEqual(['* <- xorders:submit'])
      expect(await run('orders')).toEqual(['* <- orders'])
    })

    it('several handlers run in bind order: Pre before the work, sync Post before commit, after-commit Post after it', async () => {
      events.bind('orders:*', Pre, () => void log.push('pre 1'))
      events.bind('orders:submit', Post, () => void log.push('post 1'))
      events.bind('orders:submit', Pre, () => void log.push('pre 2'))
      events.bind('*', Post, () => void log.push('sync 1'), { mode: 'sync' })
      events.bind('*', Post, async () => {
        await tick()
        log.push('post 2')
      })
      events.bind('orders:submit', Pre, async () => {
        await tick()
        log.push('pre 3')
      })
      events.bind('orders:*', Post, () => void log.push('sync 2'), { mode: 'sync' })
      events.bind('orders:*', Post, () => void log.push('post 3'))

      const result = await runAction(
        { name: 'orders:submit' },
        async (manager) => {
          log.push('fn start')
          await manager!.save(newOrder('a'))
          log.push('fn end')
          return 'done'
        },
        { events, dataSource: ds, transaction: true },
      )
      expect(result).toBe('done')
      const marks = log.filter((l) => l !== 'BEGIN')
      expect(marks).toEqual(['pre 1', 'pre 2', 'pre 3', 'fn start', 'fn end', 'sync 1', 'sync 2', 'COMMIT', 'post 1', 'post 2', 'post 3'])
      expect(log.filter((l) => l === 'BEGIN')).toHaveLength(1)
      expect(log.indexOf('BEGIN')).toBeLessThan(log.indexOf('fn start'))
    })

    it('an action with no bound handler runs fn (with or without a transaction) and calls no handler', async () => {
      const pre = jest.fn()
      const post = jest.fn()
      const sync = jest.fn()
      events.bind('orders:submit', Pre, pre)
      events.bind('orders:*', Post, post)
      events.bind('orders:submit', Post, sync, { mode: 'sync' })

      const fn = jest.fn(async () => {
        await orders().save(newOrder('unbound'))
        return 42
      })
      await expect(runAction({ name: 'admin:edit', user: { id: 1 } }, fn, { events })).resolves.toBe(42)
      expect(fn).toHaveBeenCalledTimes(1)
      expect(fn).toHaveBeenCalledWith(undefined)

      const inTx = jest.fn(async (manager) => {
        expect(manager.queryRunner.isTransactionActive).toBe(true)
        await manager.save(newOrder('unbound in tx'))
        return 43
      })
      await expect(runAction({ name: 'admin:edit' }, inTx, { events, dataSource: ds, transaction: true })).resolves.toBe(43)
      expect(inTx).toHaveBeenCalledTimes(1)
      // An empty registry, and no registry at all, work too.
      await expect(runAction({ name: 'orders:submit' }, () => 44, { events: new ActionEvents() })).resolves.toBe(44)
      await expect(runAction({ name: 'orders:submit' }, () => 45, {})).resolves.toBe(45)

      expect(pre).not.toHaveBeenCalled()
      expect(post).not.toHaveBeenCalled()
      expect(sync).not.toHaveBeenCalled()
      expect((await orders().find()).map((o) => o.customer).sort()).toEqual(['unbound', 'unbound in tx'])
    })
  })

  // ---------------------------------------------------------- Pre-action

  describe('Pre-action handlers', () => {
    it('get exactly { action, user, requestId, locale, params } and run before fn', async () => {
      const seen: ActionEventContext[] = []
      events.bind('orders:submit', Pre, (ctx) => {
        seen.push(ctx)
        log.push('pre')
      })
      const user: ActionUser = { id: 'u-1', role: 'clerk' }
      await runAction(
        { name: 'orders:submit', user, requestId: 'req-1', locale: 'ru', params: { cart: 7, note: 'x' } },
        async () => {
          log.push('fn')
          return orders().save(newOrder('a'))
        },
        { events },
      )
      await runAction({ name: 'orders:submit' }, () => void log.push('fn'), { events })
      expect(log.filter((l) => l === 'pre' || l === 'fn')).toEqual(['pre', 'fn', 'pre', 'fn'])
      expect(seen).toHaveLength(2)
      expect(Object.keys(seen[0]!).sort()).toEqual(['action', 'locale', 'params', 'requestId', 'user'])
      expect(seen[0]).toEqual({
        action: 'orders:submit',
        user: { id: 'u-1', role: 'clerk' },
        requestId: 'req-1',
        locale: 'ru',
        params: { cart: 7, note: 'x' },
      })
      expect(seen[1]).toEqual({ action: 'orders:submit', user: undefined, requestId: undefined, locale: undefined, params: {} })
    })

    const vetoes: [string, () => Error][] = [
      ['SoftError', () => new SoftError('sign in to submit an order')],
      [
        'EntityValidationError',
        () => new EntityValidationError('Order', Insert, Pre, [{ attribute: 'total', value: -1, constraints: ['total must be positive'] }]),
      ],
    ]
    for (const [label, make] of vetoes) {
      for (const transaction of [false, true]) {
        it(`throwing ${label} blocks the action (transaction: ${transaction}): fn never runs, nothing is written, the error reaches the caller`, async () => {
          const veto = make()
          const later = jest.fn()
          const post = jest.fn()
          const sync = jest.fn()
          const orderEvents = jest.fn()
          hooks.order = orderEvents
          events.bind('orders:submit', Pre, () => {
            throw veto
          })
          events.bind('orders:submit', Pre, later)
          events.bind('orders:submit', Post, post)
          events.bind('orders:submit', Post, sync, { mode: 'sync' })
          const fn = jest.fn(async (manager?: any) => {
            await (manager ?? ds.manager).save(newOrder('vetoed'))
            await plains().save(plains().create({ label: 'vetoed' }))
          })
          const options = transaction ? { events, dataSource: ds, transaction } : { events }
          const outcome = runAction({ name: 'orders:submit', user: { id: 1 } }, fn, options)
          await expect(outcome).rejects.toBe(veto)
          await settle()
          expect(fn).not.toHaveBeenCalled()
          expect(later).not.toHaveBeenCalled()
          expect(post).not.toHaveBeenCalled()
          expect(sync).not.toHaveBeenCalled()
          expect(orderEvents).not.toHaveBeenCalled()
          expect(await countRows(ds, 'ae_order')).toBe(0)
          expect(await countRows(ds, 'ae_plain')).toBe(0)
          expect(await countRows(ds, 'audit_entry')).toBe(0)
          expect(reported).toEqual([])
        })
      }
    }
  })

  // --------------------------------------------------------- Post-action

  describe('Post-action handlers and changes', () => {
    it('get { action, user, requestId, locale, params, result, changes } listing every entity written, nested and non-event-action ones included', async () => {
      hooks.order = async (order: Order, timing, type, ctx) => {
        if (timing === Post && type === Insert) {
          await ctx.manager.save(ctx.manager.create(Line, { orderId: order.id, product: `line of ${order.customer}` }))
        }
      }
      const kept = await plains().save(plains().create({ label: 'old' }))
      const doomed = await plains().save(plains().create({ label: 'doomed' }))
      // remove() clears the instance's key: keep it.
      const doomedId = doomed.id
      const seen: PostActionEventContext[] = []
      events.bind('orders:submit', Post, (ctx) => void seen.push(ctx))
      const user: ActionUser = { id: 7, name: 'alice' }
      let orderId = 0
      let freshId = 0
      const result = await runAction(
        { name: 'orders:submit', user, requestId: 'req-42', params: { cart: 3 } },
        async (manager) => {
          const m = manager!
          const order = await m.save(m.create(Order, { customer: 'alice', status: 'new', total: 10, secret: 'hush' }))
          orderId = order.id
          order.status = 'submitted'
          order.total = 12
          order.secret = 'changed'
          await m.save(order)
          kept.label = 'new'
          await m.save(kept)
          freshId = (await m.save(m.create(Plain, { label: 'fresh' }))).id
          await m.remove(doomed)
          return { orderId: order.id }
        },
        { events, dataSource: ds, transaction: true },
      )
      expect(result).toEqual({ orderId })

      const line = await ds.getRepository(Line).findOneByOrFail({ orderId })
      expect(seen).toHaveLength(1)
      const ctx = seen[0]!
      expect(Object.keys(ctx).sort()).toEqual(['action', 'changes', 'locale', 'params', 'requestId', 'result', 'user'])
      expect(ctx.action).toBe('orders:submit')
      expect(ctx.user).toEqual({ id: 7, name: 'alice' })
      expect(ctx.requestId).toBe('req-42')
      expect(ctx.params).toEqual({ cart: 3 })
      expect(ctx.result).toBe(result)
      expect(ctx.changes.map(norm)).toEqual([
        {
          entityName: 'Order',
          id: orderId,
          operation: 'insert',
          group: ['customer', 'id', 'secret', 'status', 'total'],
          // @Audited({ exclude: ['secret'] }): never in changes.
          changes: insertChanges({ id: orderId, customer: 'alice', status: 'new', total: 10 }),
        },
        {
          entityName: 'Line',
          id: line.id,
          operation: 'insert',
          group: ['id', 'orderId', 'product'],
          changes: insertChanges({ id: line.id, orderId, product: 'line of alice' }),
        },
        {
          entityName: 'Order',
          id: orderId,
          operation: 'update',
          group: ['secret', 'status', 'total'],
          changes: { status: { old: 'new', new: 'submitted' }, total: { old: 10, new: 12 } },
        },
        { entityName: 'Plain', id: kept.id, operation: 'update', group: ['label'], changes: { label: { old: 'old', new: 'new' } } },
        { entityName: 'Plain', id: freshId, operation: 'insert', group: ['id', 'label'], changes: insertChanges({ id: freshId, label: 'fresh' }) },
        {
          entityName: 'Plain',
          id: doomedId,
          operation: 'delete',
          group: null,
          changes: { id: { old: doomedId, new: null }, label: { old: 'doomed', new: null } },
        },
      ])
      expect(JSON.stringify(ctx.changes)).not.toContain('hush')
      expect(JSON.stringify(ctx.changes)).not.toContain('"changed"')

      const saved = await orders().findOneByOrFail({ id: orderId })
      expect(saved).toMatchObject({ customer: 'alice', status: 'submitted', total: 12, secret: 'changed' })
      expect((await plains().find({ order: { id: 'ASC' } })).map((p) => p.label)).toEqual(['new', 'fresh'])
    })

    it('with transaction: true, fn(manager) gets one transaction for the whole action; after-commit handlers run after COMMIT and see the committed rows', async () => {
      hooks.order = async (order: Order, timing, type, ctx) => {
        if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Line, { orderId: order.id, product: 'p' }))
      }
      const visible: number[] = []
      const managers: unknown[] = []
      events.bind('orders:submit', Post, async (ctx) => {
        log.push(`post ${ctx.changes.length}`)
        if (SERVER) visible.push(await committedOrders())
      })
      await runAction(
        { name: 'orders:submit', user: { id: 1 } },
        async (manager) => {
          managers.push(manager)
          expect(manager!.queryRunner?.isTransactionActive).toBe(true)
          log.push('fn start')
          await manager!.save(newOrder('a'))
          await manager!.save(newOrder('b'))
          // Not visible to others before commit.
          if (SERVER) expect(await committedOrders()).toBe(0)
          log.push('fn end')
        },
        { events, dataSource: ds, transaction: true },
      )
      await settle()
      expect(managers).toHaveLength(1)
      expect(log).toEqual(['BEGIN', 'fn start', 'fn end', 'COMMIT', 'post 4'])
      if (SERVER) expect(visible).toEqual([2])
      expect(await countRows(ds, 'ae_order')).toBe(2)
      expect(await countRows(ds, 'ae_line')).toBe(2)
    })

    it('without transaction each write commits on its own and Post-action handlers run once fn resolved', async () => {
      const seen: PostActionEventContext[] = []
      events.bind('orders:submit', Post, (ctx) => {
        log.push('post')
        seen.push(ctx)
      })
      const midway: number[] = []
      let fnManager: unknown = 'not called'
      const a = newOrder('a')
      const b = newOrder('b')
      await runAction(
        { name: 'orders:submit' },
        async (manager) => {
          fnManager = manager
          await orders().save(a)
          log.push('saved a')
          if (SERVER) midway.push(await committedOrders())
          await tick()
          await orders().save(b)
          log.push('fn end')
          return 'ok'
        },
        { events },
      )
      expect(fnManager).toBeUndefined()
      expect(log).toEqual(['BEGIN', 'COMMIT', 'saved a', 'BEGIN', 'COMMIT', 'fn end', 'post'])
      if (SERVER) expect(midway).toEqual([1])
      expect(seen).toHaveLength(1)
      expect(seen[0]!.result).toBe('ok')
      expect(seen[0]!.changes.map((c) => [c.entityName, c.id, c.operation])).toEqual([
        ['Order', a.id, 'insert'],
        ['Order', b.id, 'insert'],
      ])
    })

    it('never run when fn throws: with a transaction nothing is written', async () => {
      const post = jest.fn()
      const sync = jest.fn()
      events.bind('orders:submit', Post, post)
      events.bind('orders:submit', Post, sync, { mode: 'sync' })
      const failure = new Error('payment declined')
      await expect(
        runAction(
          { name: 'orders:submit' },
          async (manager) => {
            await manager!.save(newOrder('a'))
            await manager!.save(plains().create({ label: 'x' }))
            throw failure
          },
          { events, dataSource: ds, transaction: true },
        ),
      ).rejects.toBe(failure)
      await settle()
      expect(post).not.toHaveBeenCalled()
      expect(sync).not.toHaveBeenCalled()
      expect(reported).toEqual([])
      expect(log).toContain('ROLLBACK')
      expect(await countRows(ds, 'ae_order')).toBe(0)
      expect(await countRows(ds, 'ae_plain')).toBe(0)
      expect(await countRows(ds, 'audit_entry')).toBe(0)
    })

    it('never run when fn throws: without a transaction the writes before the throw stay', async () => {
      const post = jest.fn()
      const sync = jest.fn()
      events.bind('orders:*', Post, post)
      events.bind('orders:*', Post, sync, { mode: 'sync' })
      const failure = new SoftError('stock ran out')
      await expect(
        runAction(
          { name: 'orders:submit' },
          async () => {
            await orders().save(newOrder('committed'))
            throw failure
          },
          { events },
        ),
      ).rejects.toBe(failure)
      await settle()
      expect(post).not.toHaveBeenCalled()
      expect(sync).not.toHaveBeenCalled()
      expect((await orders().find()).map((o) => o.customer)).toEqual(['committed'])
    })

    it('writes in a savepoint that rolled back (caught inside fn) are not in changes', async () => {
      hooks.order = async (order: Order, timing, type, ctx) => {
        if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Line, { orderId: order.id, product: order.customer }))
      }
      const seen: PostActionEventContext[] = []
      const seenSync: PostActionEventContext[] = []
      events.bind('orders:submit', Post, (ctx) => void seen.push(ctx))
      events.bind('orders:submit', Post, (ctx) => void seenSync.push(ctx), { mode: 'sync' })
      await runAction(
        { name: 'orders:submit' },
        async (manager) => {
          await manager!.save(newOrder('before'))
          await expect(
            manager!.transaction(async (inner) => {
              await inner.save(newOrder('inside'))
              await inner.save(inner.create(Plain, { label: 'inside' }))
              throw new Error('undo the savepoint')
            }),
          ).rejects.toThrow('undo the savepoint')
          // A savepoint that is released stays.
          await manager!.transaction((inner) => inner.save(inner.create(Plain, { label: 'released' })))
          await manager!.save(newOrder('after'))
        },
        { events, dataSource: ds, transaction: true },
      )
      expect(log).toContain('ROLLBACK TO SAVEPOINT')
      const describe = (ctx: PostActionEventContext) =>
        ctx.changes.map((c) => `${c.entityName} ${c.operation} ${String(c.changes.customer?.new ?? c.changes.product?.new ?? c.changes.label?.new)}`)
      const expected = ['Order insert before', 'Line insert before', 'Plain insert released', 'Order insert after', 'Line insert after']
      expect(seen).toHaveLength(1)
      expect(describe(seen[0]!)).toEqual(expected)
      expect(seenSync).toHaveLength(1)
      expect(describe(seenSync[0]!)).toEqual(expected)
      expect((await orders().find({ order: { id: 'ASC' } })).map((o) => o.customer)).toEqual(['before', 'after'])
      expect((await plains().find()).map((p) => p.label)).toEqual(['released'])
      expect(await countRows(ds, 'ae_line')).toBe(2)
    })

    it('a save that failed and was caught inside fn (no transaction) is not in changes', async () => {
      hooks.order = (order: Order, timing, type) => {
        if (timing === Post && type === Insert && order.customer === 'bad') throw new SoftError('bad order')
      }
      const seen: PostActionEventContext[] = []
      events.bind('orders:submit', Post, (ctx) => void seen.push(ctx))
      await runAction(
        { name: 'orders:submit' },
        async () => {
          await expect(orders().save([newOrder('good'), newOrder('bad')])).rejects.toThrow('bad order')
          await orders().save(newOrder('later'))
        },
        { events },
      )
      expect(seen).toHaveLength(1)
      expect(seen[0]!.changes.map((c) => `${c.operation} ${String(c.changes.customer?.new)}`)).toEqual(['insert later'])
      expect((await orders().find()).map((o) => o.customer)).toEqual(['later'])
    })

    const nestedCases: [string, (label: string) => Promise<unknown>][] = [
      // The audit-style runAction (no options), as a service called by the action would use it.
      ['runAction without options', (label) => runAction({ name: 'stock:adjust' }, () => plains().save(plains().create({ label })))],
      // A nested action with its own (unbound) events.
      ['runAction with events, no handler bound', (label) => runAction({ name: 'stock:adjust' }, () => plains().save(plains().create({ label })), { events })],
    ]
    for (const [label, nested] of nestedCases) {
      it(`writes made inside a nested ${label} are in the outer action's changes`, async () => {
        const outer: PostActionEventContext[] = []
        events.bind('orders:submit', Post, (ctx) => void outer.push(ctx))
        await runAction(
          { name: 'orders:submit', user: { id: 1 } },
          async () => {
            await orders().save(newOrder('outer'))
            await nested('nested')
            await orders().save(newOrder('outer again'))
          },
          { events },
        )
        expect(await countRows(ds, 'ae_plain')).toBe(1)
        expect(outer).toHaveLength(1)
        expect(outer[0]!.changes.map((c) => `${c.entityName} ${String(c.changes.customer?.new ?? c.changes.label?.new)}`)).toEqual([
          'Order outer',
          'Plain nested',
          'Order outer again',
        ])
      })
    }

    it("a nested action with its own Post handler: each handler gets its writes, the outer one the nested ones too", async () => {
      const outer: PostActionEventContext[] = []
      const inner: PostActionEventContext[] = []
      events.bind('orders:submit', Post, (ctx) => void outer.push(ctx))
      events.bind('stock:reserve', Post, (ctx) => void inner.push(ctx))
      await runAction(
        { name: 'orders:submit', user: { id: 1 } },
        async () => {
          await orders().save(newOrder('outer'))
          await runAction({ name: 'stock:reserve', user: { id: 2 } }, () => plains().save(plains().create({ label: 'reserved' })), { events })
        },
        { events },
      )
      const names = (ctx: PostActionEventContext) =>
        ctx.changes.map((c) => `${c.entityName} ${String(c.changes.customer?.new ?? c.changes.label?.new)}`)
      expect(inner).toHaveLength(1)
      expect(inner[0]!.user).toEqual({ id: 2 })
      expect(names(inner[0]!)).toEqual(['Plain reserved'])
      expect(outer).toHaveLength(1)
      expect(outer[0]!.user).toEqual({ id: 1 })
      expect(names(outer[0]!)).toEqual(['Order outer', 'Plain reserved'])
    })

    it('a Pre handler that throws a plain error also stops the action and the error is not reported as a Post error', async () => {
      // (Sanity: Post errors are reported, Pre errors are thrown.)
      const failure = new Error('pre broke')
      events.bind('orders:submit', Pre, () => {
        throw failure
      })
      const fn = jest.fn()
      await expect(runAction({ name: 'orders:submit' }, fn, { events, dataSource: ds, transaction: true })).rejects.toBe(failure)
      expect(fn).not.toHaveBeenCalled()
      expect(reported).toEqual([])
    })
  })

  // --------------------------------------------------------------- modes

  describe("{ mode: 'sync' } and after-commit errors", () => {
    it('a sync handler runs inside the transaction before COMMIT and sees the uncommitted changes', async () => {
      const seen: PostActionEventContext[] = []
      const invisible: number[] = []
      events.bind('orders:submit', Post, async (ctx) => {
        log.push('sync')
        seen.push(ctx)
        if (SERVER) invisible.push(await committedOrders())
      }, { mode: 'sync' })
      events.bind('orders:submit', Post, () => void log.push('after'))
      let id = 0
      const result = await runAction(
        { name: 'orders:submit', user: { id: 'u' }, requestId: 'r', params: { p: 1 } },
        async (manager) => {
          id = (await manager!.save(newOrder('a'))).id
          return 'r1'
        },
        { events, dataSource: ds, transaction: true },
      )
      expect(result).toBe('r1')
      expect(log).toEqual(['BEGIN', 'sync', 'COMMIT', 'after'])
      if (SERVER) expect(invisible).toEqual([0])
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({ action: 'orders:submit', user: { id: 'u' }, requestId: 'r', params: { p: 1 }, result: 'r1' })
      expect(seen[0]!.changes.map(norm)).toEqual([
        {
          entityName: 'Order',
          id,
          operation: 'insert',
          group: ['customer', 'id', 'secret', 'status', 'total'],
          changes: insertChanges({ id, customer: 'a', status: 'new', total: 10 }),
        },
      ])
      expect(await countRows(ds, 'ae_order')).toBe(1)
    })

    it('a failing sync handler rolls the action back (nothing written) and its error reaches the caller', async () => {
      hooks.order = async (order: Order, timing, type, ctx) => {
        if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Line, { orderId: order.id, product: 'p' }))
      }
      const failure = new SoftError('warehouse says no')
      const after = jest.fn()
      const laterSync = jest.fn()
      events.bind('orders:submit', Post, () => {
        throw failure
      }, { mode: 'sync' })
      events.bind('orders:submit', Post, laterSync, { mode: 'sync' })
      events.bind('orders:submit', Post, after)
      await expect(
        runAction(
          { name: 'orders:submit' },
          async (manager) => {
            await manager!.save(newOrder('a'))
            await manager!.save(manager!.create(Plain, { label: 'x' }))
            return 'never'
          },
          { events, dataSource: ds, transaction: true },
        ),
      ).rejects.toBe(failure)
      await settle()
      expect(log).toContain('ROLLBACK')
      expect(log).not.toContain('COMMIT')
      expect(laterSync).not.toHaveBeenCalled()
      expect(after).not.toHaveBeenCalled()
      expect(reported).toEqual([])
      for (const table of ['ae_order', 'ae_line', 'ae_plain', 'audit_entry']) expect(await countRows(ds, table)).toBe(0)
    })

    it('an after-commit handler error keeps the commit, does not reach the caller, goes to onPostActionError; later handlers still run', async () => {
      const failure = new Error('mail server down')
      const later = jest.fn()
      events.bind('orders:submit', Post, () => {
        throw failure
      })
      events.bind('orders:submit', Post, async () => Promise.reject(new Error('webhook 500')))
      events.bind('orders:submit', Post, later)
      let id = 0
      await expect(
        runAction(
          { name: 'orders:submit', user: { id: 3 }, requestId: 'rq' },
          async (manager) => {
            id = (await manager!.save(newOrder('kept'))).id
            return 'result'
          },
          { events, dataSource: ds, transaction: true },
        ),
      ).resolves.toBe('result')
      await settle()
      expect((await orders().findOneByOrFail({ id })).customer).toBe('kept')
      expect(later).toHaveBeenCalledTimes(1)
      expect(reported).toHaveLength(2)
      expect(reported[0]!.error).toBe(failure)
      expect((reported[1]!.error as Error).message).toBe('webhook 500')
      for (const { ctx } of reported) {
        expect(ctx).toMatchObject({ action: 'orders:submit', user: { id: 3 }, requestId: 'rq', params: {}, result: 'result' })
        expect(ctx.changes.map((c) => [c.entityName, c.id, c.operation])).toEqual([['Order', id, 'insert']])
      }
    })

    it('the default onPostActionError is console.error, naming the action; the action still resolves', async () => {
      const errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined)
      const plainEvents = new ActionEvents()
      const failure = new Error('queue unreachable')
      plainEvents.bind('orders:submit', Post, () => {
        throw failure
      })
      await expect(
        runAction({ name: 'orders:submit' }, async (manager) => (await manager!.save(newOrder('logged'))).id, {
          events: plainEvents,
          dataSource: ds,
          transaction: true,
        }),
      ).resolves.toEqual(expect.any(Number))
      await settle()
      expect(await countRows(ds, 'ae_order')).toBe(1)
      expect(errorSpy).toHaveBeenCalledTimes(1)
      const args = errorSpy.mock.calls[0]!
      expect(args).toContain(failure)
      expect(args.filter((a) => typeof a === 'string').join(' ')).toContain('orders:submit')
    })

    it('an onPostActionError that throws does not reject the action either (both errors are logged)', async () => {
      const errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined)
      const reportFailure = new Error('tracker down')
      const throwing = new ActionEvents({
        onPostActionError: () => {
          throw reportFailure
        },
      })
      const failure = new Error('post broke')
      throwing.bind('orders:submit', Post, () => {
        throw failure
      })
      await expect(
        runAction({ name: 'orders:submit' }, () => orders().save(newOrder('x')).then(() => 'ok'), { events: throwing }),
      ).resolves.toBe('ok')
      expect(await countRows(ds, 'ae_order')).toBe(1)
      expect(errorSpy).toHaveBeenCalledTimes(1)
      expect(errorSpy.mock.calls[0]).toEqual(expect.arrayContaining([failure, reportFailure]))
    })
  })

  // ----------------------------------------------------------- bad input

  describe('bad input throws HardError', () => {
    const badNames: unknown[] = ['', '   ', '\t\n', undefined, null, 42, {}]
    const badPatterns = ['*orders', 'orders*:submit', 'a**', '**', 'or*ders:*']

    it('bind: empty/blank/non-string names and patterns with * not at the end', () => {
      const handler = jest.fn()
      for (const bad of [...badNames, ...badPatterns]) {
        expect(() => events.bind(bad as string, Pre, handler)).toThrow(HardError)
        expect(() => events.bind(bad as string, Post, handler)).toThrow(HardError)
      }
    })

    it('bind: a non-function handler, an unknown timing, an unknown mode', async () => {
      for (const bad of [undefined, null, 'handler', 42, {}]) {
        expect(() => events.bind('orders:submit', Pre, bad as any)).toThrow(HardError)
        expect(() => events.bind('orders:submit', Post, bad as any)).toThrow(HardError)
      }
      const handler = jest.fn()
      for (const timing of ['pre', 'During', undefined, null, 0]) {
        expect(() => events.bind('orders:submit', timing as any, handler)).toThrow(HardError)
      }
      expect(() => events.bind('orders:submit', Post, handler, { mode: 'later' as any })).toThrow(HardError)
      // Nothing got bound by the failed calls.
      await runAction({ name: 'orders:submit' }, () => undefined, { events })
      expect(handler).not.toHaveBeenCalled()
    })

    it('runAction: empty/blank names and names with * not at the end; nothing runs', async () => {
      const pre = jest.fn()
      const post = jest.fn()
      events.bind('*', Pre, pre)
      events.bind('*', Post, post)
      const fn = jest.fn()
      for (const bad of ['', '   ', '*orders', 'or*ders:submit']) {
        await expect(attempt(() => runAction({ name: bad }, fn, { events }))).rejects.toBeInstanceOf(HardError)
        await expect(attempt(() => runAction({ name: bad }, fn, { events, dataSource: ds, transaction: true }))).rejects.toBeInstanceOf(HardError)
      }
      expect(fn).not.toHaveBeenCalled()
      expect(pre).not.toHaveBeenCalled()
      expect(post).not.toHaveBeenCalled()
    })

    it('runAction: transaction: true without a dataSource; neither handlers nor fn run', async () => {
      const pre = jest.fn()
      const post = jest.fn()
      events.bind('orders:submit', Pre, pre)
      events.bind('orders:submit', Post, post)
      const fn = jest.fn()
      await expect(attempt(() => runAction({ name: 'orders:submit' }, fn, { events, transaction: true }))).rejects.toBeInstanceOf(HardError)
      await expect(attempt(() => runAction({ name: 'orders:submit' }, fn, { transaction: true }))).rejects.toBeInstanceOf(HardError)
      expect(fn).not.toHaveBeenCalled()
      expect(pre).not.toHaveBeenCalled()
      expect(post).not.toHaveBeenCalled()
    })
  })

  // --------------------------------------------------------- concurrency

  describe('concurrent actions', () => {
    for (const transaction of [true, false]) {
      it(`20 actions with different users (transaction: ${transaction}): every Post handler sees only its own user and changes${SERVER ? '' : ' (serialized on SQLite)'}`, async () => {
        hooks.order = async (order: Order, timing, type, ctx) => {
          if (timing === Post && type === Insert) {
            await tick()
            await ctx.manager.save(ctx.manager.create(Line, { orderId: order.id, product: `line of ${order.customer}` }))
          }
        }
        const N = 20
        type Seen = { user: ActionUser | undefined; params: Record<string, unknown>; result: unknown; changes: readonly ActionChange[] }
        const pre: Seen[] = []
        const sync: Seen[] = []
        const after: Seen[] = []
        events.bind('orders:submit', Pre, async (ctx) => {
          await tick()
          pre.push({ user: ctx.user, params: ctx.params, result: undefined, changes: [] })
        })
        events.bind('orders:*', Post, async (ctx) => {
          await tick()
          sync.push({ user: ctx.user, params: ctx.params, result: ctx.result, changes: ctx.changes })
        }, { mode: 'sync' })
        events.bind('*', Post, async (ctx) => {
          await tick()
          after.push({ user: ctx.user, params: ctx.params, result: ctx.result, changes: ctx.changes })
        })

        const one = (i: number) =>
          runAction(
            { name: 'orders:submit', user: { id: `user-${i}` }, requestId: `req-${i}`, params: { i } },
            async (manager) => {
              const m = manager ?? ds.manager
              expect(m.queryRunner?.isTransactionActive ?? false).toBe(transaction)
              const order = await m.save(newOrder(`customer-${i}`, { total: i }))
              await tick()
              order.status = `submitted by ${i}`
              await m.save(order)
              return order.id
            },
            transaction ? { events, dataSource: ds, transaction } : { events },
          )
        let ids: number[]
        if (SERVER) ids = await Promise.all(Array.from({ length: N }, (_, i) => one(i)))
        else {
          ids = []
          for (let i = 0; i < N; i++) ids.push(await one(i))
        }
        await settle()
        expect(reported).toEqual([])
        expect(new Set(ids).size).toBe(N)
        expect(pre).toHaveLength(N)
        expect(sync).toHaveLength(N)
        expect(after).toHaveLength(N)
        for (const list of [pre, sync, after]) {
          expect(list.map((s) => s.params.i).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: N }, (_, i) => i))
        }
        const lines = await ds.getRepository(Line).find()
        for (const list of [sync, after]) {
          for (const s of list) {
            const i = s.params.i as number
            expect(s.user).toEqual({ id: `user-${i}` })
            const id = ids[i]
            expect(s.result).toBe(id)
            const line = lines.find((l) => l.orderId === id)!
            expect(line.product).toBe(`line of customer-${i}`)
            expect(s.changes.map((c) => [c.entityName, c.id, c.operation])).toEqual([
              ['Order', id, 'insert'],
              ['Line', line.id, 'insert'],
              ['Order', id, 'update'],
            ])
            expect(s.changes[0]!.changes.customer).toEqual({ old: null, new: `customer-${i}` })
            expect(s.changes[2]!.changes.status).toEqual({ old: 'new', new: `submitted by ${i}` })
          }
        }
        for (const s of pre) expect(s.user).toEqual({ id: `user-${s.params.i as number}` })
        expect(await countRows(ds, 'ae_order')).toBe(N)
        expect(await countRows(ds, 'ae_line')).toBe(N)
      })
    }
  })
})

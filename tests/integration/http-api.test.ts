/**
 * Action events over HTTP (issue 5): the example shop (examples/http-api)
 * started as a real server on a loopback port, called with fetch, on the
 * Express and on the Koa adapter, on the database chosen by DB.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import createError from 'http-errors'
import type { DataSource } from 'typeorm'
import { createExpressApp, createKoaApp, shopEvents, warehouseLog } from '../../examples/http-api/app'
import { demoEntities, Order } from '../../demo/entities'
import {
  AuditEntry,
  EventActionTiming,
  EventActionType,
  expressEventActions,
  HardError,
  koaEventActions,
  withEventActions,
  type ActionChange,
  type ActionEvents,
  type ActionUser,
} from '../../src'
import { defaultActionName } from '../../src/integrations/http/http-action'
import { resolveConfig } from '../../src/setup/event-actions-config'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { RecordingLogger } from '../support/recording-logger'

const { Pre, Post } = EventActionTiming

/** One action-event handler call, as a handler saw it. */
interface Call {
  handler: string
  action: string
  user: ActionUser | undefined
  requestId: string | undefined
  params: Readonly<Record<string, unknown>>
  result?: unknown
  changes?: readonly ActionChange[]
  /** Post handlers: the order's status read from the database outside the request's transaction. */
  statusInDb?: string | null
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

describe('defaultActionName', () => {
  it.each([
    ['POST', '/orders', 'orders:create'],
    ['GET', '/orders/7', 'orders:get'],
    ['GET', '/orders', 'orders:list'],
    ['PATCH', '/orders/7', 'orders:update'],
    ['PUT', '/orders/7', 'orders:update'],
    ['DELETE', '/orders/7', 'orders:destroy'],
    ['POST', '/orders/7/submit', 'orders:submit'],
    ['post', '/orders/7/submit?x=1', 'orders:submit'],
    ['GET', '/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'orders:get'],
  ])('%s %s is %s', (method, path, expected) => {
    expect(defaultActionName(method, path)).toBe(expected)
  })
})

describe('the logger option', () => {
  it.each([
    ['expressEventActions', (logger: unknown) => expressEventActions({ events: shopEvents(), logger: logger as never })],
    ['koaEventActions', (logger: unknown) => koaEventActions({ events: shopEvents(), logger: logger as never })],
  ])('%s refuses a logger without info, warn and error, naming what is missing', (name, make) => {
    expect(() => make({ info() {}, error() {} })).toThrow(HardError)
    expect(() => make({ info() {}, error() {} })).toThrow(`${name}: logger must have info, warn and error methods (console, pino and winston do), got object without warn`)
    expect(() => make(null)).toThrow('without info, warn, error')
    expect(() => make(console)).not.toThrow()
  })

  it("EventActionsConfig.logger (withEventActions): the default onAfterCommitError logs there, one entry with the stack", () => {
    const logger = new RecordingLogger()
    const { onAfterCommitError } = resolveConfig({ logger })

    onAfterCommitError(new Error('mail server down'), { entityName: 'Order', timing: Post, type: EventActionType.Insert })

    expect(logger.lines).toEqual([
      { level: 'error', args: [expect.stringMatching(/^typeorm-event-actions: an afterCommit callback of Order Post Insert failed\nError: mail server down\n +at /)] },
    ])
    expect(() => withEventActions({ type: 'sqlite', database: ':memory:' }, { logger: { warn() {} } as never })).toThrow(
      'EventActionsConfig.logger must have info, warn and error methods (console, pino and winston do), got object without info, error',
    )
  })
})

describe.each(['express', 'koa'] as const)(`HTTP action events on %s (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, (adapter) => {
  let ds: DataSource
  let events: ActionEvents
  let server: http.Server
  let base: string
  const calls: Call[] = []
  const logger = new RecordingLogger()
  /** Unbinds the handlers a test bound for itself. */
  const unbinds: (() => void)[] = []

  const statusOf = async (id: number): Promise<string | null> => (await ds.getRepository(Order).findOneBy({ id }))?.status ?? null

  /** Records every call of a handler under `name`; Post handlers also read the order's status from the database. */
  function recordPre(name: string) {
    return (ctx: { action: string; user: ActionUser | undefined; requestId: string | undefined; params: Readonly<Record<string, unknown>> }) => {
      calls.push({ handler: name, action: ctx.action, user: ctx.user, requestId: ctx.requestId, params: ctx.params })
    }
  }
  function recordPost(name: string) {
    return async (ctx: {
      action: string
      user: ActionUser | undefined
      requestId: string | undefined
      params: Readonly<Record<string, unknown>>
      result: unknown
      changes: readonly ActionChange[]
    }) => {
      const id = (ctx.result as { id?: unknown } | null)?.id
      const statusInDb = typeof id === 'number' ? await statusOf(id) : undefined
      calls.push({
        handler: name,
        action: ctx.action,
        user: ctx.user,
        requestId: ctx.requestId,
        params: ctx.params,
        result: ctx.result,
        changes: ctx.changes,
        statusInDb,
      })
    }
  }
  const callsOf = (handler: string) => calls.filter((c) => c.handler === handler)

  async function call(method: string, path: string, options: { user?: string; requestId?: string; body?: unknown; rawBody?: string } = {}) {
    const headers: Record<string, string> = {}
    if (options.user !== undefined) headers['x-user'] = options.user
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId
    if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    })
    const text = await response.text()
    return {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      text,
      body: text ? (JSON.parse(text) as any) : undefined,
    }
  }

  /** A new open order with two lines, written directly (not through HTTP). */
  async function seedOrder(customer: string): Promise<number> {
    const order = ds.getRepository(Order).create({
      customer,
      lines: [
        { product: 'tea', quantity: 2, price: 3 },
        { product: 'cup', quantity: 1, price: 5 },
      ],
    })
    order.lines.forEach((line) => (line.order = order))
    const saved = await ds.getRepository(Order).save(order)
    return saved.id
  }

  beforeAll(async () => {
    ds = await openDataSource(demoEntities)
    events = shopEvents()
    // Our handlers come after the shop's, so the shop's Pre handler (sign-in check) runs first.
    events.bind('orders:submit', Pre, recordPre('submit:pre'))
    events.bind('orders:submit', Post, recordPost('submit:post'))
    events.bind('orders:create', Post, recordPost('create:post'))
    events.bind('*', Pre, recordPre('*:pre'))
    events.bind('*', Post, recordPost('*:post'))
    if (adapter === 'express') {
      const app = createExpressApp(ds, events, { logger })
      server = await new Promise<http.Server>((resolve, reject) => {
        const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)))
      })
    } else {
      server = http.createServer(createKoaApp(ds, events, { logger }).callback())
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
      })
    }
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    if (server) {
      server.closeAllConnections?.()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    if (ds?.isInitialized) await ds.destroy()
  })

  beforeEach(() => {
    calls.length = 0
    warehouseLog.length = 0
    logger.clear()
  })

  afterEach(() => {
    while (unbinds.length) unbinds.pop()!()
    jest.restoreAllMocks()
  })

  it('a bound action (orders:submit) fires its Pre and Post handlers with the user, the committed changes and the response', async () => {
    const id = await seedOrder('alice')
    calls.length = 0

    const res = await call('POST', `/orders/${id}/submit`, { user: 'bob', requestId: 'req-submit-1' })

    expect(res.status).toBe(200)
    expect(res.requestId).toBe('req-submit-1')
    expect(res.body).toMatchObject({ id, customer: 'alice', status: 'submitted' })
    expect(await statusOf(id)).toBe('submitted')

    const [pre] = callsOf('submit:pre')
    expect(callsOf('submit:pre')).toHaveLength(1)
    expect(pre).toMatchObject({ action: 'orders:submit', user: { id: 'bob' }, requestId: 'req-submit-1' })

    const posts = callsOf('submit:post')
    expect(posts).toHaveLength(1)
    const post = posts[0]!
    expect(post).toMatchObject({ action: 'orders:submit', user: { id: 'bob' }, requestId: 'req-submit-1' })
    // The Post handler runs after commit: a read outside the request's transaction sees the new status.
    expect(post.statusInDb).toBe('submitted')
    // The result is what the route answered.
    expect(JSON.parse(JSON.stringify(post.result))).toEqual(res.body)
    // The changes list the order's status update.
    const orderUpdate = post.changes!.find((c) => c.entityName === 'Order' && c.operation === 'update')
    expect(orderUpdate).toBeDefined()
    expect(String(orderUpdate!.id)).toBe(String(id))
    expect(orderUpdate!.group).toContain('status')
    expect(orderUpdate!.changes.status).toEqual({ old: 'open', new: 'submitted' })

    // The '*' handlers see the same action, and the shop's own Post handler told the warehouse.
    expect(callsOf('*:pre').map((c) => c.action)).toEqual(['orders:submit'])
    expect(callsOf('*:post').map((c) => c.action)).toEqual(['orders:submit'])
    expect(warehouseLog).toEqual([expect.stringMatching(new RegExp(`^reserve stock for order #${id} .*submitted by bob$`))])

    // The audit trail of the write knows the action and the user.
    // (The seeding wrote entries with no action: the lines' Post Insert updates the order's total.)
    const audit = await ds.getRepository(AuditEntry).findBy({ entityName: 'Order', entityId: String(id), actionName: 'orders:submit' })
    expect(audit.map((a) => [a.actionName, a.userId, a.requestId])).toEqual([['orders:submit', 'bob', 'req-submit-1']])
  })

  it('Pre and Post handlers get the route params (the id of the order submitted)', async () => {
    const id = await seedOrder('params')
    calls.length = 0
    const res = await call('POST', `/orders/${id}/submit?via=checkout`, { user: 'bob' })
    expect(res.status).toBe(200)
    // params: "an HTTP request's route params, query and body" (ActionEventContext.params).
    expect(callsOf('submit:pre')[0]?.params).toMatchObject({ query: { via: 'checkout' } })
    expect(callsOf('submit:pre')[0]?.params).toMatchObject({ id: String(id) })
    expect(callsOf('submit:post')[0]?.params).toMatchObject({ id: String(id) })
  })

  it('without x-request-id, the request gets a generated id, the same in the header and in the handlers', async () => {
    const id = await seedOrder('carl')
    calls.length = 0

    const first = await call('POST', `/orders/${id}/submit`, { user: 'bob' })
    const second = await call('GET', `/orders/${id}`, { user: 'bob' })

    expect(first.status).toBe(200)
    expect(first.requestId).toMatch(UUID)
    expect(second.requestId).toMatch(UUID)
    expect(second.requestId).not.toBe(first.requestId)
    expect(callsOf('submit:pre').map((c) => c.requestId)).toEqual([first.requestId])
    expect(callsOf('submit:post').map((c) => c.requestId)).toEqual([first.requestId])
    expect(callsOf('*:post').map((c) => [c.action, c.requestId])).toEqual([
      ['orders:submit', first.requestId],
      ['orders:get', second.requestId],
    ])
  })

  it('an unsafe x-request-id is replaced by a generated one', async () => {
    const res = await call('GET', '/orders/999999', { requestId: 'bad id with spaces' })
    expect(res.requestId).toMatch(UUID)
    expect(callsOf('*:pre').map((c) => c.requestId)).toEqual([res.requestId])
  })

  it('an unbound action on the same entity (PATCH /orders/:id, orders:update) fires none of the orders:submit handlers', async () => {
    const id = await seedOrder('dora')
    calls.length = 0

    const res = await call('PATCH', `/orders/${id}`, { user: 'admin', requestId: 'req-edit-1', body: { customer: 'Dora B.' } })

    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id, customer: 'Dora B.', status: 'open' })
    expect((await ds.getRepository(Order).findOneByOrFail({ id })).customer).toBe('Dora B.')
    expect(callsOf('submit:pre')).toEqual([])
    expect(callsOf('submit:post')).toEqual([])
    expect(warehouseLog).toEqual([])
    // A '*' handler sees it, with the user and the order's change.
    expect(callsOf('*:pre')).toEqual([expect.objectContaining({ action: 'orders:update', user: { id: 'admin' }, requestId: 'req-edit-1' })])
    const [star] = callsOf('*:post')
    expect(callsOf('*:post')).toHaveLength(1)
    expect(star).toMatchObject({ action: 'orders:update', user: { id: 'admin' }, requestId: 'req-edit-1' })
    const change = star!.changes!.find((c) => c.entityName === 'Order')
    expect(change).toMatchObject({ operation: 'update' })
    expect(change!.changes.customer).toEqual({ old: 'dora', new: 'Dora B.' })
  })

  it('a Pre-action veto (no x-user) answers 400 with field errors and writes nothing', async () => {
    const id = await seedOrder('erin')
    const auditBefore = await countRows(ds, 'audit_entry')
    calls.length = 0

    const res = await call('POST', `/orders/${id}/submit`, { requestId: 'req-veto' })

    expect(res.status).toBe(400)
    expect(res.requestId).toBe('req-veto')
    expect(res.body).toEqual({ errors: [{ attribute: 'user', key: 'action.signInRequired', message: 'sign in to submit an order' }] })
    expect(await statusOf(id)).toBe('open')
    expect(await countRows(ds, 'audit_entry')).toBe(auditBefore)
    // A client error is logged as one line: method, path, status, request id, action and key; no stack.
    expect(logger.lines).toEqual([
      { level: 'warn', args: [`typeorm-event-actions: POST /orders/${id}/submit 400 request req-veto (orders:submit) action.signInRequired`] },
    ])
    // The veto came from the first Pre handler: the later ones and every Post handler never ran.
    expect(calls).toEqual([])
    expect(warehouseLog).toEqual([])
  })

  it('a failing transaction (a line with quantity 0) answers 400, writes nothing and runs no Post handler', async () => {
    const orders = await countRows(ds, 'demo_order')
    const lines = await countRows(ds, 'demo_order_line')
    const audit = await countRows(ds, 'audit_entry')

    const res = await call('POST', '/orders', {
      user: 'frank',
      body: {
        customer: 'frank',
        lines: [
          { product: 'tea', quantity: 1, price: 3 },
          { product: 'cup', quantity: 0, price: 5 },
        ],
      },
    })

    expect(res.status).toBe(400)
    expect(res.body).toEqual({ errors: [{ attribute: 'quantity', key: 'orderLine.quantityNotPositive', message: 'quantity must be positive, got 0' }] })
    expect(await countRows(ds, 'demo_order')).toBe(orders)
    expect(await countRows(ds, 'demo_order_line')).toBe(lines)
    expect(await countRows(ds, 'audit_entry')).toBe(audit)
    // The action did run (its Pre handler saw it), but no Post handler did.
    expect(callsOf('*:pre').map((c) => [c.action, c.user])).toEqual([['orders:create', { id: 'frank' }]])
    expect(callsOf('*:post')).toEqual([])
    expect(callsOf('create:post')).toEqual([])
  })

  it('the same order with good lines is created and its Post handler runs (control for the test above)', async () => {
    const orders = await countRows(ds, 'demo_order')
    const lines = await countRows(ds, 'demo_order_line')
    const res = await call('POST', '/orders', {
      user: 'frank',
      body: {
        customer: 'frank',
        lines: [
          { product: 'tea', quantity: 1, price: 3 },
          { product: 'cup', quantity: 2, price: 5 },
        ],
      },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ customer: 'frank', total: 13 })
    expect(await countRows(ds, 'demo_order')).toBe(orders + 1)
    expect(await countRows(ds, 'demo_order_line')).toBe(lines + 2)
    const [post] = callsOf('create:post')
    expect(callsOf('create:post')).toHaveLength(1)
    expect(post!.user).toEqual({ id: 'frank' })
    expect(post!.changes!.filter((c) => c.entityName === 'OrderLine' && c.operation === 'insert')).toHaveLength(2)
    expect(post!.changes!.some((c) => c.entityName === 'Order' && c.operation === 'insert')).toBe(true)
  })

  it('a failing sync Post handler rolls the action back, answers 500 and runs no after-commit Post handler', async () => {
    const id = await seedOrder('gina')
    const auditBefore = await countRows(ds, 'audit_entry')
    calls.length = 0
    const secret = new Error('SECRET-sync-handler-detail')
    unbinds.push(
      events.bind(
        'orders:submit',
        Post,
        () => {
          throw secret
        },
        { mode: 'sync' },
      ),
    )

    const res = await call('POST', `/orders/${id}/submit`, { user: 'bob' })

    expect(res.status).toBe(500)
    expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.internal', message: 'Internal Server Error' }] })
    expect(res.text).not.toContain('SECRET')
    expect(await statusOf(id)).toBe('open')
    expect(await countRows(ds, 'audit_entry')).toBe(auditBefore)
    expect(callsOf('submit:pre')).toHaveLength(1)
    expect(callsOf('submit:post')).toEqual([])
    expect(callsOf('*:post')).toEqual([])
    expect(warehouseLog).toEqual([])
    // The error is logged on the server side, with its stack, in one entry.
    expect(logger.of('error')).toEqual([[expect.stringContaining(`POST /orders/${id}/submit 500 request ${res.requestId} (orders:submit) failed\nError: SECRET-sync-handler-detail\n    at `)]])
    expect(logger.of('warn')).toEqual([])
  })

  it('a Pre handler throwing a plain Error answers 500 with no internals', async () => {
    const id = await seedOrder('hank')
    calls.length = 0
    const secret = new Error('SECRET-pre-handler-detail')
    unbinds.push(
      events.bind('orders:get', Pre, () => {
        throw secret
      }),
    )

    const res = await call('GET', `/orders/${id}`, { user: 'bob', requestId: 'req-500' })

    expect(res.status).toBe(500)
    expect(res.requestId).toBe('req-500')
    expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.internal', message: 'Internal Server Error' }] })
    expect(res.text).not.toMatch(/SECRET|stack|\bat \w/)
    expect(callsOf('*:post')).toEqual([])
    expect(logger.of('error')).toEqual([[expect.stringMatching(new RegExp(`^typeorm-event-actions: GET /orders/${id} 500 request req-500 \\(orders:get\\) failed\\nError: SECRET-pre-handler-detail\\n +at `))]])
  })

  it('a route failing with an unexpected error answers 500 with no internals, writes nothing and runs no Post handler', async () => {
    const orders = await countRows(ds, 'demo_order')

    // `lines` that is not an array makes the route's own code throw a TypeError.
    const res = await call('POST', '/orders', { user: 'ivan', body: { customer: 'ivan', lines: 'oops' } })

    expect(res.status).toBe(500)
    expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.internal', message: 'Internal Server Error' }] })
    expect(res.text).not.toMatch(/map|TypeError|function|stack/)
    expect(await countRows(ds, 'demo_order')).toBe(orders)
    expect(callsOf('*:pre')).toHaveLength(1)
    expect(callsOf('*:post')).toEqual([])
    expect(callsOf('create:post')).toEqual([])
    expect(logger.of('error')).toEqual([[expect.stringMatching(/^typeorm-event-actions: POST \/orders 500 request \S+ \(orders:create\) failed\nTypeError: /)]])
  })

  describe('client errors keep their status, with the { errors } body of a SoftError and one log line', () => {
    it('malformed JSON answers 400, logs one line, and no action starts', async () => {
      const orders = await countRows(ds, 'demo_order')

      const res = await call('POST', '/orders', { user: 'lena', requestId: 'req-json', rawBody: '{"customer": ' })

      expect(res.status).toBe(400)
      expect(res.requestId).toBe('req-json')
      // express.json() (body-parser) marks its message as meant for the client; co-body (under @koa/bodyparser) does not.
      const message = adapter === 'express' ? expect.stringMatching(/JSON/) : 'Bad Request'
      expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.badRequest', message }] })
      expect(res.text).not.toMatch(/SyntaxError|\bat \w/)
      expect(await countRows(ds, 'demo_order')).toBe(orders)
      expect(calls).toEqual([])
      expect(logger.lines).toEqual([{ level: 'warn', args: ['typeorm-event-actions: POST /orders 400 request req-json (no action) error.badRequest'] }])
    })

    it('a body over the limit answers 413 and logs one line', async () => {
      const res = await call('POST', '/orders', { user: 'lena', requestId: 'req-big', body: { customer: 'x'.repeat(200_000) } })

      expect(res.status).toBe(413)
      expect(res.requestId).toBe('req-big')
      expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.payloadTooLarge', message: 'request entity too large' }] })
      expect(calls).toEqual([])
      expect(logger.lines).toEqual([{ level: 'warn', args: ['typeorm-event-actions: POST /orders 413 request req-big (no action) error.payloadTooLarge'] }])
    })

    it(`a route's http-errors 404 (${adapter === 'express' ? 'createError(404)' : 'ctx.throw(404)'}) answers 404 inside its action, which runs no Post handler`, async () => {
      const res = await call('GET', '/orders/999999', { user: 'lena', requestId: 'req-404' })

      expect(res.status).toBe(404)
      expect(res.requestId).toBe('req-404')
      expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.notFound', message: 'no order 999999' }] })
      expect(callsOf('*:pre').map((c) => c.action)).toEqual(['orders:get'])
      expect(callsOf('*:post')).toEqual([])
      expect(logger.lines).toEqual([{ level: 'warn', args: ['typeorm-event-actions: GET /orders/999999 404 request req-404 (orders:get) error.notFound'] }])
    })
  })

  it('two concurrent requests with different users never see each other’s user', async () => {
    const a = await seedOrder('jane')
    const b = await seedOrder('kurt')
    calls.length = 0
    const waits: NodeJS.Timeout[] = []
    /** A promise and its resolve; resolves by itself after 5 s so that a broken run fails instead of hanging. */
    const gate = () => {
      let open!: () => void
      const opened = new Promise<void>((resolve) => {
        open = resolve
        waits.push(setTimeout(resolve, 5000))
      })
      return { opened, open }
    }
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

    // 1. A barrier in a Pre handler: each request waits there until the other
    //    one arrived too, so both requests are in flight at once.
    let arrived = 0
    const bothArrived = gate()
    unbinds.push(
      events.bind('orders:submit', Pre, async () => {
        if (++arrived === 2) bothArrived.open()
        await bothArrived.opened
      }),
    )
    // 2. The transactions. On PostgreSQL and MariaDB each request has its own
    //    connection: a sync Post handler (inside the transaction, before
    //    commit) waits until both transactions are open at once. On SQLite
    //    TypeORM shares one connection between all transactions, and two
    //    transactions at once fail ("cannot start a transaction within a
    //    transaction"; the README leaves serializing them to the caller), so
    //    there the second request's Pre handler waits until the first one's
    //    transaction committed (released by an after-commit Post handler): the
    //    requests stay concurrent, only their transactions take turns.
    const serialize = DB === 'sqlite'
    let inTransaction = 0
    const bothInTransaction = gate()
    let turn: Promise<void> = Promise.resolve()
    const releases = new Map<string, () => void>()
    if (serialize) {
      unbinds.push(
        events.bind('orders:submit', Pre, async ({ requestId }) => {
          const mine = gate()
          const previous = turn
          turn = mine.opened
          releases.set(requestId!, mine.open)
          await previous
        }),
      )
    } else {
      unbinds.push(
        events.bind(
          'orders:submit',
          Post,
          async () => {
            if (++inTransaction === 2) bothInTransaction.open()
            await bothInTransaction.opened
          },
          { mode: 'sync' },
        ),
      )
    }
    // 3. After commit: yield a few times so the two requests' Post handlers interleave, then record.
    unbinds.push(
      events.bind('orders:submit', Post, async (ctx) => {
        for (let i = 0; i < 3; i++) await tick()
        calls.push({ handler: 'late:post', action: ctx.action, user: ctx.user, requestId: ctx.requestId, params: ctx.params, result: ctx.result })
        releases.get(ctx.requestId!)?.()
      }),
    )

    try {
      const [ra, rb] = await Promise.all([
        call('POST', `/orders/${a}/submit`, { user: 'user-a', requestId: 'req-a' }),
        call('POST', `/orders/${b}/submit`, { user: 'user-b', requestId: 'req-b' }),
      ])
      expect(arrived).toBe(2)
      if (!serialize) expect(inTransaction).toBe(2)
      expect([ra.status, rb.status]).toEqual([200, 200])
      expect([ra.requestId, rb.requestId]).toEqual(['req-a', 'req-b'])
      expect([ra.body.id, rb.body.id]).toEqual([a, b])
    } finally {
      waits.forEach(clearTimeout)
    }

    const owner: Record<string, string> = { 'req-a': 'user-a', 'req-b': 'user-b' }
    const orderOf: Record<string, number> = { 'req-a': a, 'req-b': b }
    for (const handler of ['submit:pre', 'submit:post', '*:pre', '*:post', 'late:post']) {
      const seen = callsOf(handler)
      expect(seen.map((c) => c.requestId).sort()).toEqual(['req-a', 'req-b'])
      for (const c of seen) {
        expect({ handler, requestId: c.requestId, user: c.user?.id }).toEqual({ handler, requestId: c.requestId, user: owner[c.requestId!] })
        if (c.result !== undefined) expect((c.result as Order).id).toBe(orderOf[c.requestId!])
      }
    }
    expect(warehouseLog).toHaveLength(2)
    expect(warehouseLog).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^reserve stock for order #${a} .*submitted by user-a$`)),
        expect.stringMatching(new RegExp(`^reserve stock for order #${b} .*submitted by user-b$`)),
      ]),
    )
    // Inside the transactions too: each audit entry of an order's update carries its own request's user.
    const audit = await ds.getRepository(AuditEntry).findBy({ entityName: 'Order', actionName: 'orders:submit' })
    const byOrder = audit.filter((e) => e.entityId === String(a) || e.entityId === String(b)).map((e) => [e.entityId, e.userId, e.requestId])
    expect(byOrder.sort()).toEqual(
      [
        [String(a), 'user-a', 'req-a'],
        [String(b), 'user-b', 'req-b'],
      ].sort(),
    )
  })
})

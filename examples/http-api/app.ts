/**
 * A small REST API (accounts, orders, order lines) with action events: the
 * checkout endpoint `POST /orders/:id/submit` (action `orders:submit`) is
 * bound to pre- and post-action events; the admin edit `PATCH /orders/:id`
 * (`orders:update`) is not. The same routes on Express and on Koa.
 */
import { bodyParser } from '@koa/bodyparser'
import express from 'express'
import createError from 'http-errors'
import Koa from 'koa'
import type { DataSource, EntityManager } from 'typeorm'
import { ActionEvents, EventActionTiming, expressEventActions, koaEventActions, SoftError, type ActionUser, type EventActionsConfig } from '../../src'
import { Order, OrderLine } from '../../demo/entities'

/** What the warehouse was told, for the tests and the console. */
export const warehouseLog: string[] = []

/** The action events of the shop: checkout is guarded before and announced after commit. */
export function shopEvents(): ActionEvents {
  const events = new ActionEvents()
  events.bind('orders:submit', EventActionTiming.Pre, ({ user }) => {
    if (!user) throw SoftError.of('action.signInRequired', {}, { attribute: 'user', defaultMessage: 'sign in to submit an order' })
  })
  events.bind('orders:submit', EventActionTiming.Post, ({ user, changes, result }) => {
    const order = result as Order
    const lines = changes.filter((c) => c.entityName === 'OrderLine').length
    warehouseLog.push(`reserve stock for order #${order.id} (${lines} lines changed), submitted by ${String(user?.id)}`)
  })
  return events
}

/** The demo's sign-in: the user id comes in the `x-user` header. */
function userFrom(header: string | string[] | undefined): ActionUser | undefined {
  const id = Array.isArray(header) ? header[0] : header
  return id ? { id } : undefined
}

/** An order as JSON: its lines without their back-reference to the order. */
export function orderJson(order: Order | null): unknown {
  if (!order) return null
  return { ...order, lines: order.lines?.map(({ order: _order, ...line }) => line) }
}

interface OrderInput {
  customer?: string
  lines?: { product: string; quantity: number; price: number }[]
}

/** How the shop is set up besides its data source and action events. */
export interface ShopOptions {
  /** Where error answers are logged (a 4xx as one line, a 500 with its stack). Defaults to `console`. */
  logger?: EventActionsConfig['logger']
}

/** The largest JSON body the shop accepts, on both adapters (express.json()'s default): more answers 413. */
export const BODY_LIMIT = '100kb'

const notFound = (id: number): SoftError => SoftError.of('order.notFound', { id }, { attribute: 'id', defaultMessage: 'no order {id}' })

async function createOrder(manager: EntityManager, input: OrderInput): Promise<Order> {
  const order = manager.create(Order, { customer: input.customer ?? '' })
  if (!order.customer) throw SoftError.of('order.customerRequired', {}, { attribute: 'customer', defaultMessage: 'customer is required' })
  order.lines = (input.lines ?? []).map((l) => Object.assign(new OrderLine(), { ...l, order }))
  return manager.save(order)
}

async function submitOrder(manager: EntityManager, id: number): Promise<Order> {
  const order = await manager.findOne(Order, { where: { id }, relations: { lines: true } })
  if (!order) throw notFound(id)
  if (!order.lines.length) throw SoftError.of('order.needsLines', {}, { attribute: 'lines', defaultMessage: 'an order needs at least one line' })
  order.lines.forEach((line) => (line.order = order))
  order.status = 'submitted'
  return manager.save(order)
}

async function editOrder(manager: EntityManager, id: number, input: { customer?: string; status?: string }): Promise<Order> {
  const order = await manager.findOneBy(Order, { id })
  if (!order) throw notFound(id)
  Object.assign(order, input)
  return manager.save(order)
}

/** The shop on Express: two lines (`middleware`, `errorHandler`) bring in action events. */
export function createExpressApp(dataSource: DataSource, events: ActionEvents, options: ShopOptions = {}): express.Express {
  const app = express()
  const actions = expressEventActions({
    events,
    dataSource,
    resolveUser: (req) => userFrom(req.headers['x-user']),
    // The languages the shop has texts for (demo/messages.ts): Accept-Language picks one.
    locales: ['en', 'ru'],
    logger: options.logger,
  })
  // Malformed JSON (400) and a body over the limit (413) reach actions.errorHandler with their status.
  app.use(express.json({ limit: BODY_LIMIT }))
  // Mounted per route, so that action handlers get the route params (the order id).
  const action = actions.middleware as unknown as express.RequestHandler
  const manager = (req: express.Request): EntityManager => (req as { eventActions?: { manager?: EntityManager } }).eventActions!.manager!
  app.post('/orders', action, async (req, res) => {
    res.status(201).json(orderJson(await createOrder(manager(req), req.body as OrderInput)))
  })
  app.post('/orders/:id/submit', action, async (req, res) => {
    res.json(orderJson(await submitOrder(manager(req), Number(req.params.id))))
  })
  app.patch('/orders/:id', action, async (req, res) => {
    res.json(orderJson(await editOrder(manager(req), Number(req.params.id), req.body as { customer?: string })))
  })
  app.get('/orders/:id', action, async (req, res) => {
    const order = await manager(req).findOne(Order, { where: { id: Number(req.params.id) }, relations: { lines: true } })
    // An http-errors error keeps its status: 404 with the same { errors } body as a SoftError.
    if (!order) throw createError(404, `no order ${req.params.id}`)
    res.json(orderJson(order))
  })
  app.use(actions.errorHandler)
  return app
}

/** The same shop on Koa (routing by hand, to need nothing but koa). */
export function createKoaApp(dataSource: DataSource, events: ActionEvents, options: ShopOptions = {}): Koa {
  const app = new Koa()
  const actions = koaEventActions({
    events,
    dataSource,
    locales: ['en', 'ru'],
    logger: options.logger,
    // No router here: the order id comes from the path by hand.
    resolveParams: (ctx) => ({ id: /^\/orders\/(\d+)/.exec(ctx.path)?.[1], query: ctx.query, body: ctx.request.body }),
  })
  // First, so that the body parser's 400 (malformed JSON) and 413 (too large) are answered like the routes' errors.
  app.use(actions.errorHandler as unknown as Koa.Middleware)
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT }))
  app.use(async (ctx, next) => {
    ctx.state.user = userFrom(ctx.headers['x-user'])
    await next()
  })
  app.use(actions as unknown as Koa.Middleware)
  app.use(async (ctx) => {
    const manager = ctx.state.manager as EntityManager
    const body = (ctx.request as { body?: unknown }).body as OrderInput & { customer?: string }
    const submit = /^\/orders\/(\d+)\/submit$/.exec(ctx.path)
    const item = /^\/orders\/(\d+)$/.exec(ctx.path)
    if (ctx.method === 'POST' && ctx.path === '/orders') {
      ctx.status = 201
      ctx.body = orderJson(await createOrder(manager, body))
    } else if (ctx.method === 'POST' && submit) ctx.body = orderJson(await submitOrder(manager, Number(submit[1])))
    else if (ctx.method === 'PATCH' && item) ctx.body = orderJson(await editOrder(manager, Number(item[1]), body))
    else if (ctx.method === 'GET' && item) {
      const order = await manager.findOne(Order, { where: { id: Number(item[1]) }, relations: { lines: true } })
      // Koa's ctx.throw makes an http-errors error: 404 with the same { errors } body as a SoftError.
      if (!order) ctx.throw(404, `no order ${item[1]}`)
      ctx.body = orderJson(order)
    }
  })
  return app
}

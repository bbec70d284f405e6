/**
 * Localized errors on a real database (issue 9): keyed SoftErrors and
 * class-validator failures translated, `ctx.locale` from `runAction`, and the
 * example shop over HTTP answering in the language of `Accept-Language`.
 * Rollback and audit behave exactly as without translation.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Length } from 'class-validator'
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { createExpressApp, createKoaApp, shopEvents } from '../../examples/http-api/app'
import { RecordingLogger } from '../support/recording-logger'
import { demoEntities } from '../../demo/entities'
import { shopTranslator } from '../../demo/messages'
import {
  ActionEvents,
  Audited,
  AuditEntry,
  EntityValidationError,
  EventActionTiming,
  EventActionType,
  HardError,
  runAction,
  setTranslator,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
  type Translator,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre } = EventActionTiming
const { Insert } = EventActionType

/** What handlers saw as ctx.locale, in order. */
const localesSeen: (string | undefined)[] = []

@Audited()
@Entity('loc_customer')
class LocCustomer {
  @PrimaryGeneratedColumn() id!: number
  @Column() @Length(3, 20) name!: string
  @Column({ default: 0 }) credit!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<this>) {
    if (timing !== Pre || type !== Insert) return
    localesSeen.push(ctx.locale)
    if (this.credit < 0) {
      throw SoftError.of('customer.creditNegative', { credit: this.credit }, {
        attribute: 'credit',
        defaultMessage: 'credit cannot be negative ({credit})',
      })
    }
  }
}

const texts: Record<string, Record<string, string>> = {
  ru: {
    'customer.creditNegative': 'кредит не может быть отрицательным ({credit})',
    'validation.isLength': '{attribute}: от {constraint1} до {constraint2} символов',
  },
}
const translator: Translator = (key, params, locale) =>
  texts[locale]?.[key]?.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]))

describe(`Localized errors (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([LocCustomer], { translate: translator })
  })
  afterAll(async () => {
    setTranslator(undefined)
    await ds.destroy()
  })
  beforeEach(() => {
    setTranslator(translator)
    localesSeen.length = 0
  })

  async function refusal(work: () => Promise<unknown>): Promise<SoftError> {
    const outcome = await work().then(
      () => undefined,
      (error: unknown) => error,
    )
    if (!(outcome instanceof SoftError)) throw new Error(`expected a SoftError, got ${String(outcome)}`)
    return outcome
  }

  it('a keyed SoftError from a handler reaches the caller translatable; nothing is written, nothing audited', async () => {
    const customers = ds.getRepository(LocCustomer)
    const error = await refusal(() => customers.save(customers.create({ name: 'Anna', credit: -5 })))
    expect(error).toMatchObject({
      name: 'SoftError',
      key: 'customer.creditNegative',
      params: { credit: -5 },
      attribute: 'credit',
      entityName: 'LocCustomer',
      type: Insert,
      timing: Pre,
      message: 'credit cannot be negative (-5)',
    })
    expect(error.localize('ru')).toBe('кредит не может быть отрицательным (-5)')
    expect(error.localize('fr')).toBe('credit cannot be negative (-5)')
    expect(await countRows(ds, 'loc_customer')).toBe(0)
    expect(await countRows(ds, 'audit_entry')).toBe(0)
  })

  it("class-validator failures carry validation.<constraint> keys with the decorator's arguments, and translate", async () => {
    const customers = ds.getRepository(LocCustomer)
    const error = await refusal(() => customers.save(customers.create({ name: 'Al' })))
    expect(error).toBeInstanceOf(EntityValidationError)
    const failure = (error as EntityValidationError).failures[0]!
    expect(failure.violations).toEqual([
      {
        constraint: 'isLength',
        key: 'validation.isLength',
        params: { attribute: 'name', value: 'Al', entityName: 'LocCustomer', constraint1: 3, constraint2: 20 },
        // class-validator's own English text stays the default.
        message: 'name must be longer than or equal to 3 characters',
      },
    ])
    expect(error.localizedEntries('ru')).toEqual([{ attribute: 'name', key: 'validation.isLength', message: 'name: от 3 до 20 символов' }])
    expect(error.localizedEntries('en')).toEqual([
      { attribute: 'name', key: 'validation.isLength', message: 'name must be longer than or equal to 3 characters' },
    ])
    expect(await countRows(ds, 'loc_customer')).toBe(0)
  })

  it('ctx.locale is the locale of runAction in every handler, undefined outside an action', async () => {
    const customers = ds.getRepository(LocCustomer)
    await runAction({ name: 'customers:create', user: { id: 1 }, locale: 'ru' }, () => customers.save(customers.create({ name: 'Boris' })))
    await customers.save(customers.create({ name: 'Clara' }))
    expect(localesSeen).toEqual(['ru', undefined])
    // Translation does not change what is recorded: the audit entry is the usual one.
    const entries = await ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })
    expect(entries.map((e) => [e.operation, e.userId])).toEqual([
      ['insert', '1'],
      ['insert', null],
    ])
  })

  it('action-event handlers see the locale too', async () => {
    const events = new ActionEvents()
    const seen: (string | undefined)[] = []
    events.bind('customers:create', Pre, (ctx) => {
      seen.push(ctx.locale)
    })
    events.bind('customers:create', EventActionTiming.Post, (ctx) => {
      seen.push(ctx.locale)
    })
    await runAction({ name: 'customers:create', locale: 'pt-BR' }, async () => 'done', { events })
    expect(seen).toEqual(['pt-BR', 'pt-BR'])
  })

  it.each([[''], ['ru_RU'], ['x'], [42], ['en-']])('runAction refuses the locale %p', (locale) => {
    expect(() => runAction({ name: 'customers:create', locale: locale as string }, () => 1)).toThrow(HardError)
    expect(() => runAction({ name: 'customers:create', locale: locale as string }, () => 1)).toThrow(/locale must be a language tag/)
  })
})

describe.each(['express', 'koa'] as const)(`The example shop in two languages on %s (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, (adapter) => {
  let ds: DataSource
  let server: http.Server
  let base: string
  const logger = new RecordingLogger()

  beforeAll(async () => {
    ds = await openDataSource(demoEntities)
    const events = shopEvents()
    const app = adapter === 'express' ? createExpressApp(ds, events, { logger }) : createKoaApp(ds, events, { logger }).callback()
    server = http.createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    setTranslator(undefined)
    await new Promise((resolve) => server.close(resolve))
    await ds.destroy()
  })
  beforeEach(() => {
    setTranslator(shopTranslator)
    logger.clear()
  })

  async function post(path: string, body: unknown, headers: Record<string, string>) {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'ann', ...headers },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as { errors: { attribute: string | null; key: string | null; message: string }[] } }
  }

  const badOrder = { customer: 'ann', lines: [{ product: 'tea', quantity: 0, price: 3 }] }

  it.each([
    ['ru', 'количество должно быть больше нуля, указано 0'],
    ['en', 'quantity must be positive, got 0'],
    ['ru-RU,ru;q=0.9,en;q=0.8', 'количество должно быть больше нуля, указано 0'],
    ['de;q=0.9, ru;q=0.5', 'количество должно быть больше нуля, указано 0'],
    ['fr', 'quantity must be positive, got 0'],
  ])('the same rule violated with Accept-Language %p answers %p, and writes nothing', async (language, message) => {
    const orders = await countRows(ds, 'demo_order')
    const audit = await countRows(ds, 'audit_entry')
    const res = await post('/orders', badOrder, { 'accept-language': language })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ errors: [{ attribute: 'quantity', key: 'orderLine.quantityNotPositive', message }] })
    expect(await countRows(ds, 'demo_order')).toBe(orders)
    expect(await countRows(ds, 'audit_entry')).toBe(audit)
  })

  it('without Accept-Language the answer is English', async () => {
    const res = await post('/orders', badOrder, {})
    expect(res.body.errors[0]!.message).toBe('quantity must be positive, got 0')
  })

  it('a Pre-action veto is translated too', async () => {
    const res = await fetch(`${base}/orders/1/submit`, { method: 'POST', headers: { 'accept-language': 'ru' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ errors: [{ attribute: 'user', key: 'action.signInRequired', message: 'войдите, чтобы оформить заказ' }] })
  })

  it('a key without a Russian text falls back to English', async () => {
    setTranslator((key, params, locale) => (key === 'order.customerRequired' ? undefined : shopTranslator(key, params, locale)))
    const res = await post('/orders', { customer: '', lines: [] }, { 'accept-language': 'ru' })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ errors: [{ attribute: 'customer', key: 'order.customerRequired', message: 'customer is required' }] })
  })

  it('a 500 says so in the client\'s language, with no internals', async () => {
    const res = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'ann', 'accept-language': 'ru' },
      body: JSON.stringify({ customer: 'ann', lines: 'not a list' }),
    })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ errors: [{ attribute: null, key: 'error.internal', message: 'Внутренняя ошибка сервера' }] })
    // The server side keeps the real error.
    expect(logger.of('error')).toEqual([[expect.stringMatching(/\(orders:create\) failed\nTypeError: /)]])
  })

  it("a client error's status keeps its key, translated with the status and the error's message as {status} and {detail}", async () => {
    setTranslator((key, params, locale) =>
      key === 'error.notFound' && locale === 'ru' ? `ошибка ${String(params.status)}: ${String(params.detail)}` : shopTranslator(key, params, locale),
    )
    const russian = await fetch(`${base}/orders/999999`, { headers: { 'x-user': 'ann', 'accept-language': 'ru' } })
    const english = await fetch(`${base}/orders/999999`, { headers: { 'x-user': 'ann' } })

    expect(russian.status).toBe(404)
    expect(await russian.json()).toEqual({ errors: [{ attribute: null, key: 'error.notFound', message: 'ошибка 404: no order 999999' }] })
    expect(english.status).toBe(404)
    expect(await english.json()).toEqual({ errors: [{ attribute: null, key: 'error.notFound', message: 'no order 999999' }] })
  })
})

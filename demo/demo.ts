/**
 * `npm run demo`: event actions on embedded SQLite, printing what happened.
 */
import 'reflect-metadata'
import { auditTrail, EntityValidationError, EventActions, runAction, setTranslator, SoftError, type ActionUser } from '../src'
import { dataSource } from '../ormconfig'
import { Account, Order, OrderLine } from './entities'
import { eventLog } from './event-log'
import { shopTranslator } from './messages'

function section(title: string): void {
  console.log(`\n== ${title}`)
}

function flushEvents(): void {
  for (const line of eventLog) console.log(`   ${line}`)
  eventLog.length = 0
}

async function attempt(what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work()
    console.log(`   ok: ${what}`)
  } catch (error) {
    if (error instanceof EntityValidationError) {
      console.log(`   refused: ${what}: ${error.name}`)
      for (const f of error.failures) console.log(`     - ${f.attribute}: ${f.constraints.join('; ')}`)
    } else if (error instanceof SoftError) {
      console.log(`   refused: ${what}: ${error.name} on ${error.timing} ${error.type} of ${error.entityName}: ${error.message}`)
    } else throw error
  }
}

const clerk: ActionUser = { id: 17, name: 'Clara (clerk)' }
const warehouse: ActionUser = { id: 'wh-2', name: 'Will (warehouse)' }

async function main(): Promise<void> {
  await dataSource.initialize()
  const accounts = dataSource.getRepository(Account)
  const orders = dataSource.getRepository(Order)

  section('Insert an account (postcode formatted in Pre Insert, email validated after it)')
  const ada = accounts.create({ name: ' Ada ', email: 'ada@example.com', postcode: 'sw1a1aa' })
  await attempt('save Ada', () => accounts.save(ada))
  flushEvents()
  console.log(`   stored: ${JSON.stringify(await accounts.findOneByOrFail({ id: ada.id }))}`)
  eventLog.length = 0 // the find above fired Load events; they are shown further down

  section('Rejected saves: nothing is written')
  await attempt('save a second "Ada"', () => accounts.save(accounts.create({ name: 'Ada', email: 'other@example.com' })))
  await attempt('save an account with a bad email', () => accounts.save(accounts.create({ name: 'Bob', email: 'not-an-email' })))
  flushEvents()
  console.log(`   accounts in the table: ${await accounts.count()}`)
  eventLog.length = 0

  section('One refusal, two languages (SoftError.of keys, translated where they are shown)')
  setTranslator(shopTranslator)
  for (const account of [accounts.create({ name: 'Ada', email: 'third@example.com' }), accounts.create({ name: 'Bob', email: 'nope' })]) {
    const error = await accounts.save(account).then(
      () => undefined,
      (e: unknown) => e,
    )
    if (!(error instanceof SoftError)) throw new Error('the demo expected a refusal')
    console.log(`   ${error.name} (key ${error.key})`)
    console.log(`     en: ${error.localize('en')}`)
    console.log(`     ru: ${error.localize('ru')}`)
  }
  eventLog.length = 0

  section('Update: only the changed attributes are in the group')
  ada.postcode = 'ec1a 1bb'
  await attempt('change the postcode', () => accounts.save(ada))
  flushEvents()

  section('An order with two lines, saved with cascade: lines keep the total (handlers run one at a time)')
  const order = orders.create({ customer: 'Ada' })
  order.lines = [
    Object.assign(new OrderLine(), { product: 'tea', quantity: 2, price: 350, order }),
    Object.assign(new OrderLine(), { product: 'scones', quantity: 6, price: 120, order }),
  ]
  await attempt('save the order', () => runAction({ name: 'orders:create', user: clerk, requestId: 'req-1001' }, () => orders.save(order)))
  flushEvents()
  console.log(`   order total in the database: ${(await orders.findOneByOrFail({ id: order.id })).total}`)
  eventLog.length = 0

  section('Shipping the order ships its lines; their handlers save the order again (recursion guard)')
  const loaded = await orders.findOneOrFail({ where: { id: order.id }, relations: { lines: true } })
  flushEvents()
  loaded.lines.forEach((line) => (line.order = loaded))
  loaded.status = 'shipped'
  await attempt('ship the order', () => runAction({ name: 'orders:ship', user: warehouse }, () => orders.save(loaded)))
  flushEvents()
  console.log(`   shippedLines in the database: ${(await orders.findOneByOrFail({ id: order.id })).shippedLines}`)
  console.log('   (the nested saves of Order#1 were written, but fired no second Order Update)')
  eventLog.length = 0

  section('A line with quantity 0 is refused, and the whole save rolls back')
  loaded.lines[0]!.quantity = 0
  loaded.customer = 'Ada Lovelace'
  await attempt('save the order with a bad line', () =>
    runAction({ name: 'orders:edit', user: clerk }, () => orders.save(loaded)),
  )
  flushEvents()
  const fresh = await orders.findOneByOrFail({ id: order.id })
  console.log(`   customer in the database is still: ${fresh.customer}`)
  eventLog.length = 0

  section('Remove a line: Post Delete re-totals the order')
  const lineRepo = dataSource.getRepository(OrderLine)
  const tea = await lineRepo.findOneOrFail({ where: { product: 'tea' }, relations: { order: true } })
  eventLog.length = 0
  await attempt('remove the tea line', () => runAction({ name: 'orders:edit', user: clerk }, () => lineRepo.remove(tea)))
  flushEvents()
  console.log(`   order total in the database: ${(await orders.findOneByOrFail({ id: order.id })).total}`)

  section(`Audit trail of Order#${order.id} (written in each save's own transaction; the refused edit left none)`)
  for (const entry of await auditTrail(dataSource, Order, order.id)) {
    const changes = Object.entries(entry.changes)
      .map(([attr, c]) => `${attr}: ${JSON.stringify(c.old)} -> ${JSON.stringify(c.new)}`)
      .join(', ')
    console.log(`   #${entry.id} ${entry.operation.padEnd(6)} by user ${String(entry.userId).padEnd(5)} in ${String(entry.actionName).padEnd(13)} ${changes}`)
  }

  section('Business-object operations: create, copy, reset, fromRecordSet')
  const actions = new EventActions(dataSource)
  eventLog.length = 0
  const draft = await actions.create(Order, { customer: 'Grace' })
  flushEvents()
  console.log(`   created (not saved): customer ${draft.customer}, orderDate ${draft.orderDate} (automatic)`)
  const shipped = await orders.findOneByOrFail({ id: order.id })
  eventLog.length = 0
  const copy = await actions.copy(shipped, await actions.create(Order))
  flushEvents()
  console.log(`   copy of the shipped order: customer ${copy.customer}, status ${copy.status} (never copied), total ${copy.total}`)
  copy.customer = 'Somebody else'
  await actions.reset(copy, ['customer'])
  flushEvents()
  console.log(`   after reset(copy, ['customer']): customer ${String(copy.customer)} (its state right after create)`)
  await dataSource.query(`UPDATE demo_account SET name = '  Ada   King ' WHERE id = ${ada.id}`)
  const report = await dataSource.query('SELECT id, name, email, postcode FROM demo_account')
  const fromReport = await actions.fromRecordSet(Account, report)
  flushEvents()
  console.log(`   from a raw report row ${JSON.stringify(report[0].name)}: Account name ${JSON.stringify(fromReport[0]!.name)}`)

  await dataSource.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

/**
 * Regressions for what the load test (scripts/load-test.ts) found, on the
 * database chosen by DB.
 *
 * `EventActions.update()` writes with listeners off, so the subscriber never
 * saw its UPDATE: the audit entry was written, but the running action's
 * Post-action handlers did not get the change in `ctx.changes` (in the load
 * test, every deposit made through `update()` reached its handler with one
 * change instead of two).
 */
import { Column, Entity, PrimaryGeneratedColumn, type DataSource, type EntityManager } from 'typeorm'
import {
  ActionEvents,
  Audited,
  EventActions,
  EventActionTiming,
  runAction,
  type ActionChange,
  type PostActionEventContext,
} from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Post } = EventActionTiming

@Entity('lf_item')
@Audited()
class LfItem {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 40 }) name!: string
  @Column({ type: 'int' }) qty!: number

  _eventAction() {}
}

describe(`Load test findings (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([LfItem])
  })
  afterAll(async () => {
    await ds?.destroy()
  })
  beforeEach(async () => {
    for (const table of ['lf_item', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
  })

  /** Binds a sync and an after-commit Post-action handler to `items:bump` and returns what each saw. */
  const observe = () => {
    const events = new ActionEvents({
      onPostActionError: (error) => {
        throw error
      },
    })
    const seen: { sync: ActionChange[][]; late: ActionChange[][] } = { sync: [], late: [] }
    events.bind('items:bump', Post, (ctx: PostActionEventContext) => void seen.sync.push([...ctx.changes]), { mode: 'sync' })
    events.bind('items:bump', Post, (ctx: PostActionEventContext) => void seen.late.push([...ctx.changes]))
    return { events, seen }
  }
  const seed = async () => ds.getRepository(LfItem).save(ds.getRepository(LfItem).create({ name: 'a', qty: 1 }))
  const bumped = (id: number): ActionChange => ({ entityName: 'LfItem', id, operation: 'update', group: ['qty'], changes: { qty: { old: 1, new: 5 } } })

  it('a change written by EventActions.update() inside an action reaches its Post-action handlers', async () => {
    const item = await seed()
    const { events, seen } = observe()
    await runAction(
      { name: 'items:bump', user: { id: 'u1' } },
      async (manager) => {
        item.qty = 5
        await new EventActions(manager!).update(item, ['qty'])
      },
      { events, dataSource: ds, transaction: true },
    )
    expect(seen.sync).toEqual([[bumped(item.id)]])
    expect(seen.late).toEqual([[bumped(item.id)]])
  })

  it('also without an action transaction: update() commits its own, then the handlers get the change', async () => {
    const item = await seed()
    const { events, seen } = observe()
    await runAction(
      { name: 'items:bump' },
      async () => {
        item.qty = 5
        await new EventActions(ds).update(item, ['qty'])
      },
      { events },
    )
    expect(seen.late).toEqual([[bumped(item.id)]])
  })

  it('an update() in a savepoint that rolled back is not reported; the row keeps its value', async () => {
    const item = await seed()
    const { events, seen } = observe()
    await runAction(
      { name: 'items:bump' },
      async (manager) => {
        await manager!
          .transaction(async (inner: EntityManager) => {
            item.qty = 5
            await new EventActions(inner).update(item, ['qty'])
            throw new Error('roll the savepoint back')
          })
          .catch((error: Error) => expect(error.message).toBe('roll the savepoint back'))
      },
      { events, dataSource: ds, transaction: true },
    )
    expect(seen.sync).toEqual([[]])
    expect(seen.late).toEqual([[]])
    expect((await ds.getRepository(LfItem).findOneByOrFail({ id: item.id })).qty).toBe(1)
  })
})

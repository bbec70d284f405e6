/**
 * What the library keeps on an entity instance (the state `reset` goes back
 * to, the flag of a running async handler) is invisible: no property,
 * symbol, JSON field or console output, and it survives no copy.
 */
import { inspect } from 'node:util'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { EventActionOptions, EventActions, EventActionTiming, EventActionType, type AttributeGroup } from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre } = EventActionTiming
const { Update } = EventActionType

class StateAddress {
  @Column({ type: 'varchar', length: 20, nullable: true }) street!: string | null
  @Column({ type: 'varchar', length: 10, nullable: true }) postcode!: string | null
}

// The snapshot is the state this test is about: kept in memory per loaded and saved instance.
@Entity('state_item')
@EventActionOptions({ resetState: 'snapshot' })
class StateItem {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 40 }) name!: string
  // Property names that are not identifiers: snapshots read them by name.
  @Column({ type: 'varchar', length: 40, name: 'kebab_name', nullable: true }) 'kebab-name'!: string | null
  @Column({ type: 'varchar', length: 40, name: 'quoted_name', nullable: true }) 'say "hi"'!: string | null
  @Column(() => StateAddress) address!: StateAddress
  pendingUpdates = 0

  /** Asynchronous on Pre Update, so the running-handler flag is set while it waits. */
  async _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null): Promise<void> {
    if (timing === Pre && type === Update) {
      this.pendingUpdates++
      await new Promise<void>((release) => gate.waiting({ item: this, release }))
    }
  }
}

/** Where a waiting Pre Update handler reports; the test releases it. */
const gate = { waiting: (_w: { item: StateItem; release: () => void }): void => undefined }

const COLUMN_KEYS = ['id', 'name', 'kebab-name', 'say "hi"', 'address', 'pendingUpdates']

function expectNothingExtra(item: StateItem): void {
  expect(Reflect.ownKeys(item).sort()).toEqual([...COLUMN_KEYS].sort())
  expect(Object.getOwnPropertySymbols(item)).toEqual([])
  expect(Object.keys(JSON.parse(JSON.stringify(item))).sort()).toEqual([...COLUMN_KEYS].sort())
  expect(Object.keys({ ...item }).sort()).toEqual([...COLUMN_KEYS].sort())
  expect(inspect(item, { showHidden: true, depth: 0 })).not.toMatch(/Symbol|typeorm-event-actions|#/)
}

describe(`instance state is invisible (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let actions: EventActions

  beforeAll(async () => {
    ds = await openDataSource([StateItem])
    actions = new EventActions(ds)
  })
  afterAll(() => ds?.destroy())

  async function seed(): Promise<number> {
    const item = ds.manager.create(StateItem, {
      name: 'ann',
      'kebab-name': 'k',
      'say "hi"': 'q',
      address: { street: 'High St', postcode: 'AB1 2CD' },
    })
    return (await ds.manager.save(item)).id
  }

  it('a loaded entity has its columns and nothing else, and reset still restores every attribute', async () => {
    const id = await seed()
    const item = await ds.manager.findOneByOrFail(StateItem, { id })
    expectNothingExtra(item)

    item.name = 'changed'
    item['kebab-name'] = 'changed'
    item['say "hi"'] = 'changed'
    item.address.postcode = 'ZZ9 9ZZ'
    await actions.reset(item)
    expect(item).toMatchObject({ name: 'ann', 'kebab-name': 'k', 'say "hi"': 'q', address: { street: 'High St', postcode: 'AB1 2CD' } })
    expectNothingExtra(item)
  })

  it('nothing shows while an async handler runs, nor after the save; a copy carries no state', async () => {
    const id = await seed()
    const item = await ds.manager.findOneByOrFail(StateItem, { id })
    item.name = 'bob'
    const waiting = new Promise<{ item: StateItem; release: () => void }>((resolve) => (gate.waiting = resolve))
    const saving = ds.manager.save(item)
    const handler = await waiting // the handler is waiting now
    try {
      expect(handler.item).toBe(item)
      expect(item.pendingUpdates).toBe(1)
      expectNothingExtra(item)
    } finally {
      handler.release()
      await saving
    }
    expectNothingExtra(item)

    // The row changes behind the instance's back. A copy is not the instance: it carries no snapshot, so
    // its reset() reads the row; the instance goes back to what it saved, from its own snapshot.
    await ds.createQueryBuilder().update(StateItem).set({ name: 'zed' }).where('id = :id', { id }).callListeners(false).execute()
    const copy = Object.assign(new StateItem(), item)
    copy.name = 'carl'
    await actions.reset(copy)
    expect(copy.name).toBe('zed')
    item.name = 'dora'
    await actions.reset(item)
    expect(item.name).toBe('bob')
  })
})

import { Column, DataSource, Entity, ManyToOne, PrimaryGeneratedColumn, type Logger } from 'typeorm'
import {
  EventActionTiming,
  EventActionType,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Update, Load } = EventActionType

/** What a handler saw, besides the recorded event itself. */
interface Seen {
  timing: EventActionTiming
  previousName: unknown
  previousNote: unknown
  previousRevision: unknown
  changes: Record<string, { old: unknown; new: unknown }>
  data: unknown
}

/** Update events as the Item handler saw them, in order. */
const seen: Seen[] = []

/** Per-test behaviour of the Item handler on Update; reset in beforeEach. */
let onUpdate: ((item: Item, timing: EventActionTiming, ctx: EventActionContext<Item>) => void) | undefined

@Entity('upd_owner')
class Owner {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
}

@Entity('upd_item')
class Item {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) note!: string | null
  @Column({ default: 0 }) qty!: number
  @Column({ default: 0 }) revision!: number
  @ManyToOne(() => Owner, { nullable: true }) owner!: Owner | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<Item>) {
    record(`Item#${this.id ?? 'new'}`, timing, type, group)
    if (type !== Update) return
    seen.push({
      timing,
      previousName: ctx.previous('name'),
      previousNote: ctx.previous('note'),
      previousRevision: ctx.previous('revision'),
      changes: ctx.changes(),
      data: ctx.data,
    })
    onUpdate?.(this, timing, ctx)
  }
}

/** Collects the SQL that TypeORM sends, to tell whether an UPDATE ran. */
class QueryLog implements Logger {
  readonly queries: string[] = []
  logQuery(query: string): void {
    this.queries.push(query)
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  updates(): string[] {
    return this.queries.filter((q) => /^\s*UPDATE\b/i.test(q))
  }
}

describe(`Update (${DB})`, () => {
  let ds: DataSource
  const queryLog = new QueryLog()

  beforeAll(async () => {
    ds = await openDataSource([Owner, Item], {}, { logger: queryLog, logging: true })
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('upd_item')}`)
    await ds.query(`DELETE FROM ${ds.driver.escape('upd_owner')}`)
    onUpdate = undefined
    seen.length = 0
    resetRecorded()
  })

  const items = () => ds.getRepository(Item)

  /** Saves a new Item, then forgets its Insert events. */
  async function seed(values: Partial<Item>): Promise<Item> {
    const item = await items().save(items().create({ name: 'a', note: 'n', qty: 1, ...values }))
    resetRecorded()
    seen.length = 0
    return item
  }

  /** A fresh copy from the database, its Load events forgotten. */
  async function fresh(id: number): Promise<Item> {
    const item = await items().findOneByOrFail({ id })
    resetRecorded()
    return item
  }

  /** The row as stored, read with SQL. */
  async function row(id: number): Promise<{ name: string; note: string | null; qty: number; revision: number; ownerId: number | null }> {
    const e = (s: string) => ds.driver.escape(s)
    const rows = await ds.query(
      `SELECT ${e('name')} AS ${e('name')}, ${e('note')} AS ${e('note')}, ${e('qty')} AS ${e('qty')}, ` +
        `${e('revision')} AS ${e('revision')}, ${e('ownerId')} AS ${e('ownerId')} FROM ${e('upd_item')} WHERE ${e('id')} = ${Number(id)}`,
    )
    expect(rows).toHaveLength(1)
    const r = rows[0]
    return {
      name: r.name,
      note: r.note,
      qty: Number(r.qty),
      revision: Number(r.revision),
      ownerId: r.ownerId === null ? null : Number(r.ownerId),
    }
  }

  it('save() of a changed instance fires Pre then Post Update, group = the attributes that differ from the database', async () => {
    const { id } = await seed({ name: 'a', note: 'n', qty: 1 })
    const item = await fresh(id)
    item.name = 'b'
    item.qty = 2
    item.note = 'n' // assigned, but equal to the stored value: not a change
    await items().save(item)
    expect(recorded).toEqual([
      [`Item#${id}`, Pre, Update, ['name', 'qty']],
      [`Item#${id}`, Post, Update, ['name', 'qty']],
    ])
    expect(await row(id)).toEqual({ name: 'b', note: 'n', qty: 2, revision: 0, ownerId: null })
  })

  it('the group is judged against the database state, not against the instance as first loaded', async () => {
    const item = await seed({ name: 'a', note: 'n', qty: 1 })
    item.name = 'b'
    await items().save(item)
    item.note = 'm'
    await items().save(item)
    expect(recorded).toEqual([
      [`Item#${item.id}`, Pre, Update, ['name']],
      [`Item#${item.id}`, Post, Update, ['name']],
      [`Item#${item.id}`, Pre, Update, ['note']],
      [`Item#${item.id}`, Post, Update, ['note']],
    ])
    // The second save's previous() is the value written by the first.
    expect(seen.map((s) => [s.timing, s.previousName, s.previousNote])).toEqual([
      [Pre, 'a', 'n'],
      [Post, 'a', 'n'],
      [Pre, 'b', 'n'],
      [Post, 'b', 'n'],
    ])
    expect(await row(item.id)).toMatchObject({ name: 'b', note: 'm' })
  })

  it('a changed ManyToOne relation is in the group under its property name', async () => {
    const [o1, o2] = await ds.getRepository(Owner).save([{ name: 'o1' }, { name: 'o2' }])
    const previousOwner: [EventActionTiming, unknown][] = []
    onUpdate = (_item, timing, ctx) => previousOwner.push([timing, ctx.previous('owner')])
    const item = await seed({ owner: o1 })
    expect((await row(item.id)).ownerId).toBe(o1!.id)

    item.owner = o2!
    await items().save(item)
    expect(recorded).toEqual([
      [`Item#${item.id}`, Pre, Update, ['owner']],
      [`Item#${item.id}`, Post, Update, ['owner']],
    ])
    expect((await row(item.id)).ownerId).toBe(o2!.id)
    // previous() gives the old relation as its id (an id map), in Pre and in Post
    expect(previousOwner).toEqual([
      [Pre, { id: o1!.id }],
      [Post, { id: o1!.id }],
    ])

    resetRecorded()
    item.owner = null
    item.qty = 5
    await items().save(item)
    expect(recorded).toEqual([
      [`Item#${item.id}`, Pre, Update, ['owner', 'qty']],
      [`Item#${item.id}`, Post, Update, ['owner', 'qty']],
    ])
    expect(await row(item.id)).toMatchObject({ ownerId: null, qty: 5 })
  })

  it('changes made by Pre Update are written, and the Post group includes them', async () => {
    onUpdate = (item, timing) => {
      if (timing === Pre) item.revision = item.revision + 1
    }
    const { id } = await seed({ name: 'a' })
    const item = await fresh(id)
    item.name = 'b'
    await items().save(item)
    expect(recorded).toEqual([
      [`Item#${id}`, Pre, Update, ['name']],
      [`Item#${id}`, Post, Update, ['name', 'revision']],
    ])
    expect(seen[1]!.changes).toEqual({ name: { old: 'a', new: 'b' }, revision: { old: 0, new: 1 } })
    expect(await row(id)).toMatchObject({ name: 'b', revision: 1 })
    // and from a fresh read through TypeORM
    expect(await items().findOneByOrFail({ id })).toMatchObject({ name: 'b', revision: 1 })
  })

  it('no change: no UPDATE statement and no events', async () => {
    const [o1] = await ds.getRepository(Owner).save([{ name: 'o1' }])
    const { id } = await seed({ name: 'a', note: null, owner: o1 })
    const item = await items().findOneOrFail({ where: { id }, relations: { owner: true } })
    resetRecorded()
    queryLog.queries.length = 0

    item.name = 'a'
    item.note = null
    await items().save(item)
    expect(recorded).toEqual([])
    expect(queryLog.updates()).toEqual([])

    // The control: the same instance with one real change does run an UPDATE, and the log sees it.
    item.qty = 9
    await items().save(item)
    expect(recorded).toEqual([
      [`Item#${id}`, Pre, Update, ['qty']],
      [`Item#${id}`, Post, Update, ['qty']],
    ])
    expect(queryLog.updates()).toHaveLength(1)
    expect((await row(id)).qty).toBe(9)
  })

  it('no Load events fire in the middle of a save', async () => {
    const { id } = await seed({ name: 'a' })
    await items().findOneByOrFail({ id }) // the control: a user's find does fire Load
    expect(recorded).toEqual([
      [`Item#${id}`, Pre, Load, ['id', 'name', 'note', 'qty', 'revision']],
      [`Item#${id}`, Post, Load, ['id', 'name', 'note', 'qty', 'revision']],
    ])
    const item = await fresh(id)
    item.name = 'b'
    await items().save(item)
    expect(recorded.map((r) => r[2])).toEqual([Update, Update])
  })

  it('ctx.previous gives the old value and ctx.changes gives { attr: { old, new } }, in Pre and in Post', async () => {
    const { id } = await seed({ name: 'a', note: 'n', qty: 1 })
    const item = await fresh(id)
    item.name = 'b'
    item.note = null
    await items().save(item)
    const expected = {
      previousName: 'a',
      previousNote: 'n',
      previousRevision: 0,
      changes: { name: { old: 'a', new: 'b' }, note: { old: 'n', new: null } },
    }
    expect(seen).toEqual([
      { timing: Pre, data: {}, ...expected },
      { timing: Post, data: {}, ...expected },
    ])
  })

  it('a SoftError in Pre Update stops the save: the row is unchanged', async () => {
    onUpdate = (item, timing) => {
      if (timing === Pre && item.name === 'veto') throw new SoftError('name may not be veto', { attribute: 'name' })
    }
    const { id } = await seed({ name: 'a', qty: 1 })
    const item = await fresh(id)
    item.name = 'veto'
    item.qty = 2
    await expect(items().save(item)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Item',
      type: Update,
      timing: Pre,
      attribute: 'name',
    })
    expect(recorded).toEqual([[`Item#${id}`, Pre, Update, ['name', 'qty']]])
    expect(await row(id)).toMatchObject({ name: 'a', qty: 1, revision: 0 })
  })

  it('a SoftError in Post Update rolls the UPDATE back: the row is unchanged', async () => {
    onUpdate = (item, timing) => {
      if (timing === Pre) item.revision = item.revision + 1
      if (timing === Post && item.name === 'veto') throw new SoftError('vetoed after the fact')
    }
    const { id } = await seed({ name: 'a', qty: 1 })
    const item = await fresh(id)
    item.name = 'veto'
    item.qty = 2
    await expect(items().save(item)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Item',
      type: Update,
      timing: Post,
    })
    expect(recorded).toEqual([
      [`Item#${id}`, Pre, Update, ['name', 'qty']],
      [`Item#${id}`, Post, Update, ['name', 'qty', 'revision']],
    ])
    expect(await row(id)).toEqual({ name: 'a', note: 'n', qty: 1, revision: 0, ownerId: null })
  })

  it('ctx.data carries the SaveOptions data to Pre and Post', async () => {
    const { id } = await seed({ name: 'a' })
    const item = await fresh(id)
    item.name = 'b'
    await items().save(item, { data: { user: 'alice' } })
    expect(seen.map((s) => [s.timing, s.data])).toEqual([
      [Pre, { user: 'alice' }],
      [Post, { user: 'alice' }],
    ])
    // A later save without data does not see the earlier save's data.
    seen.length = 0
    item.name = 'c'
    await items().save(item)
    expect(seen.map((s) => [s.timing, s.data])).toEqual([
      [Pre, {}],
      [Post, {}],
    ])
  })

  it('ctx.previous of an unknown attribute throws a HardError naming entity and attribute; nothing is written', async () => {
    onUpdate = (_item, timing, ctx) => {
      if (timing === Pre) (ctx.previous as (attr: string) => unknown)('nmae')
    }
    const { id } = await seed({ name: 'a' })
    const item = await fresh(id)
    item.name = 'b'
    const error = await items()
      .save(item)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(error).toMatchObject({ name: 'HardError', entityName: 'Item', attribute: 'nmae', type: Update, timing: Pre })
    expect((error as Error).message).toContain('Item')
    expect((error as Error).message).toContain("'nmae'")
    expect(recorded).toEqual([[`Item#${id}`, Pre, Update, ['name']]])
    expect((await row(id)).name).toBe('a')
  })
})

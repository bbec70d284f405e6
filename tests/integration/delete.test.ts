import { Column, DataSource, DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  EventActionTiming,
  EventActionType,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Delete, Update, Load } = EventActionType

/** What a handler saw on Delete/Update, besides the recorded event itself. */
interface Seen {
  timing: EventActionTiming
  type: EventActionType
  soft: boolean
  /** `this.id` on the instance when the handler ran. */
  instanceId: unknown
  previousId: unknown
  previousName: unknown
  previousDeletedAt: unknown
  changes: Record<string, { old: unknown; new: unknown }>
  data: unknown
}

const seen: Seen[] = []

/** Per-test behaviour of the Thing handler; reset in beforeEach. */
let onEvent: ((thing: Thing, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<Thing>) => void) | undefined

@Entity('del_thing')
class Thing {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<Thing>) {
    // TypeORM clears the key on the instance after a DELETE: the label shows it.
    record(`Thing#${this.id ?? 'none'}`, timing, type, group)
    if (type === Delete || type === Update) {
      seen.push({
        timing,
        type,
        soft: ctx.soft,
        instanceId: this.id,
        previousId: ctx.previous('id'),
        previousName: ctx.previous('name'),
        previousDeletedAt: ctx.previous('deletedAt'),
        changes: ctx.changes(),
        data: ctx.data,
      })
    }
    onEvent?.(this, timing, type, ctx)
  }
}

describe(`Delete (${DB})`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([Thing])
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('del_thing')}`)
    onEvent = undefined
    seen.length = 0
    resetRecorded()
  })

  const things = () => ds.getRepository(Thing)

  /** Saves two Things and returns the first; their Insert events are forgotten. */
  async function seed(): Promise<Thing> {
    const [first] = await things().save([things().create({ name: 'a' }), things().create({ name: 'other' })])
    resetRecorded()
    seen.length = 0
    return first!
  }

  /** A fresh copy from the database, its Load events forgotten. */
  async function fresh(id: number): Promise<Thing> {
    const thing = await things().findOneByOrFail({ id })
    resetRecorded()
    return thing
  }

  /** The stored rows (soft-deleted ones included), read with SQL: name -> whether the delete date is set. */
  async function rows(): Promise<Record<string, boolean>> {
    const e = (s: string) => ds.driver.escape(s)
    const result: { name: string; deletedAt: unknown }[] = await ds.query(
      `SELECT ${e('name')} AS ${e('name')}, ${e('deletedAt')} AS ${e('deletedAt')} FROM ${e('del_thing')}`,
    )
    return Object.fromEntries(result.map((r) => [r.name, r.deletedAt !== null]))
  }

  it('remove() fires Pre then Post Delete with group null, and deletes the row; no Load fires', async () => {
    const { id } = await seed()
    await things().findOneByOrFail({ id }) // the control: a user's find does fire Load
    expect(recorded).toEqual([
      [`Thing#${id}`, Pre, Load, ['deletedAt', 'id', 'name']],
      [`Thing#${id}`, Post, Load, ['deletedAt', 'id', 'name']],
    ])
    const thing = await fresh(id)
    await things().remove(thing)
    expect(recorded).toEqual([
      [`Thing#${id}`, Pre, Delete, null],
      ['Thing#none', Post, Delete, null],
    ])
    expect(seen.map((s) => [s.timing, s.soft, s.changes])).toEqual([
      [Pre, false, {}],
      [Post, false, {}],
    ])
    expect(await rows()).toEqual({ other: false })
  })

  it('in Post Delete ctx.previous("id") still gives the primary key that TypeORM cleared on the instance', async () => {
    const thing = await seed()
    const id = thing.id
    await things().remove(thing)
    expect(thing.id).toBeUndefined()
    expect(seen.map((s) => [s.timing, s.instanceId, s.previousId, s.previousName])).toEqual([
      [Pre, id, id, 'a'],
      [Post, undefined, id, 'a'],
    ])
  })

  it('ctx.data carries the RemoveOptions data to Pre and Post Delete', async () => {
    const thing = await seed()
    await things().remove(thing, { data: { user: 'alice' } })
    expect(seen.map((s) => [s.timing, s.data])).toEqual([
      [Pre, { user: 'alice' }],
      [Post, { user: 'alice' }],
    ])
  })

  it('a SoftError in Pre Delete stops the remove: the row is still there', async () => {
    onEvent = (_thing, timing, type) => {
      if (timing === Pre && type === Delete) throw new SoftError('may not delete')
    }
    const { id } = await seed()
    const thing = await fresh(id)
    await expect(things().remove(thing)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Thing',
      type: Delete,
      timing: Pre,
    })
    expect(recorded).toEqual([[`Thing#${id}`, Pre, Delete, null]])
    expect(await rows()).toEqual({ a: false, other: false })
  })

  it('an error in Post Delete rolls the DELETE back: the row is still there', async () => {
    onEvent = (_thing, timing, type) => {
      if (timing === Post && type === Delete) throw new SoftError('deleted, then regretted')
    }
    const { id } = await seed()
    const thing = await fresh(id)
    await expect(things().remove(thing)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Thing',
      type: Delete,
      timing: Post,
    })
    expect(recorded).toEqual([
      [`Thing#${id}`, Pre, Delete, null],
      ['Thing#none', Post, Delete, null],
    ])
    expect(await countRows(ds, 'del_thing')).toBe(2)
    expect(await things().findOneBy({ id })).toMatchObject({ id, name: 'a', deletedAt: null })
  })

  it('softRemove() fires Pre then Post Delete with ctx.soft === true; the row stays, with its delete date set; no Load fires', async () => {
    const { id } = await seed()
    const thing = await fresh(id)
    await things().softRemove(thing)
    expect(recorded).toEqual([
      [`Thing#${id}`, Pre, Delete, null],
      [`Thing#${id}`, Post, Delete, null],
    ])
    expect(seen.map((s) => [s.timing, s.soft, s.previousId, s.previousDeletedAt])).toEqual([
      [Pre, true, id, null],
      [Post, true, id, null],
    ])
    expect(await rows()).toEqual({ a: true, other: false })
    expect(await things().findOneBy({ id })).toBeNull()
    expect(await things().findOne({ where: { id }, withDeleted: true })).toMatchObject({
      id,
      name: 'a',
      deletedAt: expect.any(Date),
    })
  })

  it('an error in Post Delete of a softRemove() rolls it back: the delete date stays empty', async () => {
    onEvent = (_thing, timing, type, ctx) => {
      if (timing === Post && type === Delete && ctx.soft) throw new SoftError('no soft removal either')
    }
    const { id } = await seed()
    const thing = await fresh(id)
    await expect(things().softRemove(thing)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Thing',
      type: Delete,
      timing: Post,
    })
    expect(recorded.map((r) => [r[1], r[2]])).toEqual([
      [Pre, Delete],
      [Post, Delete],
    ])
    expect(await rows()).toEqual({ a: false, other: false })
  })

  it('recover() fires Pre then Post Update with the delete-date attribute in the group; no Load fires', async () => {
    const { id } = await seed()
    const thing = await fresh(id)
    await things().softRemove(thing)
    expect(await rows()).toEqual({ a: true, other: false })
    resetRecorded()
    seen.length = 0

    await things().recover(thing)
    expect(recorded).toEqual([
      [`Thing#${id}`, Pre, Update, ['deletedAt']],
      [`Thing#${id}`, Post, Update, ['deletedAt']],
    ])
    expect(seen.map((s) => [s.timing, s.soft, s.previousId])).toEqual([
      [Pre, false, id],
      [Post, false, id],
    ])
    // previous() is the database copy: the row was soft-deleted
    expect(seen[0]!.previousDeletedAt).toBeInstanceOf(Date)
    expect(await rows()).toEqual({ a: false, other: false })
    expect(await things().findOneBy({ id })).toMatchObject({ id, name: 'a', deletedAt: null })
  })

  it('an error in Post Update of a recover() rolls it back: the row stays soft-deleted', async () => {
    onEvent = (_thing, timing, type) => {
      if (timing === Post && type === Update) throw new SoftError('stays deleted')
    }
    const { id } = await seed()
    const thing = await fresh(id)
    await things().softRemove(thing)
    resetRecorded()
    await expect(things().recover(thing)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Thing',
      type: Update,
      timing: Post,
    })
    expect(recorded).toEqual([
      [`Thing#${id}`, Pre, Update, ['deletedAt']],
      [`Thing#${id}`, Post, Update, ['deletedAt']],
    ])
    expect(await rows()).toEqual({ a: true, other: false })
  })
})

import { Column, DataSource, DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  BulkWriteError,
  EventActionOptions,
  EventActionSubscriber,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AttributeGroup,
} from '../../src'
import { countRows, DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert } = EventActionType

@Entity('bulk_item')
class BulkItem {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) qty!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`BulkItem#${this.id ?? 'new'}`, timing, type, group)
  }
}

@Entity('bulk_soft')
class BulkSoft {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`BulkSoft#${this.id ?? 'new'}`, timing, type, group)
  }
}

@Entity('bulk_allowed')
@EventActionOptions({ bulkWrites: 'allow' })
class BulkAllowed {
  @PrimaryGeneratedColumn() id!: number
  @Column({ unique: true }) name!: string
  @Column({ default: 0 }) qty!: number
  @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`BulkAllowed#${this.id ?? 'new'}`, timing, type, group)
  }
}

/** No _eventAction: the library must never get in its way. */
@Entity('bulk_plain')
class BulkPlain {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) qty!: number
  @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null
}

@Entity('bulk_post_fail')
class BulkPostFail {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`BulkPostFail#${this.id ?? 'new'}`, timing, type, group)
    if (timing === Pre && this.name === 'veto') throw new SoftError('no veto', { attribute: 'name' })
    if (timing === Post && type === Insert && this.name === 'boom') throw new HardError('Post Insert failed')
  }
}

const entities = [BulkItem, BulkSoft, BulkAllowed, BulkPlain, BulkPostFail]

/** The rows as SQL sees them: `[name, qty]` or `[name, deleted?]`, ordered by id. */
async function rows(ds: DataSource, table: string, second: 'qty' | 'deletedAt' = 'qty'): Promise<[string, unknown][]> {
  const e = (n: string) => ds.driver.escape(n)
  const result: Record<string, unknown>[] = await ds.query(
    `SELECT ${e('name')} AS n, ${e(second)} AS s FROM ${e(table)} ORDER BY ${e('id')}`,
  )
  return result.map((r) => [String(r.n), second === 'qty' ? Number(r.s) : r.s !== null])
}

async function bulkError(promise: Promise<unknown>): Promise<BulkWriteError> {
  let error: unknown
  try {
    await promise
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(BulkWriteError)
  const bulk = error as BulkWriteError
  expect(bulk).toBeInstanceOf(HardError)
  expect(bulk.name).toBe('BulkWriteError')
  expect(bulk.message).toContain('{ listeners: false }')
  expect(bulk.message).toContain('.callListeners(false)')
  return bulk
}

/** A bulk write by criteria: the message says to load and save()/remove() the instances. */
async function expectBulkRefused(promise: Promise<unknown>, entityName: string): Promise<BulkWriteError> {
  const error = await bulkError(promise)
  expect(error.entityName).toBe(entityName)
  expect(error.message).toContain(`${entityName} has event actions`)
  expect(error.message).toContain('save()/remove() the instances')
  return error
}

/** A plain object where an instance was needed: the message says how to build one. */
async function expectPlainRefused(promise: Promise<unknown>, entityName: string): Promise<BulkWriteError> {
  const error = await bulkError(promise)
  expect(error.entityName).toBe(entityName)
  expect(error.message).toContain(`repository.create(...) or new ${entityName}()`)
  return error
}

describe(`Bulk writes (${DB})`, () => {
  describe("with the event-action subscriber and bulkWrites: 'forbid'", () => {
    let ds: DataSource
    beforeAll(async () => {
      // beforeEach empties the tables with clear(); 'forbid' keeps the refusal that 'events' (the default) replaces.
      ds = await openDataSource(entities, { allowClear: true, bulkWrites: 'forbid' })
    })
    afterAll(() => ds.destroy())

    let items: BulkItem[]
    beforeEach(async () => {
      for (const e of entities) await ds.getRepository(e).clear()
      const repo = ds.getRepository(BulkItem)
      items = await repo.save([repo.create({ name: 'a', qty: 1 }), repo.create({ name: 'b', qty: 2 })])
      const soft = ds.getRepository(BulkSoft)
      await soft.save([soft.create({ name: 'a' }), soft.create({ name: 'b' })])
      resetRecorded()
    })

    const unchanged = async () => {
      expect(await rows(ds, 'bulk_item')).toEqual([
        ['a', 1],
        ['b', 2],
      ])
      expect(await rows(ds, 'bulk_soft', 'deletedAt')).toEqual([
        ['a', false],
        ['b', false],
      ])
      expect(recorded).toEqual([])
    }

    describe('are refused with BulkWriteError, and nothing is written', () => {
      it('repository.update(criteria, values)', async () => {
        const repo = ds.getRepository(BulkItem)
        const error = await expectBulkRefused(repo.update({ name: 'a' }, { qty: 10 }), 'BulkItem')
        expect(error.operation).toMatch(/update\(criteria, values\)/)
        expect(error.message).toContain('update(criteria, values)')
        await expectBulkRefused(repo.update(items[0]!.id, { name: 'z' }), 'BulkItem')
        await expectBulkRefused(repo.update([items[0]!.id, items[1]!.id], { qty: 0 }), 'BulkItem')
        await expectBulkRefused(repo.updateAll({ qty: 7 }), 'BulkItem')
        await expectBulkRefused(ds.manager.update(BulkItem, { id: items[1]!.id }, { qty: 10 }), 'BulkItem')
        await unchanged()
      })

      it('repository.delete(criteria)', async () => {
        const repo = ds.getRepository(BulkItem)
        const error = await expectBulkRefused(repo.delete({ name: 'a' }), 'BulkItem')
        expect(error.operation).toMatch(/delete\(criteria\)/)
        expect(error.message).toContain('delete(criteria)')
        await expectBulkRefused(repo.delete(items[0]!.id), 'BulkItem')
        await expectBulkRefused(repo.delete([items[0]!.id, items[1]!.id]), 'BulkItem')
        await expectBulkRefused(repo.deleteAll(), 'BulkItem')
        await expectBulkRefused(ds.manager.delete(BulkItem, { name: 'b' }), 'BulkItem')
        await unchanged()
      })

      it('increment()/decrement() (UPDATE by criteria)', async () => {
        const repo = ds.getRepository(BulkItem)
        await expectBulkRefused(repo.increment({ name: 'a' }, 'qty', 5), 'BulkItem')
        await expectBulkRefused(repo.decrement({ name: 'b' }, 'qty', 1), 'BulkItem')
        await unchanged()
      })

      it('softDelete()/restore() by criteria', async () => {
        const repo = ds.getRepository(BulkSoft)
        const error = await expectBulkRefused(repo.softDelete({ name: 'a' }), 'BulkSoft')
        expect(error.message).toContain('softDelete()')
        await expectBulkRefused(repo.softDelete([1, 2]), 'BulkSoft')
        await expectBulkRefused(ds.manager.softDelete(BulkSoft, { name: 'b' }), 'BulkSoft')
        await expectBulkRefused(repo.restore({ name: 'a' }), 'BulkSoft')
        await unchanged()
      })

      it('insert() of plain objects (alone, in a list, or next to an instance), and upsert()', async () => {
        const repo = ds.getRepository(BulkItem)
        const error = await expectPlainRefused(repo.insert({ name: 'c', qty: 3 }), 'BulkItem')
        expect(error.operation).toBe('insert() of a plain object')
        expect(error.message).toContain('insert() of a plain object')
        await expectPlainRefused(repo.insert([{ name: 'c' }, { name: 'd' }]), 'BulkItem')
        // The instance in front of the plain object is not written either.
        await expectPlainRefused(repo.insert([repo.create({ name: 'c' }), { name: 'd' }]), 'BulkItem')
        await expectPlainRefused(ds.manager.insert(BulkItem, { name: 'e' }), 'BulkItem')
        // An upsert is refused as such, for plain objects and instances alike: it may update a row,
        // which an Insert event would misreport.
        const upsertPlain = await bulkError(repo.upsert({ id: items[0]!.id, name: 'z', qty: 9 }, ['id']))
        expect(upsertPlain.operation).toContain('upsert()')
        const upsertInstance = await bulkError(repo.upsert(repo.create({ id: items[0]!.id, name: 'z', qty: 9 }), ['id']))
        expect(upsertInstance.operation).toContain('upsert()')
        await unchanged()
      })

      it('QueryBuilder update/delete/insert(values)/softDelete/restore', async () => {
        const id = items[0]!.id
        await expectBulkRefused(
          ds.createQueryBuilder().update(BulkItem).set({ qty: 10 }).where('id = :id', { id }).execute(),
          'BulkItem',
        )
        await expectBulkRefused(
          ds.getRepository(BulkItem).createQueryBuilder('i').update().set({ name: 'z' }).execute(),
          'BulkItem',
        )
        await expectBulkRefused(ds.createQueryBuilder().update('BulkItem').set({ qty: 10 }).execute(), 'BulkItem')
        await expectBulkRefused(ds.createQueryBuilder().update('bulk_item').set({ qty: 10 }).execute(), 'BulkItem')
        await expectBulkRefused(ds.createQueryBuilder().delete().from('bulk_item').execute(), 'BulkItem')
        await expectBulkRefused(
          ds.createQueryBuilder().delete().from(BulkItem).where('id = :id', { id }).execute(),
          'BulkItem',
        )
        await expectBulkRefused(ds.getRepository(BulkItem).createQueryBuilder().delete().execute(), 'BulkItem')
        await expectPlainRefused(ds.createQueryBuilder().insert().into(BulkItem).values({ name: 'c' }).execute(), 'BulkItem')
        await expectPlainRefused(
          ds.createQueryBuilder().insert().into(BulkItem).values([{ name: 'c' }, { name: 'd' }]).execute(),
          'BulkItem',
        )
        await expectBulkRefused(
          ds.getRepository(BulkSoft).createQueryBuilder().softDelete().where('id = :id', { id }).execute(),
          'BulkSoft',
        )
        await expectBulkRefused(ds.createQueryBuilder().softDelete().from(BulkSoft).execute(), 'BulkSoft')
        await expectBulkRefused(ds.createQueryBuilder().restore().from(BulkSoft).execute(), 'BulkSoft')
        await unchanged()
      })

      it('save() of a plain object, new or existing, and remove() of a plain object', async () => {
        const repo = ds.getRepository(BulkItem)
        const insert = await expectPlainRefused(repo.save({ name: 'c', qty: 3 }), 'BulkItem')
        expect(insert.message).toContain('save()')
        await expectPlainRefused(ds.manager.save(BulkItem, { name: 'c' }), 'BulkItem')
        await expectPlainRefused(repo.save({ id: items[0]!.id, name: 'changed' }), 'BulkItem')
        await expectPlainRefused(repo.remove({ id: items[1]!.id, name: 'b', qty: 2 } as BulkItem), 'BulkItem')
        await unchanged()
        // Next to an instance: the instance's Pre handler may already have run, but the save is rolled back.
        await expectPlainRefused(repo.save([repo.create({ name: 'c' }), { name: 'd' } as BulkItem]), 'BulkItem')
        expect(recorded.filter((r) => r[1] === Post)).toEqual([])
        resetRecorded()
        await unchanged()
      })

      it('inside a transaction: the error reaches the caller and the whole transaction rolls back', async () => {
        const error = await bulkError(
          ds.transaction(async (m) => {
            await m.save(m.create(BulkItem, { name: 'c' }))
            await m.update(BulkItem, { name: 'a' }, { qty: 10 })
          }),
        )
        expect(error.entityName).toBe('BulkItem')
        expect(await rows(ds, 'bulk_item')).toEqual([
          ['a', 1],
          ['b', 2],
        ])
      })
    })

    describe('the explicit opt-outs go through, without events', () => {
      it('QueryBuilder .callListeners(false): update, delete, insert of plain values, softDelete, restore', async () => {
        const [a, b] = items
        await ds.createQueryBuilder().update(BulkItem).set({ qty: 10 }).where('id = :id', { id: a!.id }).callListeners(false).execute()
        await ds.getRepository(BulkItem).createQueryBuilder().delete().where('id = :id', { id: b!.id }).callListeners(false).execute()
        await ds.createQueryBuilder().insert().into(BulkItem).values([{ name: 'c', qty: 3 }, { name: 'd' }]).callListeners(false).execute()
        expect(await rows(ds, 'bulk_item')).toEqual([
          ['a', 10],
          ['c', 3],
          ['d', 0],
        ])
        await ds.createQueryBuilder().softDelete().from(BulkSoft).where('name = :n', { n: 'a' }).callListeners(false).execute()
        expect(await rows(ds, 'bulk_soft', 'deletedAt')).toEqual([
          ['a', true],
          ['b', false],
        ])
        await ds.getRepository(BulkSoft).createQueryBuilder().restore().callListeners(false).execute()
        expect(await rows(ds, 'bulk_soft', 'deletedAt')).toEqual([
          ['a', false],
          ['b', false],
        ])
        expect(recorded).toEqual([])
      })

      it('save()/remove() of plain objects with { listeners: false }', async () => {
        const repo = ds.getRepository(BulkItem)
        await repo.save({ name: 'c', qty: 3 }, { listeners: false })
        await ds.manager.save(BulkItem, { id: items[0]!.id, name: 'a2' }, { listeners: false })
        await repo.remove({ id: items[1]!.id, name: 'b', qty: 2 } as BulkItem, { listeners: false })
        expect(await rows(ds, 'bulk_item')).toEqual([
          ['a2', 1],
          ['c', 3],
        ])
        expect(recorded).toEqual([])
      })
    })

    it("an entity with @EventActionOptions({ bulkWrites: 'allow' }) is not blocked, and no events fire for bulk writes", async () => {
      const repo = ds.getRepository(BulkAllowed)
      await repo.insert([{ name: 'a', qty: 1 }, { name: 'b', qty: 2 }, { name: 'c', qty: 3 }])
      await repo.update({ name: 'a' }, { qty: 10 })
      await repo.increment({ name: 'b' }, 'qty', 5)
      await repo.delete({ name: 'c' })
      await repo.upsert({ name: 'a', qty: 11 }, ['name'])
      await ds.createQueryBuilder().insert().into(BulkAllowed).values({ name: 'd', qty: 4 }).execute()
      await ds.createQueryBuilder().update(BulkAllowed).set({ qty: 40 }).where('name = :n', { n: 'd' }).execute()
      await repo.softDelete({ name: 'b' })
      expect(await rows(ds, 'bulk_allowed')).toEqual([
        ['a', 11],
        ['b', 7],
        ['d', 40],
      ])
      expect(await rows(ds, 'bulk_allowed', 'deletedAt')).toEqual([
        ['a', false],
        ['b', true],
        ['d', false],
      ])
      await repo.restore({ name: 'b' })
      await ds.createQueryBuilder().delete().from(BulkAllowed).where('name = :n', { n: 'd' }).execute()
      // A plain object is saved too, without events (there is no instance to run them on).
      await repo.save({ name: 'e', qty: 5 })
      expect(await rows(ds, 'bulk_allowed')).toEqual([
        ['a', 11],
        ['b', 7],
        ['e', 5],
      ])
      expect(recorded).toEqual([])
      // Instances still fire their events.
      const f = repo.create({ name: 'f' })
      await repo.save(f)
      expect(recorded.map((r) => [r[0], r[1], r[2]])).toEqual([
        ['BulkAllowed#new', Pre, Insert],
        [`BulkAllowed#${f.id}`, Post, Insert],
      ])
    })

    it('an entity without _eventAction is never affected: every bulk write works', async () => {
      const repo = ds.getRepository(BulkPlain)
      await repo.insert([{ name: 'a', qty: 1 }, { name: 'b', qty: 2 }, { name: 'c', qty: 3 }])
      await repo.save({ name: 'd', qty: 4 })
      await repo.update({ name: 'a' }, { qty: 10 })
      await repo.increment({ name: 'b' }, 'qty', 5)
      await repo.delete({ name: 'c' })
      await ds.manager.update(BulkPlain, { name: 'd' }, { qty: 40 })
      await ds.createQueryBuilder().insert().into(BulkPlain).values({ name: 'e', qty: 5 }).execute()
      await ds.createQueryBuilder().update(BulkPlain).set({ qty: 50 }).where('name = :n', { n: 'e' }).execute()
      await repo.softDelete({ name: 'a' })
      await ds.createQueryBuilder().softDelete().from(BulkPlain).where('name = :n', { n: 'b' }).execute()
      expect(await rows(ds, 'bulk_plain', 'deletedAt')).toEqual([
        ['a', true],
        ['b', true],
        ['d', false],
        ['e', false],
      ])
      await repo.restore({ name: 'a' })
      await ds.createQueryBuilder().delete().from(BulkPlain).where('name = :n', { n: 'd' }).execute()
      expect(await rows(ds, 'bulk_plain')).toEqual([
        ['a', 10],
        ['b', 7],
        ['e', 50],
      ])
      expect(recorded).toEqual([])
    })

    describe('insert() of instances is atomic (TypeORM runs it outside a transaction)', () => {
      it('a Post Insert handler that throws leaves no row', async () => {
        const repo = ds.getRepository(BulkPostFail)
        await expect(repo.insert(repo.create({ name: 'boom' }))).rejects.toThrow('Post Insert failed')
        expect(recorded.map((r) => [r[1], r[2]])).toEqual([
          [Pre, Insert],
          [Post, Insert],
        ])
        expect(await countRows(ds, 'bulk_post_fail')).toBe(0)
      })

      it('the error reaches the caller with its class and event, as thrown', async () => {
        const repo = ds.getRepository(BulkPostFail)
        await expect(ds.manager.insert(BulkPostFail, repo.create({ name: 'boom' }))).rejects.toMatchObject({
          name: 'HardError',
          message: 'Post Insert failed',
          entityName: 'BulkPostFail',
          type: Insert,
          timing: Post,
        })
        expect(await countRows(ds, 'bulk_post_fail')).toBe(0)
      })

      it('several instances: one failing handler, none written', async () => {
        const repo = ds.getRepository(BulkPostFail)
        await expect(repo.insert([repo.create({ name: 'ok' }), repo.create({ name: 'boom' })])).rejects.toThrow(HardError)
        expect(await countRows(ds, 'bulk_post_fail')).toBe(0)
        await expect(repo.insert([repo.create({ name: 'ok' }), repo.create({ name: 'veto' })])).rejects.toThrow(SoftError)
        expect(await countRows(ds, 'bulk_post_fail')).toBe(0)
      })

      it('QueryBuilder insert of an instance: fires the events, and is atomic too', async () => {
        const repo = ds.getRepository(BulkPostFail)
        await ds.createQueryBuilder().insert().into(BulkPostFail).values(repo.create({ name: 'fine' })).execute()
        await expect(
          ds.createQueryBuilder().insert().into(BulkPostFail).values(repo.create({ name: 'boom' })).execute(),
        ).rejects.toThrow('Post Insert failed')
        const names: { n: string }[] = await ds.query(`SELECT ${ds.driver.escape('name')} AS n FROM ${ds.driver.escape('bulk_post_fail')}`)
        expect(names.map((r) => r.n)).toEqual(['fine'])
        expect(recorded.map((r) => [r[1], r[2]])).toEqual([
          [Pre, Insert],
          [Post, Insert],
          [Pre, Insert],
          [Post, Insert],
        ])
      })

      it('inside a caller transaction, the failure rolls back the caller\'s earlier writes too', async () => {
        await expect(
          ds.transaction(async (m) => {
            await m.save(m.create(BulkPostFail, { name: 'first' }))
            await m.insert(BulkPostFail, m.create(BulkPostFail, { name: 'boom' }))
          }),
        ).rejects.toThrow('Post Insert failed')
        expect(await countRows(ds, 'bulk_post_fail')).toBe(0)
      })

      it('a successful insert() of instances writes every row', async () => {
        const repo = ds.getRepository(BulkPostFail)
        const [x, y] = [repo.create({ name: 'x' }), repo.create({ name: 'y' })]
        await repo.insert([x, y])
        expect(await countRows(ds, 'bulk_post_fail')).toBe(2)
        expect(recorded.map((r) => [r[1], r[2]])).toEqual([
          [Pre, Insert],
          [Pre, Insert],
          [Post, Insert],
          [Post, Insert],
        ])
      })
    })
  })

  describe('a DataSource without the subscriber', () => {
    let ds: DataSource
    beforeAll(async () => {
      // The library's TypeORM patches are process-wide once any subscriber exists: make sure they are installed.
      new EventActionSubscriber()
      ds = await openDataSource(entities, null)
    })
    afterAll(() => ds.destroy())
    beforeEach(() => resetRecorded())

    it('is never affected: bulk writes on entities with _eventAction work, and no events fire', async () => {
      const repo = ds.getRepository(BulkItem)
      await repo.insert([{ name: 'a', qty: 1 }, { name: 'b', qty: 2 }, { name: 'c', qty: 3 }])
      await repo.save({ name: 'd', qty: 4 })
      await repo.update({ name: 'a' }, { qty: 10 })
      await repo.delete({ name: 'c' })
      await ds.createQueryBuilder().update(BulkItem).set({ qty: 40 }).where('name = :n', { n: 'd' }).execute()
      await ds.createQueryBuilder().insert().into(BulkItem).values({ name: 'e', qty: 5 }).execute()
      const soft = ds.getRepository(BulkSoft)
      await soft.insert([{ name: 'a' }, { name: 'b' }])
      await soft.softDelete({ name: 'a' })
      expect(await rows(ds, 'bulk_item')).toEqual([
        ['a', 10],
        ['b', 2],
        ['d', 40],
        ['e', 5],
      ])
      expect(await rows(ds, 'bulk_soft', 'deletedAt')).toEqual([
        ['a', true],
        ['b', false],
      ])
      const instance = repo.create({ name: 'f' })
      await repo.save(instance)
      await repo.find()
      await repo.remove(instance)
      expect(recorded).toEqual([])
    })

    it('insert() of an instance whose Post handler would throw just inserts (no events without the subscriber)', async () => {
      const repo = ds.getRepository(BulkPostFail)
      await repo.insert(repo.create({ name: 'boom' }))
      expect(await countRows(ds, 'bulk_post_fail')).toBe(1)
      expect(recorded).toEqual([])
    })
  })
})

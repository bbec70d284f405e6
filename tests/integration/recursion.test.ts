/**
 * Semantics 8 (recursion) of issue 2, on the database chosen by DB: the
 * same-instance guard, the user's own transient flags, maxDepth and
 * `recursion: 'allow'`.
 *
 * Each describe block opens its own DataSource (openDataSource drops and
 * recreates the schema), so the blocks run one after another.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  EventActionRecursionError,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

/** `<Entity>#<id> <timing> <type> d<depth>`, in the order the handlers ran. */
const recorded: string[] = []

type Hook = (entity: any, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>) => void | Promise<void>
/** Per-test behaviour of the handlers; reset before every test. */
const hooks: { item?: Hook; a?: Hook; b?: Hook } = {}

function resetTest(): void {
  recorded.length = 0
  delete hooks.item
  delete hooks.a
  delete hooks.b
}

@Entity('rec_item')
class Item {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) counter!: number
  @Column({ type: 'varchar', nullable: true }) note!: string | null
  /** The user's own transient flag: a plain property, no column. */
  _noRecursion_?: boolean

  // Not async: a hook that throws synchronously makes the handler throw synchronously.
  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Item>) {
    recorded.push(`Item#${this.id ?? 'new'} ${timing} ${type} d${ctx.depth}`)
    return hooks.item?.(this, timing, type, ctx)
  }
}

@Entity('rec_a')
class A {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<A>) {
    recorded.push(`A#${this.id ?? 'new'} ${timing} ${type} d${ctx.depth}`)
    return hooks.a?.(this, timing, type, ctx)
  }
}

@Entity('rec_b')
class B {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<B>) {
    recorded.push(`B#${this.id ?? 'new'} ${timing} ${type} d${ctx.depth}`)
    return hooks.b?.(this, timing, type, ctx)
  }
}

/** The row of an Item, read with SQL, every column as the database has it. */
async function itemRow(ds: DataSource, id: number): Promise<Record<string, unknown>> {
  const e = (name: string) => ds.driver.escape(name)
  const rows: Record<string, unknown>[] = await ds.query(`SELECT * FROM ${e('rec_item')} WHERE ${e('id')} = ${Number(id)}`)
  expect(rows).toHaveLength(1)
  const row = rows[0]!
  return { ...row, id: Number(row.id), counter: Number(row.counter) }
}

async function insertItem(ds: DataSource, name: string): Promise<Item> {
  const item = ds.getRepository(Item).create({ name })
  await ds.manager.save(item)
  recorded.length = 0
  return item
}

/** Handlers that save `this` again, changed, whenever they run for `type` at `timing`, as often as `limit` allows. */
function resaveSelf(type: EventActionType, timing: EventActionTiming, limit = Infinity): Hook {
  return async (item: Item, t, ty, ctx) => {
    if (t !== timing || ty !== type || item.counter >= limit) return
    item.counter += 1
    item.note = `nested ${item.counter}`
    await ctx.manager.save(item)
  }
}

describe(`Recursion guard (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  describe('same instance, default config', () => {
    let ds: DataSource
    beforeAll(async () => {
      ds = await openDataSource([Item])
    })
    afterAll(() => ds?.destroy())
    beforeEach(async () => {
      await ds.query(`DELETE FROM ${ds.driver.escape('rec_item')}`)
      resetTest()
    })

    it('a nested save of the instance inside its Post Update does not fire Update again, and is written', async () => {
      const item = await insertItem(ds, 'x')
      hooks.item = resaveSelf(Update, Post) // no limit: only the guard stops it
      item.name = 'y'
      await ds.manager.save(item)
      expect(recorded).toEqual([`Item#${item.id} Pre Update d1`, `Item#${item.id} Post Update d1`])
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'y', counter: 1, note: 'nested 1' })
    })

    it('a nested save of the instance inside its Pre Update does not fire Update again, and is written', async () => {
      const item = await insertItem(ds, 'x')
      hooks.item = resaveSelf(Update, Pre)
      item.name = 'y'
      await ds.manager.save(item)
      expect(recorded).toEqual([`Item#${item.id} Pre Update d1`, `Item#${item.id} Post Update d1`])
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'y', counter: 1, note: 'nested 1' })
    })

    it('the guard is per event type: a save inside Post Insert fires Update for the instance (nested), not Insert', async () => {
      hooks.item = resaveSelf(Insert, Post)
      const item = ds.getRepository(Item).create({ name: 'new' })
      await ds.manager.save(item)
      expect(recorded).toEqual([
        'Item#new Pre Insert d1',
        `Item#${item.id} Post Insert d1`,
        `Item#${item.id} Pre Update d2`,
        `Item#${item.id} Post Update d2`,
      ])
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'new', counter: 1, note: 'nested 1' })
    })

    it('the guard is per instance: X saves Y (fires), Y saves X back (X is running Update: not fired, but written)', async () => {
      const x = await insertItem(ds, 'X')
      const y = await insertItem(ds, 'Y')
      hooks.item = async (item: Item, timing, type, ctx) => {
        if (timing !== Post || type !== Update) return
        if (item === x) {
          y.note = 'from X'
          await ctx.manager.save(y)
        } else if (item === y) {
          x.note = 'from Y'
          await ctx.manager.save(x)
        }
      }
      x.name = 'X2'
      await ds.manager.save(x)
      expect(recorded).toEqual([
        `Item#${x.id} Pre Update d1`,
        `Item#${x.id} Post Update d1`,
        `Item#${y.id} Pre Update d2`,
        `Item#${y.id} Post Update d2`,
      ])
      expect(await itemRow(ds, x.id)).toMatchObject({ name: 'X2', note: 'from Y' })
      expect(await itemRow(ds, y.id)).toMatchObject({ name: 'Y', note: 'from X' })
    })

    it('the guard is cleared afterwards: the next save of the same instance fires again', async () => {
      const item = await insertItem(ds, 'x')
      hooks.item = resaveSelf(Update, Post)
      item.name = 'y'
      await ds.manager.save(item)
      recorded.length = 0
      item.name = 'z'
      await ds.manager.save(item)
      expect(recorded).toEqual([`Item#${item.id} Pre Update d1`, `Item#${item.id} Post Update d1`])
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'z', counter: 2, note: 'nested 2' })
    })

    it.each([
      ['throws', Pre],
      ['throws', Post],
      ['rejects', Pre],
      ['rejects', Post],
    ] as const)('the guard is cleared after a handler %s (%s Update)', async (how, when) => {
      const item = await insertItem(ds, 'x')
      let fail = true
      hooks.item = (_item, timing, type) => {
        if (type !== Update || timing !== when || !fail) return
        fail = false
        const error = new SoftError('not now')
        if (how === 'throws') throw error
        return Promise.reject(error)
      }
      item.name = 'y'
      await expect(ds.manager.save(item)).rejects.toMatchObject({
        name: 'SoftError',
        message: 'not now',
        entityName: 'Item',
        type: Update,
        timing: when,
      })
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'x' })
      recorded.length = 0
      await ds.manager.save(item)
      expect(recorded).toEqual([`Item#${item.id} Pre Update d1`, `Item#${item.id} Post Update d1`])
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'y' })
    })

    it("a user's own transient flag (_noRecursion_) works as a guard and is never persisted", async () => {
      // The user's pattern: a flag set around the nested save.
      hooks.item = async (item: Item, timing, type, ctx) => {
        if (timing !== Post || item._noRecursion_) return
        item._noRecursion_ = true
        try {
          item.counter += 1
          await ctx.manager.save(item)
        } finally {
          item._noRecursion_ = false
        }
      }
      const item = ds.getRepository(Item).create({ name: 'flagged' })
      await ds.manager.save(item)
      expect(recorded).toEqual([
        'Item#new Pre Insert d1',
        `Item#${item.id} Post Insert d1`,
        `Item#${item.id} Pre Update d2`,
        `Item#${item.id} Post Update d2`,
      ])
      // Saved while the flag is set, too.
      delete hooks.item
      item._noRecursion_ = true
      item.name = 'flag set'
      await ds.manager.save(item)

      const row = await itemRow(ds, item.id)
      expect(Object.keys(row).sort()).toEqual(['counter', 'id', 'name', 'note'])
      expect(row).toMatchObject({ id: item.id, name: 'flag set', counter: 1, note: null })
      expect(
        ds
          .getMetadata(Item)
          .columns.map((c) => c.databaseName)
          .sort(),
      ).toEqual(['counter', 'id', 'name', 'note'])
      const reloaded = await ds.getRepository(Item).findOneByOrFail({ id: item.id })
      expect(reloaded._noRecursion_).toBeUndefined()
      // Nothing of the library's own state shows on the instance either.
      expect(JSON.parse(JSON.stringify(item))).toEqual({
        id: item.id,
        name: 'flag set',
        counter: 1,
        note: null,
        _noRecursion_: true,
      })
    })
  })

  describe('maxDepth: 3', () => {
    let ds: DataSource
    /** How many more new entities the chain may save; Infinity for a runaway chain. */
    let hopsLeft = Infinity

    // A fresh schema per test, so that the ids in the chain start at 1 on every database.
    beforeEach(async () => {
      resetTest()
      hopsLeft = Infinity
      ds = await openDataSource([A, B], { maxDepth: 3 })
      hooks.a = async (_a: A, timing, type, ctx) => {
        if (timing === Post && type === Insert && hopsLeft-- > 0) await ctx.manager.save(ctx.manager.create(B, { name: 'b' }))
      }
      hooks.b = async (_b: B, timing, type, ctx) => {
        if (timing === Post && type === Insert && hopsLeft-- > 0) await ctx.manager.save(ctx.manager.create(A, { name: 'a' }))
      }
    })
    afterEach(() => ds?.destroy())

    it('a runaway chain across entities stops with EventActionRecursionError listing the chain; nothing is written', async () => {
      const error: unknown = await ds.manager.save(ds.getRepository(A).create({ name: 'a' })).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(EventActionRecursionError)
      expect(error).toBeInstanceOf(HardError)
      expect(error).toMatchObject({
        name: 'EventActionRecursionError',
        entityName: 'B',
        type: Insert,
        timing: Pre,
      })
      expect((error as Error).message).toMatch(/A#1 Post Insert -> B#1 Post Insert -> A#2 Post Insert -> B#new Pre Insert$/)
      expect((error as Error).message).toMatch(/\b3\b/) // names the limit
      expect((error as EventActionRecursionError).chain.map((l) => `${l.entityName}#${l.id} ${l.timing} ${l.type}`)).toEqual([
        'A#1 Post Insert',
        'B#1 Post Insert',
        'A#2 Post Insert',
        'B#new Pre Insert',
      ])
      expect(recorded).toEqual([
        'A#new Pre Insert d1',
        'A#1 Post Insert d1',
        'B#new Pre Insert d2',
        'B#1 Post Insert d2',
        'A#new Pre Insert d3',
        'A#2 Post Insert d3',
      ])
      expect(await countRows(ds, 'rec_a')).toBe(0)
      expect(await countRows(ds, 'rec_b')).toBe(0)
    })

    it('a chain exactly maxDepth deep is allowed and written', async () => {
      hopsLeft = 2
      await ds.manager.save(ds.getRepository(A).create({ name: 'a' }))
      expect(recorded).toEqual([
        'A#new Pre Insert d1',
        'A#1 Post Insert d1',
        'B#new Pre Insert d2',
        'B#1 Post Insert d2',
        'A#new Pre Insert d3',
        'A#2 Post Insert d3',
      ])
      expect(await countRows(ds, 'rec_a')).toBe(2)
      expect(await countRows(ds, 'rec_b')).toBe(1)
    })
  })

  describe("recursion: 'allow' (maxDepth: 4)", () => {
    let ds: DataSource
    beforeAll(async () => {
      ds = await openDataSource([Item], { recursion: 'allow', maxDepth: 4 })
    })
    afterAll(() => ds?.destroy())
    beforeEach(async () => {
      await ds.query(`DELETE FROM ${ds.driver.escape('rec_item')}`)
      resetTest()
    })

    it('a nested save of the same instance fires its Update again, nested one level deeper each time', async () => {
      const item = await insertItem(ds, 'x')
      hooks.item = resaveSelf(Update, Post, 3)
      item.name = 'y'
      await ds.manager.save(item)
      const i = `Item#${item.id}`
      expect(recorded).toEqual([
        `${i} Pre Update d1`,
        `${i} Post Update d1`,
        `${i} Pre Update d2`,
        `${i} Post Update d2`,
        `${i} Pre Update d3`,
        `${i} Post Update d3`,
        `${i} Pre Update d4`,
        `${i} Post Update d4`,
      ])
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'y', counter: 3, note: 'nested 3' })
    })

    it('the depth limit stays: a runaway self-save stops with EventActionRecursionError and nothing is written', async () => {
      const item = await insertItem(ds, 'x')
      hooks.item = resaveSelf(Update, Post)
      item.name = 'y'
      const error: unknown = await ds.manager.save(item).then(
        () => undefined,
        (e: unknown) => e,
      )
      const i = `Item#${item.id}`
      expect(error).toBeInstanceOf(EventActionRecursionError)
      expect(error).toMatchObject({ name: 'EventActionRecursionError', entityName: 'Item', type: Update, timing: Pre })
      expect((error as Error).message).toMatch(
        new RegExp(`${i} Post Update -> ${i} Post Update -> ${i} Post Update -> ${i} Post Update -> ${i} Pre Update$`),
      )
      expect(recorded).toHaveLength(8)
      expect(await itemRow(ds, item.id)).toMatchObject({ name: 'x', counter: 0, note: null })
    })
  })
})

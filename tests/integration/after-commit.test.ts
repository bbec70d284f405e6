/**
 * ctx.afterCommit of issue 4 on the database chosen by DB: callbacks run once
 * after the outermost COMMIT, never after a rollback (of the transaction or of
 * the savepoint they were registered in), and their errors go to
 * onAfterCommitError without undoing the commit.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Logger } from 'typeorm'
import {
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AfterCommitOrigin,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete } = EventActionType

/** The trace: transaction statements, handler marks and callback runs, in order. */
const log: string[] = []

const sqlLogger: Logger = {
  logQuery(query: string) {
    const q = query.trim()
    if (/^(BEGIN|START TRANSACTION)/i.test(q)) log.push('BEGIN')
    else if (/^COMMIT/i.test(q)) log.push('COMMIT')
    else if (/^ROLLBACK TO/i.test(q)) log.push('ROLLBACK TO SAVEPOINT')
    else if (/^ROLLBACK/i.test(q)) log.push('ROLLBACK')
    else if (/^SAVEPOINT/i.test(q)) log.push('SAVEPOINT')
    else if (/^RELEASE/i.test(q)) log.push('RELEASE SAVEPOINT')
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
}

type Hook = (entity: any, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>) => void | Promise<void>
/** Per-test behaviour of the handlers; reset before every test. */
const hooks: { item?: Hook; child?: Hook } = {}

@Entity('ac_item')
class Item {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', length: 100, nullable: true }) note!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Item>) {
    return hooks.item?.(this, timing, type, ctx)
  }
}

@Entity('ac_child')
class Child {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Child>) {
    return hooks.child?.(this, timing, type, ctx)
  }
}

/** Lets queued work (a callback run late, say) happen before the test looks. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20))

/** On the servers a callback can look from another pooled connection: only committed rows are visible there. */
const SERVER = DB !== 'sqlite'

async function clearTables(ds: DataSource): Promise<void> {
  for (const table of ['ac_child', 'ac_item']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
  log.length = 0
  delete hooks.item
  delete hooks.child
}

describe(`afterCommit (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  const reported: { error: unknown; origin: AfterCommitOrigin }[] = []

  beforeAll(async () => {
    ds = await openDataSource(
      [Item, Child],
      { onAfterCommitError: (error, origin) => void reported.push({ error, origin }) },
      { logger: sqlLogger, ...(SERVER ? ({ poolSize: 10 } as object) : {}) },
    )
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await clearTables(ds)
    reported.length = 0
  })

  const items = () => ds.getRepository(Item)
  const newItem = (name: string) => items().create({ name })
  /** Committed rows named `name`, read through the DataSource (another connection on the servers). */
  const committed = (name: string) => items().countBy({ name })

  /** Where `label` is in the log; fails when it is missing or there more than once. */
  function onceAt(label: string): number {
    expect(log.filter((l) => l === label)).toEqual([label])
    return log.indexOf(label)
  }

  describe('runs once, after the commit', () => {
    it('a callback registered in Pre and Post Insert runs once each, after COMMIT, and sees the committed row', async () => {
      const seenRows: number[] = []
      hooks.item = (item: Item, timing, type, ctx) => {
        if (type !== Insert) return
        ctx.afterCommit(async () => {
          log.push(`fn ${timing}`)
          if (SERVER) seenRows.push(await committed(item.name))
        })
        log.push(`registered ${timing}`)
      }
      await items().save(newItem('one'))
      await settle()
      const commit = onceAt('COMMIT')
      expect(onceAt('registered Pre')).toBeLessThan(commit)
      expect(onceAt('registered Post')).toBeLessThan(commit)
      expect(onceAt('fn Pre')).toBeGreaterThan(commit)
      expect(onceAt('fn Post')).toBeGreaterThan(commit)
      if (SERVER) expect(seenRows).toEqual([1, 1])
      expect(await committed('one')).toBe(1)
    })

    it('Update and Delete callbacks run after their own commit', async () => {
      const item = await items().save(newItem('u'))
      const seenRows: number[] = []
      hooks.item = (_item: Item, timing, type, ctx) => {
        if (timing !== Post) return
        ctx.afterCommit(async () => {
          log.push(`fn ${type}`)
          if (SERVER) seenRows.push(await committed('u'))
        })
      }
      log.length = 0
      item.note = 'changed'
      await items().save(item)
      await settle()
      expect(log).toEqual(['BEGIN', 'COMMIT', 'fn Update'])
      log.length = 0
      await items().remove(item)
      await settle()
      expect(log).toEqual(['BEGIN', 'COMMIT', 'fn Delete'])
      if (SERVER) expect(seenRows).toEqual([1, 0])
    })

    it('in a transaction of several saves, callbacks wait for its end, not for the end of each save', async () => {
      const seenRows: number[] = []
      hooks.item = (item: Item, timing, type, ctx) => {
        if (timing === Post && type === Insert)
          ctx.afterCommit(async () => {
            log.push(`fn ${item.name}`)
            if (SERVER) seenRows.push(await committed(item.name))
          })
      }
      await ds.transaction(async (m) => {
        await m.save(newItem('a'))
        log.push('saved a')
        await m.save(newItem('b'))
        log.push('saved b')
      })
      await settle()
      expect(log).toEqual(['BEGIN', 'saved a', 'saved b', 'COMMIT', 'fn a', 'fn b'])
      if (SERVER) expect(seenRows).toEqual([1, 1])
    })

    it('a callback registered by a nested write (through ctx.manager) runs once, after the outer commit', async () => {
      hooks.item = async (item: Item, timing, type, ctx) => {
        if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Child, { name: `child of ${item.name}` }))
      }
      hooks.child = (_child: Child, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.afterCommit(() => void log.push('fn child'))
      }
      await items().save(newItem('parent'))
      await settle()
      expect(onceAt('fn child')).toBeGreaterThan(onceAt('COMMIT'))
      expect(await countRows(ds, 'ac_child')).toBe(1)
    })
  })

  describe('never after a rollback', () => {
    it('a SoftError in a later Pre handler of the same save (another entity)', async () => {
      const fn = jest.fn()
      hooks.item = (item: Item, timing, type, ctx) => {
        if (timing !== Pre || type !== Insert) return
        if (item.name === 'veto') throw new SoftError('veto')
        ctx.afterCommit(fn)
      }
      await expect(items().save([newItem('fine'), newItem('veto')])).rejects.toThrow(SoftError)
      await settle()
      expect(fn).not.toHaveBeenCalled()
      expect(log).toContain('ROLLBACK')
      expect(await countRows(ds, 'ac_item')).toBe(0)
    })

    it('a SoftError in a Post handler after the callback was registered in Pre', async () => {
      const fn = jest.fn()
      hooks.item = (_item: Item, timing, type, ctx) => {
        if (type !== Insert) return
        if (timing === Pre) ctx.afterCommit(fn)
        else throw new SoftError('too late')
      }
      await expect(items().save(newItem('x'))).rejects.toThrow(SoftError)
      await settle()
      expect(fn).not.toHaveBeenCalled()
      expect(await countRows(ds, 'ac_item')).toBe(0)
    })

    it('a SoftError in a nested entity', async () => {
      const fn = jest.fn()
      const childFn = jest.fn()
      hooks.item = async (item: Item, timing, type, ctx) => {
        if (timing === Post && type === Insert) {
          ctx.afterCommit(fn)
          await ctx.manager.save(ctx.manager.create(Child, { name: 'bad' }))
        }
      }
      hooks.child = (_child: Child, timing, type, ctx) => {
        if (type !== Insert) return
        if (timing === Pre) ctx.afterCommit(childFn)
        if (timing === Post) throw new SoftError('child refuses')
      }
      await expect(items().save(newItem('x'))).rejects.toThrow('child refuses')
      await settle()
      expect(fn).not.toHaveBeenCalled()
      expect(childFn).not.toHaveBeenCalled()
      expect(await countRows(ds, 'ac_item')).toBe(0)
      expect(await countRows(ds, 'ac_child')).toBe(0)
    })

    it('an error thrown by the caller inside the transaction after the save', async () => {
      const fn = jest.fn()
      hooks.item = (_item: Item, timing, type, ctx) => {
        if (timing === Post && type === Insert) ctx.afterCommit(fn)
      }
      await expect(
        ds.transaction(async (m) => {
          await m.save(newItem('x'))
          throw new Error('caller changed its mind')
        }),
      ).rejects.toThrow('caller changed its mind')
      await settle()
      expect(fn).not.toHaveBeenCalled()
      expect(await countRows(ds, 'ac_item')).toBe(0)
      // The next transaction on the same connection starts clean: the dropped callback stays dropped.
      await items().save(newItem('next'))
      await settle()
      expect(fn).toHaveBeenCalledTimes(1)
    })
  })

  describe('savepoints (nested manager.transaction())', () => {
    function registerByName(): void {
      hooks.item = (item: Item, timing, type, ctx) => {
        if (timing === Post && type === Insert && item.name !== 'plain') ctx.afterCommit(() => void log.push(`fn ${item.name}`))
      }
    }

    it('a callback registered inside a savepoint runs once, only after the OUTER commit', async () => {
      registerByName()
      await ds.transaction(async (m) => {
        await m.save(newItem('outer'))
        await m.transaction(async (inner) => {
          await inner.save(newItem('inner'))
        })
        log.push('savepoint released')
        await m.save(newItem('outer again'))
        log.push('outer body done')
      })
      await settle()
      const commit = onceAt('COMMIT')
      expect(onceAt('RELEASE SAVEPOINT')).toBeLessThan(onceAt('savepoint released'))
      expect(onceAt('outer body done')).toBeLessThan(commit)
      expect(onceAt('fn inner')).toBeGreaterThan(commit)
      expect(onceAt('fn outer')).toBeGreaterThan(commit)
      expect(onceAt('fn outer again')).toBeGreaterThan(commit)
    })

    it('a callback of a savepoint that rolls back is dropped; those before and after it run', async () => {
      registerByName()
      await ds.transaction(async (m) => {
        await m.save(newItem('before'))
        await expect(
          m.transaction(async (inner) => {
            await inner.save(newItem('inside'))
            throw new Error('undo the savepoint')
          }),
        ).rejects.toThrow('undo the savepoint')
        await m.save(newItem('after'))
      })
      await settle()
      expect(onceAt('ROLLBACK TO SAVEPOINT')).toBeLessThan(onceAt('COMMIT'))
      expect(log).not.toContain('fn inside')
      expect(onceAt('fn before')).toBeGreaterThan(onceAt('COMMIT'))
      expect(onceAt('fn after')).toBeGreaterThan(onceAt('COMMIT'))
      expect((await items().find()).map((i) => i.name).sort()).toEqual(['after', 'before'])
    })

    it('dropped also when nothing was pending before the savepoint', async () => {
      registerByName()
      await ds.transaction(async (m) => {
        await m.save(newItem('plain'))
        await m
          .transaction(async (inner) => {
            await inner.save(newItem('inside'))
            throw new Error('undo')
          })
          .catch(() => undefined)
      })
      await settle()
      expect(log).not.toContain('fn inside')
      expect((await items().find()).map((i) => i.name)).toEqual(['plain'])
    })

    it('a savepoint rolled back by a SoftError of a nested entity drops its callbacks only', async () => {
      hooks.item = async (item: Item, timing, type, ctx) => {
        if (timing !== Post || type !== Insert) return
        ctx.afterCommit(() => void log.push(`fn ${item.name}`))
        if (item.name === 'with bad child') await ctx.manager.save(ctx.manager.create(Child, { name: 'bad' }))
      }
      hooks.child = (child: Child, timing, type, ctx) => {
        if (type !== Insert) return
        if (timing === Pre) ctx.afterCommit(() => void log.push('fn child'))
        if (timing === Post && child.name === 'bad') throw new SoftError('bad child')
      }
      await ds.transaction(async (m) => {
        await m.save(newItem('kept'))
        await expect(m.transaction((inner) => inner.save(newItem('with bad child')))).rejects.toThrow('bad child')
      })
      await settle()
      expect(log.filter((l) => l.startsWith('fn '))).toEqual(['fn kept'])
      expect(onceAt('fn kept')).toBeGreaterThan(onceAt('COMMIT'))
      expect((await items().find()).map((i) => i.name)).toEqual(['kept'])
      expect(await countRows(ds, 'ac_child')).toBe(0)
    })

    it('two levels: the inner savepoint rolls back, the middle one and the outer commit', async () => {
      registerByName()
      await ds.transaction(async (m) => {
        await m.save(newItem('level 1'))
        await m.transaction(async (m2) => {
          await m2.save(newItem('level 2'))
          await m2
            .transaction(async (m3) => {
              await m3.save(newItem('level 3'))
              throw new Error('undo level 3')
            })
            .catch(() => undefined)
          await m2.save(newItem('level 2 again'))
        })
      })
      await settle()
      expect(log.filter((l) => l.startsWith('fn ')).sort()).toEqual(['fn level 1', 'fn level 2', 'fn level 2 again'])
      expect(onceAt('fn level 2')).toBeGreaterThan(onceAt('COMMIT'))
    })

    it('the outer transaction rolls back after a savepoint was released: nothing runs', async () => {
      registerByName()
      await expect(
        ds.transaction(async (m) => {
          await m.transaction((inner) => inner.save(newItem('inside')))
          throw new Error('undo everything')
        }),
      ).rejects.toThrow('undo everything')
      await settle()
      expect(log.filter((l) => l.startsWith('fn '))).toEqual([])
      expect(await countRows(ds, 'ac_item')).toBe(0)
    })
  })

  describe('errors', () => {
    it('an error in fn does not undo the commit and goes to onAfterCommitError with entity and event', async () => {
      const failure = new Error('mail server down')
      const later = jest.fn()
      hooks.item = (_item: Item, timing, type, ctx) => {
        if (timing === Post && type === Insert) {
          ctx.afterCommit(() => {
            throw failure
          })
          ctx.afterCommit(later)
        }
      }
      const item = await items().save(newItem('kept'))
      await settle()
      expect(await countRows(ds, 'ac_item')).toBe(1)
      expect((await items().findOneByOrFail({ id: item.id })).name).toBe('kept')
      expect(reported).toHaveLength(1)
      expect(reported[0]!.error).toBe(failure)
      expect(reported[0]!.origin).toEqual({ entityName: 'Item', type: Insert, timing: Post })
      // Never swallowed, never stops the other callbacks of the transaction.
      expect(later).toHaveBeenCalledTimes(1)
    })

    it('a rejected async fn is reported too, with the event it came from', async () => {
      const item = await items().save(newItem('u'))
      const failure = new Error('webhook 500')
      hooks.item = (_item: Item, timing, type, ctx) => {
        if (timing === Pre && type === Update) ctx.afterCommit(async () => Promise.reject(failure))
      }
      item.note = 'n'
      await expect(items().save(item)).resolves.toBe(item)
      await settle()
      expect(reported).toEqual([{ error: failure, origin: { entityName: 'Item', type: Update, timing: Pre } }])
      expect((await items().findOneByOrFail({ id: item.id })).note).toBe('n')
    })

    it('ctx.afterCommit with a non-function throws HardError (and, uncaught, stops the save)', async () => {
      const caught: unknown[] = []
      hooks.item = (item: Item, timing, type, ctx) => {
        if (timing !== Pre || type !== Insert) return
        for (const bad of [undefined, null, 'send mail', 42, {}]) {
          try {
            ctx.afterCommit(bad as unknown as () => void)
          } catch (e) {
            caught.push(e)
          }
        }
        if (item.name === 'uncaught') ctx.afterCommit('nope' as unknown as () => void)
      }
      await items().save(newItem('caught'))
      expect(caught).toHaveLength(5)
      for (const e of caught) {
        expect(e).toBeInstanceOf(HardError)
        expect((e as Error).message).toMatch(/afterCommit.*function/)
      }
      await expect(items().save(newItem('uncaught'))).rejects.toMatchObject({ name: 'HardError', entityName: 'Item' })
      expect(await committed('uncaught')).toBe(0)
      expect(reported).toEqual([])
    })
  })
})

describe(`afterCommit with the default error handler (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Item, Child])
  })
  afterAll(() => ds?.destroy())
  beforeEach(() => clearTables(ds))
  afterEach(() => jest.restoreAllMocks())

  it('logs the error with console.error, naming entity and event; save() resolves and the row stays', async () => {
    const errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined)
    const failure = new Error('queue unreachable')
    hooks.item = (_item: Item, timing, type, ctx) => {
      if (timing === Pre && type === Delete) ctx.afterCommit(() => Promise.reject(failure))
      if (timing === Post && type === Insert)
        ctx.afterCommit(() => {
          throw failure
        })
    }
    const item = await ds.getRepository(Item).save(ds.getRepository(Item).create({ name: 'logged' }))
    await settle()
    expect(await countRows(ds, 'ac_item')).toBe(1)
    expect(errorSpy).toHaveBeenCalledTimes(1)
    let args = errorSpy.mock.calls[0]!
    expect(args).toContain(failure)
    let text = args.filter((a) => typeof a === 'string').join(' ')
    expect(text).toMatch(/Item/)
    expect(text).toMatch(/Post/)
    expect(text).toMatch(/Insert/)

    errorSpy.mockClear()
    await expect(ds.getRepository(Item).remove(item)).resolves.toBe(item)
    await settle()
    expect(await countRows(ds, 'ac_item')).toBe(0)
    expect(errorSpy).toHaveBeenCalledTimes(1)
    args = errorSpy.mock.calls[0]!
    expect(args).toContain(failure)
    text = args.filter((a) => typeof a === 'string').join(' ')
    expect(text).toMatch(/Item/)
    expect(text).toMatch(/Pre/)
    expect(text).toMatch(/Delete/)
  })
})

describe(`afterCommit with an onAfterCommitError that throws (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  const handlerFailure = new Error('error tracker down')
  beforeAll(async () => {
    ds = await openDataSource([Item, Child], {
      onAfterCommitError: () => {
        throw handlerFailure
      },
    })
  })
  afterAll(() => ds?.destroy())
  beforeEach(() => clearTables(ds))
  afterEach(() => jest.restoreAllMocks())

  it('a committed save still resolves; both errors are logged with console.error, and later callbacks still run', async () => {
    const errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined)
    const failure = new Error('mail server down')
    const ran: string[] = []
    hooks.item = (_item: Item, timing, type, ctx) => {
      if (timing === Post && type === Insert) {
        ctx.afterCommit(() => {
          throw failure
        })
        ctx.afterCommit(() => void ran.push('second'))
      }
    }
    await expect(ds.getRepository(Item).save(ds.getRepository(Item).create({ name: 'kept' }))).resolves.toMatchObject({ name: 'kept' })
    await settle()
    expect(await countRows(ds, 'ac_item')).toBe(1)
    expect(ran).toEqual(['second'])
    expect(errorSpy).toHaveBeenCalledTimes(1)
    expect(errorSpy.mock.calls[0]).toEqual(expect.arrayContaining([failure, handlerFailure]))
  })
})

/**
 * The action context of issue 4: runAction / currentAction, ctx.action,
 * ctx.user and ctx.requestId in every event (nested ones too), the acting
 * user in audit entries, input checks, and isolation between concurrent
 * actions, on the database chosen by DB.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  AuditEntry,
  currentAction,
  EventActionTiming,
  EventActionType,
  HardError,
  runAction,
  type ActionContext,
  type ActionUser,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete, Load } = EventActionType

/** One handler call and the action it saw. */
interface Seen {
  event: string
  action: string | undefined
  user: ActionUser | undefined
  requestId: string | undefined
  /** What currentAction() returned inside the handler. */
  current: ActionContext | undefined
}

const seen: Seen[] = []

/** Lets other pending work run, so that concurrent actions interleave inside handlers. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

function see(label: string, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<any>): void {
  seen.push({
    event: `${label} ${timing} ${type} d${ctx.depth}`,
    action: ctx.action,
    user: ctx.user,
    requestId: ctx.requestId,
    current: currentAction(),
  })
}

/** Concurrency check: the user a handler sees must be the one its entity's name encodes (`by:<user id>:...`). */
const mismatches: string[] = []

function checkOwner(name: string, ctx: EventActionContext<any>, where: string): void {
  const m = /^by:([^:]+):/.exec(name)
  if (!m) return
  const seenId = ctx.user === undefined ? '(none)' : String(ctx.user.id)
  if (seenId !== m[1]) mismatches.push(`${where} of '${name}' saw user ${seenId}`)
}

@Entity('act_note')
@Audited()
class Note {
  @PrimaryGeneratedColumn() id!: number
  @Column() text!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Note>) {
    see('Note', timing, type, ctx)
  }
}

@Entity('act_doc')
@Audited()
class Doc {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', length: 100, nullable: true }) title!: string | null

  async _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<Doc>) {
    see('Doc', timing, type, ctx)
    if (this.name.startsWith('by:')) {
      checkOwner(this.name, ctx, `${timing} ${type} (before await)`)
      await tick()
      checkOwner(this.name, ctx, `${timing} ${type} (after await)`)
      return
    }
    if (this.name !== 'parent') return
    // Nested events, through the transaction's manager.
    if (timing === Post && type === Insert) await ctx.manager.save(ctx.manager.create(Note, { text: `child of ${this.id}` }))
    if (timing === Pre && type === Update) await ctx.manager.find(Note)
  }
}

describe(`Action context (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    // Several pooled connections on the servers, so concurrent actions really run side by side.
    ds = await openDataSource([Doc, Note], {}, DB === 'sqlite' ? {} : ({ poolSize: 10 } as object))
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    for (const table of ['act_note', 'act_doc', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    seen.length = 0
    mismatches.length = 0
  })

  const audits = () => ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })

  /** Insert, Load, Update (with a nested Load) and Delete of a 'parent' Doc, whose Post Insert saves a Note. */
  async function lifecycle(): Promise<Doc> {
    const repo = ds.getRepository(Doc)
    const doc = await repo.save(repo.create({ name: 'parent', title: 'a' }))
    const loaded = await repo.findOneByOrFail({ id: doc.id })
    loaded.title = 'b'
    await repo.save(loaded)
    await repo.remove(loaded)
    return doc
  }

  /** Every kind of event must have been seen, nested ones included. */
  function expectAllEventKinds(): void {
    const events = seen.map((s) => s.event)
    expect(events).toEqual(
      expect.arrayContaining([
        'Doc Pre Insert d1',
        'Doc Post Insert d1',
        'Note Pre Insert d2',
        'Note Post Insert d2',
        'Doc Pre Load d1',
        'Doc Post Load d1',
        'Doc Pre Update d1',
        'Note Pre Load d2',
        'Note Post Load d2',
        'Doc Post Update d1',
        'Doc Pre Delete d1',
        'Doc Post Delete d1',
      ]),
    )
  }

  describe('runAction and currentAction', () => {
    it('returns what fn returns, sync and async, and passes its errors on', async () => {
      expect(runAction({ name: 'sync' }, () => 42)).toBe(42)
      const promise = Promise.resolve('x')
      expect(runAction({ name: 'async' }, () => promise)).toBe(promise)
      await expect(runAction({ name: 'async' }, async () => 'done')).resolves.toBe('done')
      expect(() =>
        runAction({ name: 'throws' }, () => {
          throw new Error('boom')
        }),
      ).toThrow('boom')
      await expect(runAction({ name: 'rejects' }, async () => Promise.reject(new Error('later')))).rejects.toThrow('later')
    })

    it('currentAction() is the active context inside, undefined outside, and survives awaits', async () => {
      const user = { id: 3, name: 'cat' }
      expect(currentAction()).toBeUndefined()
      const inside = await runAction({ name: 'look', user, requestId: 'r-1' }, async () => {
        const before = currentAction()
        await tick()
        await new Promise((resolve) => setTimeout(resolve, 5))
        return [before, currentAction()] as const
      })
      for (const ctx of inside) {
        expect(ctx).toEqual({ name: 'look', user, requestId: 'r-1' })
        expect(ctx!.user).toBe(user)
      }
      expect(currentAction()).toBeUndefined()
    })

    it('nested runAction sees the innermost action, and the outer one is restored after it', async () => {
      const outerUser = { id: 1 }
      const innerUser = { id: 2 }
      const names: (string | undefined)[] = []
      await runAction({ name: 'outer', user: outerUser, requestId: 'r-out' }, async () => {
        names.push(currentAction()?.name)
        const repo = ds.getRepository(Doc)
        await repo.save(repo.create({ name: 'first' }))
        await runAction({ name: 'inner', user: innerUser, requestId: 'r-in' }, async () => {
          names.push(currentAction()?.name)
          await repo.save(repo.create({ name: 'second' }))
        })
        names.push(currentAction()?.name)
        await repo.save(repo.create({ name: 'third' }))
        // A synchronous nested call too.
        names.push(runAction({ name: 'sync-inner' }, () => currentAction()?.name))
        names.push(currentAction()?.name)
      })
      expect(names).toEqual(['outer', 'inner', 'outer', 'sync-inner', 'outer'])
      expect(currentAction()).toBeUndefined()

      const writes = seen.filter((s) => s.event.startsWith('Doc Pre Insert'))
      expect(writes.map((s) => [s.action, s.user, s.requestId])).toEqual([
        ['outer', outerUser, 'r-out'],
        ['inner', innerUser, 'r-in'],
        ['outer', outerUser, 'r-out'],
      ])
      expect(writes[1]!.user).toBe(innerUser)
      expect(writes[2]!.user).toBe(outerUser)

      const entries = await audits()
      expect(entries.map((e) => [e.changes.name?.new, e.actionName, e.userId, e.requestId])).toEqual([
        ['first', 'outer', '1', 'r-out'],
        ['second', 'inner', '2', 'r-in'],
        ['third', 'outer', '1', 'r-out'],
      ])
    })
  })

  describe('inside an action', () => {
    it('every event, nested ones included, sees ctx.action, the same user object and ctx.requestId', async () => {
      const user = { id: 7, name: 'ann', roles: ['clerk'] }
      await runAction({ name: 'docs:edit', user, requestId: 'req-7' }, lifecycle)
      expectAllEventKinds()
      for (const s of seen) {
        expect([s.event, s.action, s.requestId]).toEqual([s.event, 'docs:edit', 'req-7'])
        expect(s.user).toBe(user)
        expect(s.current).toEqual({ name: 'docs:edit', user, requestId: 'req-7' })
      }
    })

    it('audit entries carry actionName, userId (String of a number id) and requestId', async () => {
      const doc = await runAction({ name: 'docs:edit', user: { id: 7 }, requestId: 'req-7' }, lifecycle)
      const entries = await audits()
      // The two inserts share one transaction: their order in it is not specified.
      expect(entries.map((e) => `${e.entityName} ${e.operation}`).sort()).toEqual(['Doc delete', 'Doc insert', 'Doc update', 'Note insert'])
      expect(entries.map((e) => [e.entityName, e.operation]).slice(2)).toEqual([
        ['Doc', 'update'],
        ['Doc', 'delete'],
      ])
      expect(entries).toHaveLength(4)
      for (const e of entries) {
        expect({ actionName: e.actionName, userId: e.userId, requestId: e.requestId }).toEqual({
          actionName: 'docs:edit',
          userId: '7',
          requestId: 'req-7',
        })
      }
      expect(entries.filter((e) => e.entityName === 'Doc').every((e) => e.entityId === String(doc.id))).toBe(true)
    })

    it('a string user id is recorded as is; an action without user or requestId records nulls for them', async () => {
      const repo = ds.getRepository(Doc)
      await runAction({ name: 'by-string', user: { id: 'u-42', email: 'x@example.com' } }, () => repo.save(repo.create({ name: 's' })))
      await runAction({ name: 'anonymous' }, () => repo.save(repo.create({ name: 'n' })))
      const entries = await audits()
      expect(entries.map((e) => [e.changes.name?.new, e.actionName, e.userId, e.requestId])).toEqual([
        ['s', 'by-string', 'u-42', null],
        ['n', 'anonymous', null, null],
      ])
      const anon = seen.filter((s) => s.action === 'anonymous')
      expect(anon.length).toBeGreaterThan(0)
      for (const s of anon) expect([s.user, s.requestId]).toEqual([undefined, undefined])
    })

    it('values of exactly 255 characters are recorded whole on every database', async () => {
      const repo = ds.getRepository(Doc)
      const [name, id, requestId] = ['n'.repeat(255), 'u'.repeat(255), 'r'.repeat(255)]
      await runAction({ name, user: { id }, requestId }, () => repo.save(repo.create({ name: 'long' })))
      const [entry] = await audits()
      expect([entry!.actionName, entry!.userId, entry!.requestId]).toEqual([name, id, requestId])
    })

    it('a user id of 0 is still recorded ("0", not null)', async () => {
      const repo = ds.getRepository(Doc)
      await runAction({ name: 'root', user: { id: 0 } }, () => repo.save(repo.create({ name: 'zero' })))
      const [entry] = await audits()
      expect(entry!.userId).toBe('0')
    })
  })

  describe('outside any action', () => {
    it('ctx.action, ctx.user and ctx.requestId are undefined, audit entries have nulls', async () => {
      await lifecycle()
      expectAllEventKinds()
      for (const s of seen) expect([s.event, s.action, s.user, s.requestId, s.current]).toEqual([s.event, undefined, undefined, undefined, undefined])
      const entries = await audits()
      expect(entries).toHaveLength(4)
      for (const e of entries) expect([e.actionName, e.userId, e.requestId]).toEqual([null, null, null])
    })
  })

  describe('bad input', () => {
    const cases: [string, unknown, RegExp][] = [
      ['an empty name', { name: '' }, /name/],
      ['a blank name', { name: '   ' }, /name/],
      ['a number as name', { name: 42 }, /name/],
      ['no name', { user: { id: 1 } }, /name/],
      ['no action at all', null, /name/],
      ['a user without id', { name: 'a', user: {} }, /user.*id/],
      ['a user with a null id', { name: 'a', user: { id: null } }, /user.*id/],
      ['a user with an object id', { name: 'a', user: { id: { n: 1 } } }, /user.*id/],
      ['a user with a boolean id', { name: 'a', user: { id: true } }, /user.*id/],
      ['a null user', { name: 'a', user: null }, /user/],
      ['a string as user', { name: 'a', user: 'bob' }, /user/],
      ['a number requestId', { name: 'a', requestId: 42 }, /requestId/],
      ['an object requestId', { name: 'a', requestId: { id: 'r' } }, /requestId/],
      // The audit columns are varchar(255): PostgreSQL and MariaDB would fail the COMMIT, SQLite would store it.
      ['a name of 256 characters', { name: 'a'.repeat(256) }, /action name may have at most 255 characters, got 256/],
      ['a user id of 256 characters', { name: 'a', user: { id: 'u'.repeat(256) } }, /user.id may have at most 255 characters/],
      ['a requestId of 256 characters', { name: 'a', requestId: 'r'.repeat(256) }, /requestId may have at most 255 characters/],
      ['a NUL in the name', { name: 'orders\u0000:submit' }, /control characters/],
      ['a newline in the requestId', { name: 'a', requestId: 'req\n1' }, /requestId may not contain control characters/],
    ]

    it.each(cases)('%s: HardError naming the problem, fn is not run', (_what, action, message) => {
      const fn = jest.fn(() => 'ran')
      let error: unknown
      try {
        runAction(action as ActionContext, fn)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(HardError)
      expect((error as Error).message).toMatch(message)
      expect(fn).not.toHaveBeenCalled()
      expect(currentAction()).toBeUndefined()
    })
  })

  describe('concurrency', () => {
    // TypeORM's SQLite drivers share one connection, so concurrent transactions
    // there must be serialized by the caller: on SQLite the actions still start
    // together (Promise.all), but their database work takes turns behind a
    // mutex. On PostgreSQL and MariaDB they run truly concurrently on the pool.
    let turn: Promise<unknown> = Promise.resolve()
    function serialized<T>(work: () => Promise<T>): Promise<T> {
      if (DB !== 'sqlite') return work()
      const result = turn.then(work)
      turn = result.catch(() => undefined)
      return result
    }

    const ACTIONS = 100

    /** User i: number ids for even i, string ids for odd i. */
    const userOf = (i: number): ActionUser => (i % 2 === 0 ? { id: i } : { id: `u${i}` })

    it('100 concurrent actions: every audit entry names the user of the action that wrote it; nothing leaks outside', async () => {
      const repo = ds.getRepository(Doc)
      const outsideNames: string[] = []
      const work: Promise<unknown>[] = []
      let inFlight = 0
      let maxInFlight = 0
      for (let i = 0; i < ACTIONS; i++) {
        const user = userOf(i)
        work.push(
          runAction({ name: `act-${i}`, user, requestId: `req-${i}` }, () =>
            serialized(async () => {
              inFlight++
              maxInFlight = Math.max(maxInFlight, inFlight)
              try {
                const doc = await repo.save(repo.create({ name: `by:${String(user.id)}:${i}` }))
                await tick()
                doc.title = `t${i}`
                await repo.save(doc)
              } finally {
                inFlight--
              }
            }),
          ),
        )
        // Work outside any action, interleaved with the actions.
        if (i % 10 === 5) {
          const name = `outside-${i}`
          outsideNames.push(name)
          work.push(serialized(() => repo.save(repo.create({ name })).then(() => undefined)))
        }
      }
      await Promise.all(work)
      // The actions really overlapped on the servers, and really took turns on SQLite.
      if (DB === 'sqlite') expect(maxInFlight).toBe(1)
      else expect(maxInFlight).toBeGreaterThan(1)
      expect(mismatches).toEqual([])

      const docs = await repo.find()
      const nameById = new Map(docs.map((d) => [String(d.id), d.name]))
      const entries = await audits()
      expect(entries).toHaveLength(2 * ACTIONS + outsideNames.length)
      const wrong: string[] = []
      const perAction = new Map<string, number>()
      for (const e of entries) {
        const name = nameById.get(e.entityId)!
        const m = /^by:([^:]+):(\d+)$/.exec(name)
        if (!m) {
          if (e.userId !== null || e.actionName !== null || e.requestId !== null) wrong.push(`${name}: ${e.userId}/${e.actionName}/${e.requestId}`)
          continue
        }
        const [, userId, i] = m
        perAction.set(i!, (perAction.get(i!) ?? 0) + 1)
        if (e.userId !== userId || e.actionName !== `act-${i}` || e.requestId !== `req-${i}`) {
          wrong.push(`${e.operation} of ${name}: ${e.userId}/${e.actionName}/${e.requestId}`)
        }
      }
      expect(wrong).toEqual([])
      expect(perAction.size).toBe(ACTIONS)
      expect([...perAction.values()].every((n) => n === 2)).toBe(true)

      // Right after: work outside any action sees no user.
      seen.length = 0
      expect(currentAction()).toBeUndefined()
      const after = await repo.save(repo.create({ name: 'after all' }))
      after.title = 'changed'
      await repo.save(after)
      expect(seen.length).toBeGreaterThan(0)
      for (const s of seen) expect([s.action, s.user, s.requestId]).toEqual([undefined, undefined, undefined])
      const last = (await audits()).filter((e) => e.entityId === String(after.id))
      expect(last.map((e) => [e.operation, e.userId, e.actionName, e.requestId])).toEqual([
        ['insert', null, null, null],
        ['update', null, null, null],
      ])
    })
  })
})

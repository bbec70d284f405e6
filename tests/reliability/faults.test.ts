/**
 * Database faults in the middle of a save with handlers and audit (issue 7,
 * part 2): a failing statement, SQLITE_BUSY, a connection killed by the
 * server while a handler's statement runs or while the handler awaits
 * something else, a deadlock between two concurrent actions, a statement
 * timeout. Each time:
 * - the database's (driver's) error reaches the caller as TypeORM reports it,
 *   with its code, never replaced by the library;
 * - nothing of the failed work is written (rows and audit entries counted
 *   with SQL) and none of its after-commit callbacks runs;
 * - the library is clean for the next operation: the same instance, saved
 *   again by another user on a new connection, fires its events, writes its
 *   own audit entry with that user and runs its after-commit call
 *   (expectCleanAfterwards).
 * Kills, deadlocks and timeouts need a server: on SQLite they are skipped
 * with the reason in the test name.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { DataSource, QueryFailedError, type DataSourceOptions } from 'typeorm'
import { AuditEntry, currentAction, EventActionError, EventActionTiming, EventActionType, runAction, type AfterCommitOrigin } from '../../src'
import { databaseOptions } from '../../ormconfig'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { FAULT_ENTITIES, FaultLine, FaultOrder, observed, resetObserved } from './faults/fault-entities'
import { backendPid, codeOf, driverErrorOf, expectCleanAfterwards, expectRolledBack, rejectionOf, seedOrder, snapshot, SQL, waitFor } from './faults/fault-support'

const { Pre, Post } = EventActionTiming
const { Update } = EventActionType

const SERVER = DB !== 'sqlite'
/** Runs on PostgreSQL and MariaDB; on SQLite the test is listed as skipped, with the reason in its name. */
const onServers = (title: string, reason: string, fn: () => Promise<void>, timeout?: number) =>
  SERVER ? it(title, fn, timeout) : it.skip(`${title} [skipped on SQLite: ${reason}]`, fn)

/** The unique-violation code of each database's driver. */
const UNIQUE_VIOLATION = { sqlite: /^SQLITE_CONSTRAINT/, postgres: /^23505$/, mariadb: /^ER_DUP_ENTRY$/ }[DB]

type HandlerContext = Parameters<NonNullable<typeof observed.hook>>[3]

/** Saves `order` with amount + 1 in an action of 'victim-user'; resolves with the caller's error. */
const failingSaveOn = (ds: DataSource, order: FaultOrder) =>
  rejectionOf(
    runAction({ name: 'faults:victim', user: { id: 'victim-user' } }, () => {
      order.amount += 1
      return ds.getRepository(FaultOrder).save(order)
    }),
  )

/** The hook of a Post Update at depth 1 (not of the nested writes it makes). */
function onPostUpdate(fn: (order: FaultOrder, ctx: HandlerContext) => Promise<void>): void {
  observed.hook = (order, timing, type, ctx) => (timing === Post && type === Update && ctx.depth === 1 ? fn(order, ctx) : undefined)
}

/** Writes an audited line and registers a callback: work that must vanish with the transaction. */
async function writeSomething(ctx: HandlerContext): Promise<void> {
  await ctx.manager.save(ctx.manager.create(FaultLine, { name: 'fresh' }))
  ctx.afterCommit(() => void observed.calls.push('hook callback'))
}

/** The events of a failed save of 'victim' whose Post Update handler wrote a line first. */
const FAILED_EVENTS = ['victim Pre Update', 'victim Post Update', 'fresh Pre Insert', 'fresh Post Insert']

describe(`database faults during a save with handlers and audit (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  /** A second DataSource, without event actions: it kills, and it holds locks. */
  let other: DataSource | undefined
  const reported: AfterCommitOrigin[] = []

  beforeAll(async () => {
    ds = await openDataSource(FAULT_ENTITIES, { onAfterCommitError: (_error, origin) => void reported.push(origin) }, SERVER ? ({ poolSize: 4 } as object) : {})
    if (SERVER) {
      other = new DataSource({ ...databaseOptions(DB), poolSize: 2 } as DataSourceOptions)
      await other.initialize()
    }
  })
  afterAll(async () => {
    await other?.destroy()
    await ds?.destroy()
  })
  beforeEach(async () => {
    for (const table of ['flt_line', 'flt_order', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    resetObserved()
    reported.length = 0
  })
  afterEach(() => {
    // An after-commit error would mean a callback of failed work ran.
    expect(reported).toEqual([])
  })

  const orders = () => ds.getRepository(FaultOrder)
  const failingSave = (order: FaultOrder) => failingSaveOn(ds, order)

  it('a statement that fails inside a handler (a nested write breaks a unique index): its error and code reach the caller, nothing is written', async () => {
    const victim = await seedOrder(ds, 'victim', 1)
    await ds.getRepository(FaultLine).save(ds.getRepository(FaultLine).create({ name: 'taken' }))
    resetObserved()
    const before = await snapshot(ds)
    onPostUpdate(async (_order, ctx) => {
      await writeSomething(ctx)
      await ctx.manager.save(ctx.manager.create(FaultLine, { name: 'taken' }))
    })
    const error = await failingSave(victim)
    expect(error).toBeInstanceOf(QueryFailedError)
    expect(codeOf(error)).toMatch(UNIQUE_VIOLATION)
    expect(currentAction()).toBeUndefined()
    // The fault hit after the order's UPDATE, its audit entry and a nested audited write.
    await expectRolledBack(ds, victim, before, [...FAILED_EVENTS, 'taken Pre Insert'])
  })

  onServers(
    'the connection is killed while a handler statement runs: the server error (code) reaches the caller, nothing is written',
    'TypeORM SQLite drivers have one in-process connection, nothing to kill',
    async () => {
      const victim = await seedOrder(ds, 'victim', 1)
      const before = await snapshot(ds)
      onPostUpdate(async (_order, ctx) => {
        await writeSomething(ctx)
        const pid = await backendPid(ctx.manager)
        // The other connection kills this one as soon as the server shows it sleeping.
        const killing = waitFor(other!, SQL!.isSleeping(pid), true).then(() => other!.query(SQL!.kill(pid)))
        try {
          await ctx.manager.query(SQL!.sleep)
        } finally {
          await killing
        }
      })
      const error = await failingSave(victim)
      expect(error).toBeInstanceOf(QueryFailedError)
      // PostgreSQL: admin_shutdown; MariaDB closes the socket (mysql2 reports the lost connection).
      expect(codeOf(error)).toMatch(DB === 'postgres' ? /^57P01$/ : /^(PROTOCOL_CONNECTION_LOST|ER_CONNECTION_KILLED)$/)
      await expectRolledBack(ds, victim, before, FAILED_EVENTS)
    },
  )

  onServers(
    'the connection is killed while a handler awaits something else: the audit INSERT before COMMIT fails, the error reaches the caller',
    'TypeORM SQLite drivers have one in-process connection, nothing to kill',
    async () => {
      const victim = await seedOrder(ds, 'victim', 1)
      const before = await snapshot(ds)
      onPostUpdate(async (_order, ctx) => {
        await writeSomething(ctx)
        const pid = await backendPid(ctx.manager)
        await other!.query(SQL!.kill(pid))
        await waitFor(other!, SQL!.exists(pid), false)
        // The handler ends: the next statement on the dead connection is the library's batched audit INSERT.
      })
      const error = await failingSave(victim)
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(EventActionError)
      // What the drivers say depends on whether they noticed the closed socket first (pg: TypeORM then
      // releases the query runner, and the server's 57P01 goes to the pool's log instead of the caller).
      expect(String(error)).toMatch(/Query runner already released|Connection terminated|terminating connection|closed state|Connection lost/i)
      await expectRolledBack(ds, victim, before, FAILED_EVENTS)
    },
  )

  onServers(
    'a deadlock between two actions updating the same rows in opposite order: one fails with the deadlock code and leaves nothing, the other commits',
    'TypeORM SQLite drivers serialize transactions on one connection, they cannot deadlock',
    async () => {
      const a = await seedOrder(ds, 'A', 1)
      const b = await seedOrder(ds, 'B', 1)
      const before = await snapshot(ds)
      let arrived = 0
      let release!: () => void
      const bothLocked = new Promise<void>((resolve) => (release = resolve))
      // Each action has updated its own row (and holds its lock) before it updates the other's.
      onPostUpdate(async (order, ctx) => {
        if (++arrived === 2) release()
        await bothLocked
        const otherRow = await ctx.manager.findOneByOrFail(FaultOrder, { name: order.name === 'A' ? 'B' : 'A' })
        otherRow.amount += 10
        await ctx.manager.save(otherRow)
      })
      const results = await Promise.allSettled([
        runAction({ name: 'faults:transfer', user: { id: 'user-a' } }, () => ((a.amount += 1), orders().save(a))),
        runAction({ name: 'faults:transfer', user: { id: 'user-b' } }, () => ((b.amount += 1), orders().save(b))),
      ])
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
      expect(failed).toHaveLength(1)
      expect(failed[0]).toBeInstanceOf(QueryFailedError)
      expect(codeOf(failed[0])).toBe(DB === 'postgres' ? '40P01' : 'ER_LOCK_DEADLOCK')
      const [winner, loser] = results[0]!.status === 'fulfilled' ? [a, b] : [b, a]
      const winnerUser = winner === a ? 'user-a' : 'user-b'
      // Only the winner's work: its row + 1, the loser's row + 10 (written by the winner's handler).
      expect((await snapshot(ds)).orders).toEqual([
        { id: a.id, name: 'A', amount: winner === a ? 2 : 11 },
        { id: b.id, name: 'B', amount: winner === b ? 2 : 11 },
      ])
      expect(await countRows(ds, 'audit_entry')).toBe(before.audits + 2)
      const trail = await ds.getRepository(AuditEntry).find({ where: { operation: 'update' }, order: { id: 'ASC' } })
      expect(trail).toEqual([
        expect.objectContaining({ entityId: String(winner.id), userId: winnerUser, changes: { amount: { old: 1, new: 2 } } }),
        expect.objectContaining({ entityId: String(loser.id), userId: winnerUser, changes: { amount: { old: 1, new: 11 } } }),
      ])
      expect(observed.calls).toEqual([`${winner.name} Update`, `${loser.name} Update`])
      observed.hook = undefined
      await expectCleanAfterwards(ds, loser)
    },
    30_000,
  )

  onServers(
    'a statement timeout in a handler: the timeout error (code) reaches the caller, nothing is written',
    'SQLite has no statement timeout',
    async () => {
      const victim = await seedOrder(ds, 'victim', 1)
      const before = await snapshot(ds)
      onPostUpdate(async (_order, ctx) => {
        await writeSomething(ctx)
        if (DB === 'postgres') {
          // LOCAL: the limit ends with the transaction, so the pooled connection comes back without it.
          await ctx.manager.query('SET LOCAL statement_timeout = 100')
          await ctx.manager.query('SELECT pg_sleep(5)')
          return
        }
        await ctx.manager.query('SET SESSION max_statement_time = 0.1')
        try {
          await ctx.manager.query('SELECT SLEEP(5)')
        } finally {
          // A session setting outlives the transaction on the pooled connection: put it back (the error still propagates).
          await ctx.manager.query('SET SESSION max_statement_time = 0')
        }
      })
      const error = await failingSave(victim)
      expect(error).toBeInstanceOf(QueryFailedError)
      // mysql2 has no name for MariaDB's ER_STATEMENT_TIMEOUT (1969): it keeps errno and SQLSTATE.
      expect(driverErrorOf(error)).toMatchObject(DB === 'postgres' ? { code: '57014' } : { errno: 1969, sqlState: '70100' })
      await expectRolledBack(ds, victim, before, FAILED_EVENTS)
    },
  )
})

describe(`SQLITE_BUSY during a save with handlers and audit (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  const file = join(tmpdir(), `tea-faults-${process.pid}.sqlite`)
  let ds: DataSource
  let other: DataSource

  /** Fail at once when locked: TypeORM 1.x's better-sqlite3 would wait 5 s, sqlite3 retries only when told to. */
  const noWait = (TYPEORM_MAJOR >= 1 ? { timeout: 0 } : {}) as object

  beforeAll(async () => {
    if (SERVER) return
    rmSync(file, { force: true })
    ds = await openDataSource(FAULT_ENTITIES, {}, { database: file, ...noWait } as object)
    other = new DataSource({ ...databaseOptions('sqlite', file), ...noWait } as DataSourceOptions)
    await other.initialize()
  })
  afterAll(async () => {
    if (SERVER) return
    await other?.destroy()
    await ds?.destroy()
    rmSync(file, { force: true })
  })

  const sqliteIt = SERVER ? it.skip : it
  sqliteIt(
    `another connection holds the write lock: SQLITE_BUSY reaches the caller, nothing is written${SERVER ? ' [skipped on servers: they wait for row locks instead, see the deadlock test]' : ''}`,
    async () => {
      const victim = await seedOrder(ds, 'victim', 1)
      const before = await snapshot(ds)
      observed.hook = async (_order, timing, type, ctx) => {
        if (timing !== Pre || type !== Update) return
        ctx.afterCommit(() => void observed.calls.push('pre callback'))
        // The other connection takes the write lock before this transaction writes anything.
        await other.query('BEGIN IMMEDIATE')
      }
      let error: unknown
      try {
        error = await rejectionOf(runAction({ name: 'faults:victim', user: { id: 'victim-user' } }, () => ((victim.amount += 1), ds.getRepository(FaultOrder).save(victim))))
      } finally {
        await other.query('ROLLBACK')
      }
      expect(error).toBeInstanceOf(QueryFailedError)
      expect(codeOf(error)).toMatch(/^SQLITE_BUSY/)
      expect((error as QueryFailedError).query).toMatch(/^UPDATE/)
      await expectRolledBack(ds, victim, before, ['victim Pre Update'])
    },
  )

  sqliteIt(
    `COMMIT itself fails (SQLITE_BUSY: another connection is reading): the audit entries already inserted vanish, no after-commit call${SERVER ? ' [skipped on servers: readers never block a commit there]' : ''}`,
    async () => {
      const victim = await seedOrder(ds, 'victim', 1)
      const before = await snapshot(ds)
      onPostUpdate((_order, ctx) => writeSomething(ctx))
      // A read transaction holds a shared lock: this one can write, but not commit.
      await other.query('BEGIN')
      await other.query('SELECT COUNT(*) AS n FROM flt_order')
      let error: unknown
      try {
        error = await failingSaveOn(ds, victim)
      } finally {
        await other.query('ROLLBACK')
      }
      expect(error).toBeInstanceOf(QueryFailedError)
      expect(codeOf(error)).toMatch(/^SQLITE_BUSY/)
      expect((error as QueryFailedError).query).toBe('COMMIT')
      await expectRolledBack(ds, victim, before, FAILED_EVENTS)
    },
  )
})

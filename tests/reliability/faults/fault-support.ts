/**
 * What every database-fault test checks: the database's error reached the
 * caller, nothing of the failed work was written or called after commit,
 * and the library is clean for the next operation (proved by one).
 */
import type { DataSource, EntityManager } from 'typeorm'
import { AuditEntry, currentAction, runAction } from '../../../src'
import { countRows, DB } from '../../support/database'
import { FaultOrder, observed, resetObserved } from './fault-entities'

/** The code a driver gave an error, on the error itself, TypeORM's `driverError` or a `cause`. */
export function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown }; cause?: { code?: unknown } } | undefined
  const code = e?.code ?? e?.driverError?.code ?? e?.cause?.code
  return code === undefined ? undefined : String(code)
}

/** The driver's own error: TypeORM's `driverError`, a `cause`, or the error itself. */
export function driverErrorOf(error: unknown): Record<string, unknown> {
  const e = error as { driverError?: object; cause?: object } | undefined
  return (e?.driverError ?? e?.cause ?? e ?? {}) as Record<string, unknown>
}

/** What the caller got: the rejection, or a marker that there was none. */
export async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work
  } catch (error) {
    return error
  }
  return new Error('expected the operation to fail, it succeeded')
}

/** Everything the tests compare before and after a failed operation, read with SQL. */
export interface Snapshot {
  readonly orders: { id: number; name: string; amount: number }[]
  readonly lines: number
  readonly audits: number
}

export async function snapshot(ds: DataSource): Promise<Snapshot> {
  const e = (name: string) => ds.driver.escape(name)
  const rows: { id: number | string; name: string; amount: number | string }[] = await ds.query(
    `SELECT ${e('id')} AS ${e('id')}, ${e('name')} AS ${e('name')}, ${e('amount')} AS ${e('amount')} FROM ${e('flt_order')} ORDER BY ${e('id')}`,
  )
  return {
    orders: rows.map((r) => ({ id: Number(r.id), name: r.name, amount: Number(r.amount) })),
    lines: await countRows(ds, 'flt_line'),
    audits: await countRows(ds, 'audit_entry'),
  }
}

/** An order, committed, outside any action; the observations start empty afterwards. */
export async function seedOrder(ds: DataSource, name: string, amount: number): Promise<FaultOrder> {
  const repo = ds.getRepository(FaultOrder)
  const order = await repo.save(repo.create({ name, amount }))
  resetObserved()
  return order
}

/** The largest audit entry id so far (0 when none). */
async function lastAuditId(ds: DataSource): Promise<number> {
  const [last] = await ds.getRepository(AuditEntry).find({ order: { id: 'DESC' }, take: 1 })
  return last?.id ?? 0
}

/**
 * Proof that the failed operation left nothing behind in the library: the
 * same instance (whose handlers were running when the fault hit, so a stuck
 * recursion flag would silence them) is saved again by another user, on a
 * new connection. Its Pre and Post events fire, its audit entry records the
 * committed value as old and the new user, its after-commit call runs, and
 * no action context is left over before or after.
 */
export async function expectCleanAfterwards(ds: DataSource, order: FaultOrder): Promise<void> {
  expect(currentAction()).toBeUndefined()
  resetObserved()
  const e = (name: string) => ds.driver.escape(name)
  const [row]: { amount: number | string }[] = await ds.query(`SELECT ${e('amount')} AS ${e('amount')} FROM ${e('flt_order')} WHERE ${e('id')} = ${Number(order.id)}`)
  const committed = Number(row!.amount)
  const after = await lastAuditId(ds)
  order.amount = committed + 100
  await runAction({ name: 'faults:after', user: { id: 'after-user' }, requestId: 'after-request' }, () => ds.getRepository(FaultOrder).save(order))
  expect(currentAction()).toBeUndefined()
  expect(observed.events).toEqual([`${order.name} Pre Update`, `${order.name} Post Update`])
  const entries = await ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })
  expect(entries.filter((entry) => entry.id > after)).toEqual([
    expect.objectContaining({
      entityName: 'FaultOrder',
      entityId: String(order.id),
      operation: 'update',
      userId: 'after-user',
      actionName: 'faults:after',
      requestId: 'after-request',
      changes: { amount: { old: committed, new: committed + 100 } },
    }),
  ])
  expect(observed.calls).toEqual([`${order.name} Update`])
  expect((await snapshot(ds)).orders.find((o) => o.id === order.id)?.amount).toBe(committed + 100)
}

/**
 * After a write that failed: exactly `events` ran, the tables are as `before`,
 * no after-commit callback ran; then the hook is cleared and the order saves
 * cleanly (expectCleanAfterwards).
 */
export async function expectRolledBack(ds: DataSource, order: FaultOrder, before: Snapshot, events: string[]): Promise<void> {
  expect(observed.events).toEqual(events)
  expect(await snapshot(ds)).toEqual(before)
  expect(observed.calls).toEqual([])
  observed.hook = undefined
  await expectCleanAfterwards(ds, order)
}

/** A server's SQL for this test's needs; undefined on SQLite. */
export const SQL =
  DB === 'postgres'
    ? {
        pid: 'SELECT pg_backend_pid() AS pid',
        sleep: 'SELECT pg_sleep(30)',
        kill: (pid: number) => `SELECT pg_terminate_backend(${pid})`,
        isSleeping: (pid: number) => `SELECT 1 AS x FROM pg_stat_activity WHERE pid = ${pid} AND state = 'active' AND query LIKE '%pg_sleep%'`,
        exists: (pid: number) => `SELECT 1 AS x FROM pg_stat_activity WHERE pid = ${pid}`,
      }
    : DB === 'mariadb'
      ? {
          pid: 'SELECT CONNECTION_ID() AS pid',
          sleep: 'SELECT SLEEP(30)',
          kill: (pid: number) => `KILL ${pid}`,
          isSleeping: (pid: number) => `SELECT 1 AS x FROM information_schema.PROCESSLIST WHERE ID = ${pid} AND INFO LIKE '%SLEEP(%'`,
          exists: (pid: number) => `SELECT 1 AS x FROM information_schema.PROCESSLIST WHERE ID = ${pid}`,
        }
      : undefined

/** Polls `sql` on `ds` until it returns a row (`present`) or none; gives up after `attempts`. */
export async function waitFor(ds: DataSource, sql: string, present: boolean, attempts = 1000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const rows: unknown[] = await ds.query(sql)
    if (rows.length > 0 === present) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`gave up waiting for ${present ? 'a row from' : 'no row from'}: ${sql}`)
}

/** The server's id of the connection `manager` runs on (inside a handler: the transaction's). */
export async function backendPid(manager: EntityManager): Promise<number> {
  const rows: { pid: number | string }[] = await manager.query(SQL!.pid)
  return Number(rows[0]!.pid)
}

import type { DataSource } from 'typeorm'

/** What the guard uses of a pg Pool and of its clients. */
interface PgPool {
  on(event: 'connect', listener: (client: PgClient) => void): unknown
  off(event: 'connect', listener: (client: PgClient) => void): unknown
}
interface PgClient {
  on(event: 'error', listener: (error: Error) => void): unknown
  listenerCount(event: 'error'): number
}

function isPool(value: unknown): value is PgPool {
  return typeof (value as PgPool | undefined)?.on === 'function' && typeof (value as PgPool).off === 'function'
}

/**
 * @internal Keeps a worker alive through a PostgreSQL restart: pg-pool hands
 * a new connection to a waiting TypeORM query runner as soon as it is
 * connected, and TypeORM attaches its 'error' listener a microtask later.
 * A server shutting down just then ("terminating connection due to
 * administrator command") emits 'error' on a client nobody listens to,
 * which ends the process. pg-pool's 'connect' event fires before the
 * hand-over, so a listener added there closes the gap. An error that only
 * this listener hears is reported through `report`; once TypeORM's own
 * listener is attached, TypeORM reports it. Returns the function that
 * removes the guard.
 */
export function guardConnectionErrors(dataSource: DataSource, report: (message: string) => void): () => void {
  if (dataSource.options.type !== 'postgres') return () => undefined
  const driver = dataSource.driver as unknown as { master?: unknown; slaves?: unknown[] }
  const pools = [driver.master, ...(driver.slaves ?? [])].filter(isPool)
  const onConnect = (client: PgClient): void => {
    client.on('error', (error) => {
      if (client.listenerCount('error') === 1) report(`a PostgreSQL connection of the worker's DataSource failed before TypeORM took it: ${error.message}`)
    })
  }
  for (const pool of pools) pool.on('connect', onConnect)
  return () => {
    for (const pool of pools) pool.off('connect', onConnect)
  }
}

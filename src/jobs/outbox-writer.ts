import type { QueryRunner } from 'typeorm'
import type { JobRecord } from '../transaction/pending-job'
import { outboxSql, type OutboxEngine } from './outbox-sql'

const COLUMNS = ['id', 'name', 'kind', 'key', 'payload', 'action', 'createdAt'] as const

// SQLite builds may allow only 999 bound parameters per statement (7 columns x 100 rows stays
// under it); PostgreSQL allows 65,535. The byte budget keeps a statement of large payloads under
// MySQL/MariaDB's max_allowed_packet (16 MB by default on MariaDB).
const ROWS_PER_INSERT: Readonly<Record<OutboxEngine, number>> = { sqlite: 100, postgres: 1000, mysql: 1000 }
const BYTES_PER_INSERT = 4 * 1024 * 1024

/**
 * @internal Writes `records` into the outbox through `queryRunner` (inside
 * its transaction, when one is open): one parameterized multi-row INSERT per
 * batch, written by hand as the audit entries are.
 */
export async function writeOutbox(queryRunner: QueryRunner, records: readonly JobRecord[]): Promise<void> {
  if (records.length === 0) return
  const sql = outboxSql(queryRunner.connection, `cannot store job '${records[0]!.name}'`)
  const columns = COLUMNS.map((c) => sql.column(c)).join(', ')
  // Node's clock, as for audit entries: a column default would read the database's time zone.
  const createdAt = sql.date('createdAt', new Date())
  const rowsPerInsert = ROWS_PER_INSERT[sql.engine]
  let params: unknown[] = []
  let tuples: string[] = []
  let bytes = 0
  const flush = async (): Promise<void> => {
    await queryRunner.query(`INSERT INTO ${sql.table} (${columns}) VALUES ${tuples.join(', ')}`, params)
    params = []
    tuples = []
    bytes = 0
  }
  for (const record of records) {
    const payload = JSON.stringify(record.payload ?? null)
    const action = record.action === undefined ? null : JSON.stringify(record.action)
    const size = payload.length + (action?.length ?? 0)
    if (tuples.length >= rowsPerInsert || (tuples.length > 0 && bytes + size > BYTES_PER_INSERT)) await flush()
    const values = [record.id, record.name, record.kind, record.key, payload, action, createdAt]
    tuples.push(`(${values.map((v) => (params.push(v), sql.param(params.length))).join(', ')})`)
    bytes += size
  }
  await flush()
}

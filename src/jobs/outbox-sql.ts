import type { DataSource } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { HardError } from '../basics/errors'
import type { JobAction, JobRecord } from '../transaction/pending-job'
import { JobOutboxEntry } from './job-outbox-entry'

/** @internal The three families of SQL the outbox is written for. */
export type OutboxEngine = 'postgres' | 'mysql' | 'sqlite'

/** @internal The outbox table's names and value conversions on one DataSource. */
export interface OutboxSql {
  readonly engine: OutboxEngine
  /** The escaped table name. */
  readonly table: string
  /** The escaped column of a JobOutboxEntry property. */
  column(property: keyof JobOutboxEntry): string
  /** The `index`-th (from 1) bound parameter. */
  param(index: number): string
  /** A SELECT item that reads a JSON column as text, aliased to its property. */
  jsonText(property: 'payload' | 'action'): string
  /** A date as the driver stores it in a created_at or sent_at column. */
  date(property: 'createdAt' | 'sentAt', value: Date): unknown
}

/** @internal An outbox row as the relay selects it. */
export interface OutboxRow {
  readonly id: string
  readonly name: string
  readonly kind: string
  readonly key: string
  readonly payload: unknown
  readonly action: unknown
}

const ENGINES: Readonly<Record<string, OutboxEngine>> = {
  postgres: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'sqlite',
  'better-sqlite3': 'sqlite',
}

const cache = new WeakMap<DataSource, OutboxSql>()

/**
 * @internal The outbox SQL of `dataSource`, or a HardError starting with
 * `what` (e.g. "cannot store job 'mail:welcome'") when it has no outbox table.
 */
export function outboxSql(dataSource: DataSource, what: string): OutboxSql {
  const known = cache.get(dataSource)
  if (known) return known
  const { driver } = dataSource
  const engine = ENGINES[driver.options.type]
  if (!engine) {
    throw new HardError(`${what}: bullMqJobs keeps its outbox on PostgreSQL, MySQL/MariaDB or SQLite, not '${driver.options.type}'`)
  }
  if (!dataSource.hasMetadata(JobOutboxEntry)) {
    throw new HardError(
      `${what}: the DataSource has no JobOutboxEntry entity (the BullMQ outbox); ` +
        'withEventActions(options, { jobs: bullMqJobs(...) }) adds it, or list JobOutboxEntry in its entities',
    )
  }
  const metadata = dataSource.getMetadata(JobOutboxEntry)
  const columnOf = (property: string): ColumnMetadata => metadata.findColumnWithPropertyName(property)!
  const column = (property: string): string => driver.escape(columnOf(property).databaseName)
  // PostgreSQL's driver would hand json back parsed and MySQL's JSON type too: as text, a JSON string stays one.
  // SQLite gives text, or a number (its "json" column has numeric affinity): read as it is, since
  // older SQLite versions cast a REAL to text with 15 significant digits only.
  const textType = engine === 'postgres' ? 'text' : 'char'
  const sql: OutboxSql = {
    engine,
    table: driver.escape(metadata.tableName),
    column,
    param: engine === 'postgres' ? (index) => `$${index}` : () => '?',
    jsonText: (property) => `${engine === 'sqlite' ? column(property) : `CAST(${column(property)} AS ${textType})`} AS ${driver.escape(property)}`,
    date: (property, value) => driver.preparePersistentValue(value, columnOf(property)),
  }
  cache.set(dataSource, sql)
  return sql
}

/** @internal The SELECT list of the relay, aliased to OutboxRow's fields. */
export function outboxSelectList(sql: OutboxSql, escape: (alias: string) => string): string {
  const plain = (['id', 'name', 'kind', 'key'] as const).map((p) => `${sql.column(p)} AS ${escape(p)}`)
  return [...plain, sql.jsonText('payload'), sql.jsonText('action')].join(', ')
}

function parseJson(row: OutboxRow, field: 'payload' | 'action'): unknown {
  const value = row[field]
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value) as unknown
  } catch (error) {
    throw new HardError(`outbox row ${row.id} (job '${row.name}'): its ${field} is not JSON: ${JSON.stringify(value.slice(0, 60))}`, { cause: error })
  }
}

/** @internal The job record an outbox row holds. */
export function recordOfRow(row: OutboxRow): JobRecord {
  const action = parseJson(row, 'action')
  return {
    id: String(row.id),
    name: row.name,
    kind: row.kind === 'durable' ? 'durable' : 'enqueue',
    key: row.key,
    payload: parseJson(row, 'payload'),
    action: action === null || action === undefined ? undefined : (action as JobAction),
  }
}

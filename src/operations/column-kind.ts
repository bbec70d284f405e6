import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'

/**
 * @internal What kind of value a column holds, across the database types of
 * SQLite, PostgreSQL and MariaDB/MySQL. `integer` and `float` are the types
 * drivers hand back as JS numbers; `bigint` and `decimal` come back as
 * strings; `date` is a date without time (a `YYYY-MM-DD` string).
 */
export type ColumnKind = 'integer' | 'bigint' | 'float' | 'decimal' | 'boolean' | 'datetime' | 'date' | 'string' | 'json' | 'other'

const KINDS = new Map<string, ColumnKind>([
  ...['int', 'integer', 'smallint', 'tinyint', 'mediumint', 'int2', 'int4', 'serial', 'smallserial'].map((t) => [t, 'integer'] as const),
  ...['bigint', 'int8', 'bigserial'].map((t) => [t, 'bigint'] as const),
  ...['float', 'double', 'real', 'double precision', 'float4', 'float8'].map((t) => [t, 'float'] as const),
  ...['decimal', 'numeric', 'dec', 'fixed'].map((t) => [t, 'decimal'] as const),
  ...['boolean', 'bool'].map((t) => [t, 'boolean'] as const),
  ...['datetime', 'timestamp', 'timestamptz', 'timestamp with time zone', 'timestamp without time zone', 'datetime2'].map((t) => [t, 'datetime'] as const),
  ['date', 'date'],
  ...['varchar', 'character varying', 'char', 'character', 'nvarchar', 'nchar', 'text', 'tinytext', 'mediumtext', 'longtext', 'citext', 'string', 'uuid'].map(
    (t) => [t, 'string'] as const,
  ),
  ...['json', 'jsonb', 'simple-json', 'simple-array'].map((t) => [t, 'json'] as const),
])

/** @internal The column's type as a lower-case name; `@Column()` without a type gives the design type. */
export function columnTypeName(column: ColumnMetadata): string {
  const t = column.type as unknown
  if (t === Number) return 'number'
  if (t === Boolean) return 'boolean'
  if (t === Date) return 'datetime'
  if (t === String) return 'varchar'
  return String(t).toLowerCase()
}

/** @internal */
export function columnKind(column: ColumnMetadata): ColumnKind {
  const name = columnTypeName(column)
  // `@Column() n!: number` without a type: TypeORM makes it an integer column on every database.
  if (name === 'number') return 'integer'
  return KINDS.get(name) ?? 'other'
}

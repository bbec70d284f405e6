import type { DataSource, EntityMetadata, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { columnKind } from './column-kind'
import { HardError } from '../basics/errors'
import { describeKey, describeValue } from '../basics/describe-value'

/** @internal How the keys of raw rows map to an entity's columns. */
export interface RowMapping {
  /**
   * The row's keys that map to columns, with their column. Keys of another
   * alias (a joined table's `l_id` next to the main `o_id`) are left out:
   * the alias most keys share is the row's.
   */
  resolve(keys: readonly string[]): { key: string; column: ColumnMetadata }[]
}

// Keys that must never be treated as attribute names, whatever the row says.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

interface KeyMatch {
  readonly column: ColumnMetadata
  /** The alias part of an `alias_column` key; undefined for exact names. */
  readonly alias: string | undefined
}

/** Keys longer than this are matched each time, never cached. */
const MAX_CACHED_KEY_LENGTH = 256
/** How many `alias_column` and unknown keys each entity's mapping remembers (least recently used go first). */
const MAX_CACHED_KEYS = 512

/** The `alias_column` and unknown keys a mapping has matched: a small LRU of short keys. */
class KeyCache {
  private readonly entries = new Map<string, KeyMatch | undefined>()

  has(key: string): boolean {
    return key.length <= MAX_CACHED_KEY_LENGTH && this.entries.has(key)
  }

  get(key: string): KeyMatch | undefined {
    const found = this.entries.get(key)
    // Map keeps insertion order: moving a hit to the end makes the first key the least recently used.
    this.entries.delete(key)
    this.entries.set(key, found)
    return found
  }

  set(key: string, match: KeyMatch | undefined): void {
    if (key.length > MAX_CACHED_KEY_LENGTH) return
    if (this.entries.size >= MAX_CACHED_KEYS) this.entries.delete(this.entries.keys().next().value as string)
    this.entries.set(key, match)
  }
}

// The one cache of raw-row mappings per entity.
const mappings = new WeakMap<EntityMetadata, RowMapping>()

/**
 * @internal Raw keys may be property paths (`postcode`), database column
 * names (`post_code`), or QueryBuilder raw aliases (`account_post_code`,
 * `<alias>_<column>`); the longest database name that ends a key wins.
 */
export function rowMappingOf(metadata: EntityMetadata): RowMapping {
  let mapping = mappings.get(metadata)
  if (mapping) return mapping
  const columns = metadata.columns.filter((c) => !c.isVirtual && !c.isDiscriminator)
  const exact = new Map<string, ColumnMetadata>()
  for (const c of columns) exact.set(c.databaseName, c)
  for (const c of columns) exact.set(c.propertyPath, c)
  const bySuffix = [...columns].sort((a, b) => b.databaseName.length - a.databaseName.length)
  // Rows come from the outside: the keys seen are bounded, so that unknown or huge keys cannot pile up.
  const cache = new KeyCache()
  const matchOf = (key: string): KeyMatch | undefined => {
    if (FORBIDDEN_KEYS.has(key)) return undefined
    const exactColumn = exact.get(key)
    if (exactColumn) return { column: exactColumn, alias: undefined }
    if (cache.has(key)) return cache.get(key)
    const column = bySuffix.find((c) => key.length > c.databaseName.length + 1 && key.endsWith(`_${c.databaseName}`))
    const found = column ? { column, alias: key.slice(0, key.length - column.databaseName.length - 1) } : undefined
    cache.set(key, found)
    return found
  }
  mapping = {
    resolve(keys) {
      const matches = keys.map((key) => ({ key, match: matchOf(key) }))
      const counts = new Map<string, number>()
      for (const { match } of matches) if (match?.alias !== undefined) counts.set(match.alias, (counts.get(match.alias) ?? 0) + 1)
      let alias: string | undefined
      for (const [name, n] of counts) if (alias === undefined || n > counts.get(alias)!) alias = name
      const taken = new Set<ColumnMetadata>()
      const out: { key: string; column: ColumnMetadata }[] = []
      // Exact names first, so that `id` beats `o_id` for the same column.
      for (const { key, match } of [...matches].sort((a, b) => Number(a.match?.alias !== undefined) - Number(b.match?.alias !== undefined))) {
        if (!match || (match.alias !== undefined && match.alias !== alias) || taken.has(match.column)) continue
        taken.add(match.column)
        out.push({ key, column: match.column })
      }
      return out
    },
  }
  mappings.set(metadata, mapping)
  return mapping
}

const INTEGER_TEXT = /^\s*[-+]?\d+\s*$/
const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/
const BOOLEANS = new Map<unknown, boolean>([[true, true], [false, false], [1, true], [0, false], ['1', true], ['0', false], ['true', true], ['false', false], ['t', true], ['f', false]])

/**
 * @internal A `YYYY-MM-DD` at the start of `text` that names no day of the
 * calendar (`2024-02-30`). `new Date()` and the drivers roll such a date over
 * into the next month instead of refusing it.
 */
export function impossibleCalendarDate(text: string): boolean {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(text)
  if (!m) return false
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const d = new Date(Date.UTC(year, month - 1, day))
  return d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day
}

/**
 * @internal A raw value converted the way TypeORM hydrates a loaded column
 * (driver conversion and transformers), with checks TypeORM does not make:
 * a value that cannot be the column's type throws a HardError naming the
 * row, the column and the value.
 */
// Long: one case per column kind, so that every conversion a raw value can take is read in one place.
export function convertRawValue(
  connection: DataSource,
  entityName: string,
  column: ColumnMetadata,
  value: unknown,
  rowIndex: number,
  key: string,
): unknown {
  const fail = (why: string): HardError =>
    new HardError(
      `${entityName} row ${rowIndex}: column '${describeKey(key)}' (${column.propertyPath}) ${why}: ${describeValue(value)}`,
      { entityName, attribute: column.propertyPath },
    )
  if (value === null || value === undefined) {
    if (value === null && !column.isNullable && !column.isGenerated && column.default === undefined) {
      throw fail('is not nullable, got null')
    }
    return value === undefined ? undefined : null
  }
  // PostgreSQL array columns: the driver parses the list (pg gives an array, a raw literal is a string).
  if (column.isArray) {
    if (!Array.isArray(value) && typeof value !== 'string') throw fail('needs a list')
    return hydrate(connection, column, value, fail)
  }
  const kind = columnKind(column)
  let raw = value
  switch (kind) {
    case 'integer':
    case 'float': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && NUMBER_TEXT.test(raw) ? Number(raw) : NaN
      if (!Number.isFinite(n)) throw fail('needs a number')
      if (kind === 'integer' && !Number.isInteger(n)) throw fail('needs a whole number')
      raw = n
      break
    }
    case 'bigint':
    case 'decimal': {
      // Drivers give these as strings, so that no digit is lost: they stay strings.
      const ok = typeof raw === 'bigint' || (typeof raw === 'number' && Number.isFinite(raw)) || (typeof raw === 'string' && (kind === 'bigint' ? INTEGER_TEXT : NUMBER_TEXT).test(raw))
      if (!ok) throw fail(kind === 'bigint' ? 'needs a whole number' : 'needs a number')
      if (kind === 'bigint' && typeof raw === 'number' && !Number.isInteger(raw)) throw fail('needs a whole number')
      break
    }
    case 'boolean':
      if (!BOOLEANS.has(raw)) throw fail('needs a boolean')
      raw = BOOLEANS.get(raw) as boolean
      break
    case 'datetime': {
      if (!(raw instanceof Date) && typeof raw !== 'string' && typeof raw !== 'number') throw fail('needs a date and time')
      if (typeof raw === 'string' && impossibleCalendarDate(raw)) throw fail('is not a date of the calendar')
      // The driver knows how its database writes dates (SQLite: UTC text without a zone), so it reads them first.
      const hydrated = hydrate(connection, column, raw, fail)
      if (column.transformer) return hydrated
      const d = hydrated instanceof Date ? hydrated : new Date(hydrated as string | number)
      if (Number.isNaN(d.getTime())) throw fail('needs a date and time')
      return d
    }
    case 'date':
      if (raw instanceof Date ? Number.isNaN(raw.getTime()) : typeof raw !== 'string' || !/^\s*\d{4}-\d{2}-\d{2}/.test(raw)) {
        throw fail('needs a date (YYYY-MM-DD)')
      }
      if (typeof raw === 'string' && impossibleCalendarDate(raw)) throw fail('is not a date of the calendar')
      break
    case 'string':
      // A number is what the database would store as its digits; anything else is a mistake, not a string.
      if (typeof raw === 'number' || typeof raw === 'bigint') raw = String(raw)
      if (typeof raw !== 'string') throw fail('needs a string')
      if (column.length && Number(column.length) > 0 && raw.length > Number(column.length)) {
        throw fail(`is longer than its ${column.length} characters (${raw.length})`)
      }
      break
    default:
  }
  if (kind !== 'json' && typeof raw === 'object' && !(raw instanceof Date) && !Buffer.isBuffer(raw)) {
    throw fail('needs a plain value, got an object')
  }
  const hydrated = hydrate(connection, column, raw, fail)
  // Booleans were normalized above; without a transformer that is the value.
  return kind === 'boolean' && !column.transformer ? raw : hydrated
}

/** The driver's own conversion of a loaded value (its types, then transformers). */
function hydrate(connection: DataSource, column: ColumnMetadata, raw: unknown, fail: (why: string) => HardError): unknown {
  try {
    return connection.driver.prepareHydratedValue(raw, column) as unknown
  } catch (error) {
    const wrapped = fail('could not be converted')
    ;(wrapped as { cause?: unknown }).cause = error
    throw wrapped
  }
}

/** @internal Throws unless `rows` is an array of plain objects. */
export function checkRows(entityName: string, rows: unknown): asserts rows is ObjectLiteral[] {
  if (!Array.isArray(rows)) throw new HardError(`fromRecordSet(${entityName}) needs an array of rows, got ${typeof rows}`, { entityName })
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new HardError(`fromRecordSet(${entityName}) row ${i} is not an object: ${describeValue(row)}`, { entityName })
    }
  })
}

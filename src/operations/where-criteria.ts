import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { columnKind } from './column-kind'
import { HardError } from '../basics/errors'
import { impossibleCalendarDate } from './record-set'
import { describeValue } from '../basics/describe-value'

const INTEGER_TEXT = /^\s*[-+]?\d+\s*$/
const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/

/** TypeORM's operators (`In`, `Like`, `IsNull`, ...) mark themselves this way in 0.3 and 1.x alike. */
function isFindOperator(value: object): boolean {
  return (value as { '@instanceof'?: unknown })['@instanceof'] === Symbol.for('FindOperator')
}

function isPlainObject(value: unknown): value is ObjectLiteral {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

const NUL_PROBLEM =
  'contains a NUL character (\\u0000), which PostgreSQL refuses in text (SQLite and MariaDB would match nothing): refused on every database'

/** A text with a NUL character, given as is, to an operator (`Like`, `In([...])`) or as a relation's id. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0')
  if (typeof value !== 'object' || value === null || !isFindOperator(value)) return false
  const operand: unknown = (value as { value?: unknown }).value
  return Array.isArray(operand) ? operand.some((v) => typeof v === 'string' && v.includes('\0')) : typeof operand === 'string' && operand.includes('\0')
}

/** Why `value` cannot be compared with `column`, or undefined when it can. */
function valueProblem(column: ColumnMetadata, value: unknown): string | undefined {
  const kind = columnKind(column)
  if (kind === 'json' || column.isArray || column.transformer) return undefined
  if (Array.isArray(value)) return 'needs one value (for a list, use In([...]))'
  switch (kind) {
    case 'integer':
    case 'bigint':
      if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return undefined
      return typeof value === 'string' && INTEGER_TEXT.test(value) ? undefined : 'needs a whole number'
    case 'float':
    case 'decimal':
      if (typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) return undefined
      return typeof value === 'string' && NUMBER_TEXT.test(value) ? undefined : 'needs a number'
    case 'boolean':
      return typeof value === 'boolean' || value === 0 || value === 1 ? undefined : 'needs a boolean'
    case 'datetime':
    case 'date':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'needs a valid date' : undefined
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || impossibleCalendarDate(value)) return 'needs a date'
      return undefined
    case 'string':
      return typeof value === 'string' ? undefined : 'needs a string'
    default:
      return typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value) ? 'needs a plain value' : undefined
  }
}

/**
 * @internal Checks the where criteria of `EventActions.exists`,
 * `updateWhere` and `deleteWhere` before any SQL, and throws a `HardError`
 * naming entity, attribute and value for criteria that would match other
 * rows than the caller meant, differently per database:
 * - `undefined` or `null`: TypeORM 0.3 drops the condition (so `{ id:
 *   entity.id }` of an unsaved entity matches every row) and TypeORM 1.x
 *   refuses it; `IsNull()` says "is NULL";
 * - a text with a NUL character (also inside an operator): PostgreSQL
 *   fails the query, SQLite and MariaDB answer no row;
 * - a value that is not of the column's type: MariaDB compares a string with
 *   a number column as a number (`'1 OR 1=1'` matches 1) and a number with a
 *   string column likewise (`0` matches `'abc'`), PostgreSQL refuses it with
 *   a driver error, SQLite matches nothing.
 * Values are bound as parameters, so no value ever changes the SQL.
 * Operators (`In`, `Like`, ...) and JSON columns pass as given.
 */
export function checkWhere(metadata: EntityMetadata, where: unknown, label: string): void {
  const list = Array.isArray(where) ? (where as unknown[]) : [where]
  if (Array.isArray(where) && where.length === 0) {
    // OR of no condition: TypeORM would build no WHERE at all and match every row.
    throw new HardError(`${label} needs at least one where object, got []`, { entityName: metadata.name })
  }
  for (const w of list) {
    if (!isPlainObject(w)) throw new HardError(`${label} needs a where object, got ${describeValue(w)}`, { entityName: metadata.name })
    checkObject(metadata, '', w, label, metadata.name)
  }
}

function checkObject(metadata: EntityMetadata, prefix: string, where: ObjectLiteral, label: string, root: string): void {
  for (const key of Object.keys(where)) {
    const attr = prefix + key
    const value: unknown = where[key]
    const relation = metadata.findRelationWithPropertyPath(attr)
    const column = relation ? undefined : metadata.findColumnWithPropertyPath(attr)
    const embedded = relation || column ? undefined : metadata.findEmbeddedWithPropertyPath(attr)
    if (!relation && !column && !embedded) throw HardError.unknownAttribute(metadata.name, attr, label)
    const fail = (why: string): HardError =>
      new HardError(`${label}: ${metadata.name}.${attr} in the where criteria ${why}, got ${describeValue(value)}`, {
        entityName: root,
        attribute: metadata.name === root ? attr : `${metadata.name}.${attr}`,
      })
    if (value === undefined) throw fail('is undefined (TypeORM 0.3 would drop the condition and match every row)')
    if (value === null) throw fail('is null (for SQL NULL, use IsNull())')
    if (hasNul(value)) throw fail(NUL_PROBLEM)
    if (typeof value === 'object' && isFindOperator(value)) continue
    if (relation) {
      // A nested where on the related entity; an entity instance or a plain id goes to TypeORM as given.
      if (isPlainObject(value)) checkObject(relation.inverseEntityMetadata, '', value, label, root)
      continue
    }
    if (embedded) {
      if (!isPlainObject(value)) throw fail('needs an object of its columns')
      checkObject(metadata, `${attr}.`, value, label, root)
      continue
    }
    const problem = valueProblem(column!, value)
    if (problem) throw fail(problem)
  }
}

/** @internal `{}` matches every row: as TypeORM's own update()/delete(), a bulk write must say which rows. */
export function refuseEmptyCriteria(entityName: string, operation: string, where: object, verb: string): void {
  if (Object.keys(where).length > 0) return
  throw new HardError(
    `${operation}(${entityName}) got empty criteria {}, which would ${verb} every row. ` +
      `To ${verb} every row on purpose, load them with find() and save()/remove() them.`,
    { entityName },
  )
}

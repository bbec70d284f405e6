import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { CliError } from './cli-error'

// Column types whose values TypeORM hands over as JS numbers. bigint and
// decimal come back as strings from the drivers, so they stay strings.
const NUMERIC_TYPES = new Set<unknown>([
  Number, 'int', 'int2', 'int4', 'integer', 'smallint', 'mediumint', 'tinyint', 'float', 'float4', 'float8', 'double', 'double precision', 'real',
])

/** A composite key part as the audit entry records it: numbers for numeric columns, strings otherwise. */
function keyValue(column: ColumnMetadata, value: unknown, entityName: string): string | number {
  if (NUMERIC_TYPES.has(column.type)) {
    const n = typeof value === 'number' ? value : Number(value)
    if (typeof value === 'boolean' || value === null || value === '' || !Number.isFinite(n)) {
      throw CliError.usage(`${entityName}.${column.propertyPath} is a number, got ${JSON.stringify(value)}`)
    }
    return n
  }
  if (typeof value === 'object' && value !== null) {
    throw CliError.usage(`${entityName}.${column.propertyPath} takes a plain value, got ${JSON.stringify(value)}`)
  }
  return String(value)
}

function keyPairs(raw: string, entityName: string, example: string): Record<string, unknown> {
  if (raw.trim().startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch (error) {
      throw CliError.usage(`the id of ${entityName} is not valid JSON (${(error as Error).message}); example: ${example}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw CliError.usage(`the id of ${entityName} must be a JSON object; example: ${example}`)
    }
    return parsed as Record<string, unknown>
  }
  const pairs: Record<string, unknown> = {}
  for (const part of raw.split(',')) {
    const at = part.indexOf('=')
    if (at <= 0) throw CliError.usage(`${entityName} has a composite key: give the id as ${example}`)
    pairs[part.slice(0, at).trim()] = part.slice(at + 1)
  }
  return pairs
}

/**
 * The id argument as `auditTrail` takes it. A single key is used as typed
 * (entries store `String(key)`, whatever its type); `id=7` and `{"id":7}`
 * are accepted too. A composite key is `{"region":"eu","number":7}` or
 * `region=eu,number=7`, each part converted to the column's kind, because
 * entries store the key as JSON in which `7` and `"7"` differ.
 */
export function parseEntityId(metadata: EntityMetadata, raw: string): string | ObjectLiteral {
  const keys = metadata.primaryColumns
  if (keys.length === 0) throw new CliError(`${metadata.name} has no primary key, so it has no audit trail`)
  const names = keys.map((c) => c.propertyPath)
  const example = `'${JSON.stringify(Object.fromEntries(keys.map((c) => [c.propertyPath, NUMERIC_TYPES.has(c.type) ? 1 : 'a'])))}' or ${names.map((n) => `${n}=...`).join(',')}`
  if (keys.length === 1) {
    const single = keys[0]!
    const prefixed = raw.startsWith(`${single.propertyPath}=`) || raw.trim().startsWith('{')
    if (!prefixed) return raw
    const pairs = keyPairs(raw, metadata.name, example)
    if (Object.keys(pairs).length !== 1 || !(single.propertyPath in pairs)) {
      throw CliError.usage(`the key of ${metadata.name} is ${single.propertyPath}; give the id as ${raw.startsWith('{') ? example : 'its value'}`)
    }
    return String(keyValue(single, pairs[single.propertyPath], metadata.name))
  }
  const pairs = keyPairs(raw, metadata.name, example)
  const unknown = Object.keys(pairs).filter((k) => !names.includes(k))
  const missing = names.filter((n) => !(n in pairs))
  if (unknown.length || missing.length) {
    throw CliError.usage(
      `the key of ${metadata.name} is (${names.join(', ')})` +
        (missing.length ? `; missing: ${missing.join(', ')}` : '') +
        (unknown.length ? `; not a key: ${unknown.join(', ')}` : '') +
        `; example: ${example}`,
    )
  }
  return Object.fromEntries(keys.map((c) => [c.propertyPath, keyValue(c, pairs[c.propertyPath], metadata.name)]))
}

import { describeValue } from '../basics/describe-value'
import { HardError, type EventActionErrorOptions } from '../basics/errors'
import { JobPayloadError } from './job-payload-error'

/** Where a payload came from, for the error. */
export interface PayloadOrigin {
  readonly jobName: string
  /** e.g. `"Order's Post Insert handler"` or `"action 'orders:submit'"`. */
  readonly where: string
  readonly entityName?: string
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
// Objects JSON.stringify turns into {} (or loses silently): refused rather than stored wrong.
const LOSSY: readonly (abstract new (...args: never[]) => object)[] = [Map, Set, WeakMap, WeakSet, RegExp, Promise, Error]

function problemIn(value: unknown, path: string, seen: Set<object>): [string, string] | undefined {
  switch (typeof value) {
    case 'string':
      // PostgreSQL stores no NUL in text or jsonb: refused on every database, so a payload means the same everywhere.
      return value.includes('\u0000') ? [path, 'a string with a NUL character (U+0000) cannot be stored (PostgreSQL refuses it)'] : undefined
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : [path, `${String(value)} is not a JSON number`]
    case 'undefined':
      // JSON leaves an undefined property out, which reads back the same.
      return undefined
    case 'object':
      break
    default:
      return [path, `a ${typeof value} is not JSON`]
  }
  if (value === null) return undefined
  if (seen.has(value)) return [path, 'a cycle (the value contains itself) is not JSON']
  if (LOSSY.some((type) => value instanceof type)) {
    return [path, `a ${value.constructor.name} is not JSON (it would arrive as {}); pass an array or a plain object`]
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON
  // Date, Buffer, decimal types: what JSON.stringify stores is what toJSON returns.
  if (typeof toJSON === 'function') {
    if (value instanceof Date && Number.isNaN(value.getTime())) return [path, 'an invalid Date is not JSON']
    seen.add(value)
    const problem = problemIn((toJSON as () => unknown).call(value), path, seen)
    seen.delete(value)
    return problem
  }
  const array = Array.isArray(value)
  seen.add(value)
  const entries: [string, unknown][] = array ? value.map((v, i) => [`${path}[${i}]`, v]) : Object.entries(value).map(([k, v]) => [IDENTIFIER.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, v])
  if (!array && Object.keys(value).some((k) => k.includes('\u0000'))) return [path, 'a key with a NUL character (U+0000) cannot be stored (PostgreSQL refuses it)']
  for (const [at, v] of entries) {
    const problem = problemIn(v, at, seen)
    if (problem) return problem
  }
  seen.delete(value)
  return undefined
}

/**
 * Whether `value` is made of strings without NUL, finite numbers, booleans,
 * null, plain objects and arrays only, without cycles (`depth` guards them):
 * the common payload, checked without building the path of each value that
 * {@link problemIn} builds to name a problem. Anything else (a Date, a
 * toJSON, a class instance) is left to problemIn.
 */
function plainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !value.includes('\u0000')
    case 'number':
      return Number.isFinite(value)
    case 'boolean':
    case 'undefined':
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) return true
  if (depth > PLAIN_DEPTH) return false
  if (Array.isArray(value)) {
    for (const item of value) if (!plainJson(item, depth + 1)) return false
    return true
  }
  if (Object.getPrototypeOf(value) !== Object.prototype || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false
  for (const key in value) {
    if (key.includes('\u0000') || !plainJson((value as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}

// Deeper than this, the exact walk (which finds cycles) decides.
const PLAIN_DEPTH = 64

/**
 * @internal The payload as JSON, checked to read back as the same value (Dates
 * become ISO strings, as everywhere in JSON): refused with
 * {@link JobPayloadError} when it would not, or when it is over `maxBytes`.
 */
export function checkJobPayload(payload: unknown, maxBytes: number, origin: PayloadOrigin): string {
  const problem = plainJson(payload, 0) ? undefined : problemIn(payload, '$', new Set())
  const { jobName, where, entityName } = origin
  if (problem) {
    throw new JobPayloadError(`job '${jobName}' from ${where}: its payload is not JSON at ${problem[0]}: ${problem[1]} (${describeValue(payload)})`, jobName, problem[0], { entityName })
  }
  const json = JSON.stringify(payload ?? null)
  const bytes = Buffer.byteLength(json, 'utf8')
  if (bytes > maxBytes) {
    throw new JobPayloadError(
      `job '${jobName}' from ${where}: its payload is ${bytes} bytes of JSON, over the limit of ${maxBytes} (maxPayloadBytes); store the data in a table and enqueue its key`,
      jobName,
      undefined,
      { entityName },
    )
  }
  return json
}

const CONTROL = /[\u0000-\u001f\u007f]/

function checkText(what: string, value: unknown, where: string, options: EventActionErrorOptions): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new HardError(`${where}: ${what} must be a non-empty string, got ${describeValue(value)}`, options)
  }
  if (value.length > 255 || CONTROL.test(value)) {
    throw new HardError(`${where}: ${what} must have at most 255 characters and no control characters, got ${describeValue(value.slice(0, 60))}`, options)
  }
}

/** @internal Throws unless `name` can name a job on every engine. */
export function checkJobName(name: unknown, where: string, options: EventActionErrorOptions = {}): asserts name is string {
  checkText('the job name', name, where, options)
  // A worker runs a job without an action inside the action 'job:<name>', and action names refuse '*'.
  if (name.includes('*')) throw new HardError(`${where}: a job name may not contain '*', got ${JSON.stringify(name)}`, options)
}

/** @internal Throws unless `key` is a usable job key. */
export function checkJobKey(key: unknown, where: string, options: EventActionErrorOptions = {}): asserts key is string {
  checkText('the job key', key, where, options)
}

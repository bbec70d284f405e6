/** The longest text of a value or key an error message shows; longer ones are cut and their length given. */
const SHOWN_CHARACTERS = 80

/** @internal A value for an error message: JSON, cut at 80 characters, with its length when cut. */
export function describeValue(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : `Date ${value.toISOString()}`
  if (typeof value === 'bigint') return `${value}n`
  // JSON would show NaN and the infinities as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    // A cyclic object or a throwing toJSON: its type is all the message needs.
    text = Object.prototype.toString.call(value)
  }
  return cut(text)
}

/**
 * @internal A key or name for an error message, as given (no quotes added),
 * cut like a value: a 10 MB key must not make a 10 MB message.
 */
export function describeKey(key: string): string {
  return cut(key)
}

function cut(text: string): string {
  return text.length > SHOWN_CHARACTERS ? `${text.slice(0, SHOWN_CHARACTERS)}... (${text.length} characters)` : text
}

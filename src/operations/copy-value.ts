/**
 * @internal A value as BO2BO copies it: dates and plain objects/arrays by
 * value, so that changing the copy never changes the source; class instances
 * and primitives as they are.
 */
export function copyValue(value: unknown): unknown {
  if (value instanceof Date) return new Date(value.getTime())
  if (Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
    return structuredClone(value)
  }
  return value
}

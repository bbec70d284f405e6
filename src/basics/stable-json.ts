import type { ObjectLiteral } from 'typeorm'

/** @internal JSON with sorted keys, so that a composite key has one string form. */
export function stableJson(value: ObjectLiteral): string {
  return JSON.stringify(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])))
}

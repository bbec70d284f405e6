import type { DataSource, EntityMetadata } from 'typeorm'
import { CliError } from './cli-error'

/** The entities a user can name: junction tables of many-to-many relations are TypeORM's, not theirs. */
export function entityNames(dataSource: DataSource): string[] {
  return dataSource.entityMetadatas
    .filter((m) => m.tableType !== 'junction')
    .map((m) => m.name)
    .sort((a, b) => a.localeCompare(b))
}

/**
 * The entity called `name` (its class name, as audit entries record it).
 * A different case is accepted when it names exactly one entity, so that
 * `audit order 1` works for `Order`.
 */
export function findEntity(dataSource: DataSource, name: string): EntityMetadata {
  const candidates = dataSource.entityMetadatas.filter((m) => m.tableType !== 'junction')
  const exact = candidates.find((m) => m.name === name)
  if (exact) return exact
  const folded = candidates.filter((m) => m.name.toLowerCase() === name.toLowerCase())
  if (folded.length === 1) return folded[0]!
  const known = entityNames(dataSource)
  throw new CliError(`unknown entity '${name}'; the data source has: ${known.length ? known.join(', ') : 'no entities'}`)
}

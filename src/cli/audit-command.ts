import type { AuditEntry } from '../audit/audit-entry'
import { CliError, oneLine } from './cli-error'
import type { CommandIo, CommandOptions } from './command-io'
import { findEntity } from './find-entity'
import { libraryOf } from './library-instance'
import { loadDataSource } from './load-data-source'
import { openDataSource } from './open-data-source'
import { parseEntityId } from './parse-entity-id'
import { auditJson, renderAuditTable } from './render-audit-trail'

/**
 * `audit <Entity> <id> -d <file>`: the entity's audit timeline, oldest
 * first, as a table or (`--json`) as JSON. An id without entries is not an
 * error: the entity may be unaudited so far, or the id mistyped; either way
 * the answer is "no entries".
 */
export async function auditCommand(entityName: string, rawId: string, options: CommandOptions, io: CommandIo): Promise<void> {
  const { dataSource } = await loadDataSource(options.dataSourceFile)
  const { name, entries } = await openDataSource(dataSource, options.verbose, async (ds) => {
    const metadata = findEntity(ds, entityName)
    const id = parseEntityId(metadata, rawId)
    const library = libraryOf(ds)
    if (library.warning) io.err(`typeorm-event-actions: note: ${library.warning}\n`)
    if (!ds.entityMetadatas.some((m) => m.name === 'AuditEntry')) {
      throw new CliError('the data source has no AuditEntry entity: create its options with withEventActions(options)')
    }
    try {
      return { name: metadata.name, entries: (await library.api.auditTrail(ds, metadata.target, id)) as AuditEntry[] }
    } catch (error) {
      throw new CliError(`cannot read the audit trail of ${metadata.name} ${rawId}: ${oneLine(error)}`, { cause: error })
    }
  })
  io.out(options.json ? auditJson(entries) : renderAuditTable(name, rawId, entries))
}

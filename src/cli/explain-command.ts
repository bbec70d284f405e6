import type { CommandIo, CommandOptions } from './command-io'
import { explainEntity } from './explain-entity'
import { findEntity } from './find-entity'
import { libraryOf } from './library-instance'
import { loadDataSource } from './load-data-source'
import { openDataSource } from './open-data-source'
import { renderExplanation } from './render-explanation'

/**
 * `explain <Entity> -d <file>`: the entity's handlers, automatics, audit and
 * validation settings, and the order of what happens for each event type.
 * The DataSource is initialized because entity names, tables and keys come
 * from TypeORM's metadata, which it builds only then.
 */
export async function explainCommand(entityName: string, options: CommandOptions, io: CommandIo): Promise<void> {
  const { dataSource } = await loadDataSource(options.dataSourceFile)
  const explanation = await openDataSource(dataSource, options.verbose, async (ds) => {
    const library = libraryOf(ds)
    if (library.warning) io.err(`typeorm-event-actions: note: ${library.warning}\n`)
    return explainEntity(findEntity(ds, entityName), library)
  })
  io.out(options.json ? `${JSON.stringify(explanation, null, 2)}\n` : renderExplanation(explanation))
}

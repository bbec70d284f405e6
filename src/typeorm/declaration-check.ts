import { DataSource } from 'typeorm'
import { auditedOptionsOf } from '../audit/audited'
import { ourSubscriber } from './our-subscriber'
import { patchMethod } from './patch-method'

/**
 * @internal Wraps DataSource.buildMetadatas (part of initialize()): once the
 * entities are known, a DataSource with our subscriber checks the names its
 * entities give `@Audited({ exclude, only })`, so that a typo (`'passwrd'`)
 * fails initialize() with a HardError naming entity and attribute, before a
 * secret reaches the audit table. The check needs the whole class tree
 * (inherited, embedded and single-table-child attributes), which only
 * exists once every class is declared. A subscriber added after
 * initialize() (the NestJS module) checks at each entity's first event.
 */
export function checkDeclarationsAtInitialize(): void {
  type Build = (this: DataSource) => Promise<void>
  patchMethod<Build>(DataSource.prototype, 'buildMetadatas', (original) =>
    async function (this: DataSource) {
      await original.call(this)
      if (!ourSubscriber(this)) return
      for (const metadata of this.entityMetadatas) if (typeof metadata.target === 'function') auditedOptionsOf(metadata.target)
    },
  )
}

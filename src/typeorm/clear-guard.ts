import { EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm'
import { BulkWriteError } from '../basics/errors'
import { entityInfo } from '../metadata/entity-info'
import { CLEAR_ALLOWED, ourSubscriber } from './our-subscriber'
import { patchMethod } from './patch-method'

type Clear = (this: EntityManager, target: EntityTarget<ObjectLiteral>) => Promise<void>

/**
 * @internal Wraps EntityManager.clear: it empties a table with TRUNCATE, past
 * every listener, so for an entity with event actions it is refused unless
 * the config allows it (`allowClear`, for test set-up) or the entity allows
 * bulk writes.
 */
export function guardClear(): void {
  patchMethod<Clear>(EntityManager.prototype, 'clear', (original) =>
    function (this: EntityManager, target) {
      const ours = ourSubscriber(this.connection)
      if (ours && ours[CLEAR_ALLOWED] !== true && this.connection.hasMetadata(target)) {
        const info = entityInfo(this.connection.getMetadata(target))
        if (info.active && !info.bulkWritesAllowed) {
          const advice =
            'It empties the table with TRUNCATE: no Delete events, no audit entries. Remove the rows with remove(), ' +
            'or, for test set-up, pass { allowClear: true } to withEventActions.'
          return Promise.reject(new BulkWriteError(info.name, 'clear()', advice))
        }
      }
      return original.call(this, target)
    },
  )
}

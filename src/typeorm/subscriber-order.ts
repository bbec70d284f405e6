import { ConnectionMetadataBuilder } from 'typeorm/connection/ConnectionMetadataBuilder'
import { isOurs } from './our-subscriber'
import { patchMethod } from './patch-method'

type BuildSubscribers = (this: unknown, subscribers: (Function | string)[]) => Promise<object[]>

/**
 * @internal Wraps ConnectionMetadataBuilder.buildSubscribers: TypeORM orders
 * subscribers by when their class was decorated and builds only decorated
 * ones. Ours is placed where the application listed it (the others keep
 * TypeORM's order), and a configured subscriber class is built without being
 * registered in TypeORM's global storage, which would grow with every
 * DataSource. A list without ours gets TypeORM's own result, untouched.
 */
export function placeOurSubscriber(): void {
  patchMethod<BuildSubscribers>(ConnectionMetadataBuilder.prototype, 'buildSubscribers', (original) =>
    async function (this: unknown, subscribers) {
      const built = await original.call(this, subscribers)
      const listed = (subscribers ?? []).filter((s): s is Function => typeof s === 'function')
      const ours = listed.filter(isOurs)
      if (ours.length === 0) return built
      const result = built.filter((s) => !isOurs(s.constructor))
      for (const cls of ours) {
        const at = listed.indexOf(cls)
        // Before the first other subscriber the application listed after ours.
        const next = result.findIndex((s) => !isOurs(s.constructor) && listed.indexOf(s.constructor) > at)
        const instance = built.find((s) => s.constructor === cls) ?? new cls()
        if (next === -1) result.push(instance)
        else result.splice(next, 0, instance)
      }
      return result
    },
  )
}

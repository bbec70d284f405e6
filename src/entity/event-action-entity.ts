import type { AttributeGroup } from '../basics/attribute-group'
import type { EventActionContext } from './event-action-context'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'

/**
 * An entity with event actions: one method called Pre and Post around every
 * lifecycle event. Declaring only the first three parameters is fine; an
 * async method is awaited before the write goes on.
 *
 * @example
 * ```ts
 * @Entity()
 * class Account implements EventActionEntity {
 *   @PrimaryGeneratedColumn() id!: number
 *   @Column() postcode!: string
 *
 *   _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
 *     if (timing === EventActionTiming.Pre && inGroup(this, 'postcode', group))
 *       this.postcode = this.postcode.toUpperCase().replace(/\s+/g, ' ')
 *   }
 * }
 * ```
 */
export interface EventActionEntity {
  /**
   * Called with `timing` Pre and Post around each event of type `type` on
   * this entity, with the attributes it touches (`group`, `null` for Delete)
   * and the event's context; throwing in Pre stops the event.
   */
  _eventAction(
    timing: EventActionTiming,
    type: EventActionType,
    group: AttributeGroup | null,
    ctx: EventActionContext<this>,
  ): void | Promise<void>
}

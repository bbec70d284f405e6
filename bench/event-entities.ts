/** Entities with event actions: `noop` (does nothing), `realistic`, and the no-op bulk item. */
import { Entity } from 'typeorm'
import {
  Audited,
  EventActionOptions,
  EventActionTiming,
  EventActionType,
  inGroup,
  type AttributeGroup,
  type EventActionEntity,
} from '../src'
import { BulkColumns, CustomerColumns, formatPostcode, named, ValidatedCustomerColumns } from './model'

const { Pre } = EventActionTiming
const { Insert, Update } = EventActionType

/** An entity class on `table` whose `_eventAction` does nothing. */
export function noopCustomer(name: string, table: string): new () => CustomerColumns {
  const cls = named(
    name,
    class extends CustomerColumns implements EventActionEntity {
      _eventAction(): void {}
    },
  )
  Entity(table)(cls)
  return cls
}

/**
 * An entity class on `table` whose no-op `_eventAction` declares the types it
 * handles (Insert and Update): its Loads are not dispatched (the `handles` path).
 */
export function declaredCustomer(name: string, table: string): new () => CustomerColumns {
  const cls = named(
    name,
    class extends CustomerColumns implements EventActionEntity {
      _eventAction(): void {}
    },
  )
  EventActionOptions({ handles: [Insert, Update] })(cls)
  Entity(table)(cls)
  return cls
}

/** A bulk entity class on `table` whose `_eventAction` does nothing. */
export function noopBulkItem(name: string, table: string): new () => BulkColumns {
  const cls = named(
    name,
    class extends BulkColumns implements EventActionEntity {
      _eventAction(): void {}
    },
  )
  Entity(table)(cls)
  return cls
}

/** Formatting in Pre, class-validator validation (by the library, after Pre), @Audited. */
@Entity('bench_realistic')
@Audited()
export class RealisticCustomer extends ValidatedCustomerColumns implements EventActionEntity {
  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null): void {
    if (timing !== Pre || (type !== Insert && type !== Update)) return
    if (inGroup(this, 'name', group)) this.name = this.name.trim()
    if (inGroup(this, 'postcode', group) && this.postcode) this.postcode = formatPostcode(this.postcode)
  }
}

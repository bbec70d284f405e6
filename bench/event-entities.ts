/** Entities with event actions: `noop` (does nothing), `realistic`, and the no-op bulk item. */
import { Entity } from 'typeorm'
import {
  Audited,
  EventActionOptions,
  EventActionTiming,
  EventActionType,
  inGroup,
  type AttributeGroup,
  type EntityEventActionOptions,
  type EventActionEntity,
} from '../src'
import { BulkColumns, CustomerColumns, formatPostcode, named, ValidatedCustomerColumns } from './model'

const { Pre } = EventActionTiming
const { Insert, Update } = EventActionType

/** An entity class on `table` whose `_eventAction` does nothing (with `options`, if given). */
export function noopCustomer(name: string, table: string, options?: EntityEventActionOptions): new () => CustomerColumns {
  const cls = named(
    name,
    class extends CustomerColumns implements EventActionEntity {
      _eventAction(): void {}
    },
  )
  if (options) EventActionOptions(options)(cls)
  Entity(table)(cls)
  return cls
}

/** The no-op entity declaring the types it handles (Insert, Update): its Loads are not dispatched (the `handles` path). */
export function declaredCustomer(name: string, table: string): new () => CustomerColumns {
  return noopCustomer(name, table, { handles: [Insert, Update] })
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

/**
 * The entities of the database-fault tests: an audited order whose handler
 * records its events, registers an after-commit call on every Post write,
 * and runs the test's hook (where the fault is provoked); and an audited
 * line with a unique name, which a hook writes through ctx.manager.
 */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  EventActionTiming,
  EventActionType,
  type AttributeGroup,
  type EventActionContext,
} from '../../../src'

const { Post } = EventActionTiming
const { Insert, Update, Delete, Load } = EventActionType

type Hook = (order: FaultOrder, timing: EventActionTiming, type: EventActionType, ctx: EventActionContext<FaultOrder>) => unknown

/** What the handlers saw and what ran after commit, per test. */
export const observed = {
  /** `name timing type` of every write event of FaultOrder and FaultLine, in handler order. */
  events: [] as string[],
  /** `name type` of every after-commit call. */
  calls: [] as string[],
  /** The hook of the running test (where the fault is provoked), if any. */
  hook: undefined as Hook | undefined,
}

export function resetObserved(): void {
  observed.events.length = 0
  observed.calls.length = 0
  observed.hook = undefined
}

@Entity('flt_order')
@Audited()
export class FaultOrder {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 40 }) name!: string
  @Column({ type: 'int', default: 0 }) amount!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<FaultOrder>): unknown {
    if (type === Load) return undefined
    observed.events.push(`${this.name} ${timing} ${type}`)
    if (timing === Post && (type === Insert || type === Update || type === Delete)) {
      const label = `${this.name} ${type}`
      ctx.afterCommit(() => void observed.calls.push(label))
    }
    return observed.hook?.(this, timing, type, ctx)
  }
}

@Entity('flt_line')
@Audited()
export class FaultLine {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 40, unique: true }) name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<FaultLine>): void {
    if (type === Load) return
    observed.events.push(`${this.name} ${timing} ${type}`)
    if (timing === Post && type === Insert) {
      const label = `${this.name} ${type}`
      ctx.afterCommit(() => void observed.calls.push(label))
    }
  }
}

export const FAULT_ENTITIES = [FaultOrder, FaultLine]

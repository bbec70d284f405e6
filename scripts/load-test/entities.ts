import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  EventActionTiming,
  EventActionType,
  HardError,
  OnEventAction,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'

/**
 * What the entity handlers observed during the run. Plain counters: the
 * load test must not hold anything per action, or the heap check would
 * measure the test instead of the library.
 */
export const probe = {
  /** Handlers that saw another user in `ctx.user` than the one the action wrote into the entity. */
  userMismatches: 0,
  /** `ctx.afterCommit` callbacks that ran (one per committed LtEvent insert). */
  afterCommits: 0,
}

/**
 * An account: inserted by `accounts:open`, updated by `accounts:deposit`
 * (through `save()` or `EventActions.update()`). `lastUser` is the acting
 * user as the action itself knows it, written by the action, so that the
 * attribution check is plain SQL; `updates` counts committed updates.
 * Deposits lock the row (`SELECT ... FOR UPDATE`), so none is lost.
 */
@Entity('lt_account')
@Audited()
export class LtAccount {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 60 }) owner!: string
  @Column({ type: 'int', default: 0 }) balance!: number
  @Column({ type: 'int', default: 0 }) updates!: number
  @Column({ type: 'varchar', length: 40 }) lastUser!: string
  /**
   * The request id of the action that wrote the row last. It changes on every
   * write, so every audit entry's `changes` names its writer's request, as
   * the entity (not the action context) says.
   */
  @Column({ type: 'varchar', length: 40 }) lastRequest!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<LtAccount>) {
    if (timing !== EventActionTiming.Pre || (type !== EventActionType.Insert && type !== EventActionType.Update)) return
    // A user leaking from one concurrent action into another shows here first.
    if (String(ctx.user?.id) !== this.lastUser) {
      probe.userMismatches++
      throw new HardError(`LtAccount#${this.id}: ctx.user ${String(ctx.user?.id)} is not the acting user ${this.lastUser}`, { attribute: 'lastUser' })
    }
  }
}

/**
 * One row per committed action (and one for the seed), with the acting user
 * and the request id written by the action: every audit entry joins to its
 * action's row by request id.
 */
@Entity('lt_event')
@Audited()
export class LtEvent {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'int' }) accountId!: number
  @Column({ type: 'int' }) amount!: number
  @Column({ type: 'varchar', length: 40 }) actingUser!: string
  @Index() @Column({ type: 'varchar', length: 40 }) requestId!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<LtEvent>) {
    if (type !== EventActionType.Insert) return
    if (timing === EventActionTiming.Pre && String(ctx.user?.id) !== this.actingUser) {
      probe.userMismatches++
      throw new HardError(`LtEvent: ctx.user ${String(ctx.user?.id)} is not the acting user ${this.actingUser}`, { attribute: 'actingUser' })
    }
    if (timing === EventActionTiming.Post) ctx.afterCommit(() => void probe.afterCommits++)
  }

  /** The expected refusal of the run: an amount of 0 rolls the whole action back. */
  @OnEventAction({ timing: EventActionTiming.Pre, types: [EventActionType.Insert], when: ['amount'] })
  refuseZero() {
    if (this.amount === 0) throw new SoftError('amount must not be 0', { attribute: 'amount' })
  }
}

/**
 * The entities the model-based test drives. Their handlers do what
 * application handlers do (format a name, register an after-commit call,
 * write another entity from a Post handler) and fail where the running
 * operation's plan says (see harness.ts).
 */
import { Column, DeleteDateColumn, Entity, PrimaryColumn } from 'typeorm'
import {
  Audited,
  EventActionTiming,
  EventActionType,
  OnEventAction,
  inGroup,
  type AttributeGroup,
  type EventActionContext,
} from '../../../src'
import { callbackLabel, childCode, eventLabel, harness } from './harness'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete, Load } = EventActionType

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Audited, soft-deletable; names are stored in lower case (a Pre Insert/Update rule). */
@Entity('rm_parent')
@Audited({ exclude: ['deletedAt'] })
export class ModelParent {
  @PrimaryColumn({ type: 'varchar', length: 40 }) code!: string
  @Column({ type: 'varchar', length: 40 }) name!: string
  @Column({ type: 'int' }) value!: number
  @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ModelParent>): void | Promise<void> {
    if (type === Load) {
      if (timing === Post) harness.loads.push(this.code)
      return
    }
    return harness.plan.async ? tick().then(() => this.handle(timing, type, group, ctx)) : this.handle(timing, type, group, ctx)
  }

  private handle(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ModelParent>): void | Promise<void> {
    // TypeORM clears the key on the instance before Post Delete; the database copy keeps it.
    const code = this.code ?? ctx.previous('code') ?? '?'
    harness.events.push(eventLabel('ModelParent', code, timing, type, group))
    harness.softFault(timing === Pre ? 'parent-pre' : 'parent-post')
    if (timing === Pre && (type === Insert || type === Update) && inGroup(this, 'name', group)) this.name = this.name.toLowerCase()
    if (timing !== Post || (type !== Insert && type !== Update && type !== Delete)) return
    ctx.afterCommit(harness.callback(callbackLabel('ModelParent', code, type)))
    if (!harness.plan.spawn) return
    const child = ctx.manager.create(ModelChild, { code: childCode(code, harness.plan.step), name: `child of ${code}`, parentCode: code })
    return ctx.manager.save(child).then(() => undefined)
  }

  /** Runs after _eventAction for the same event (declarative handlers come second). */
  @OnEventAction({ timing: Post, types: [Insert, Update], when: ['value'] })
  checkValue(): void {
    harness.hardFault('parent-decl')
  }
}

/** Written by a parent's Post handler, inside the parent's transaction. */
@Entity('rm_child')
@Audited()
export class ModelChild {
  @PrimaryColumn({ type: 'varchar', length: 40 }) code!: string
  @Column({ type: 'varchar', length: 60 }) name!: string
  @Column({ type: 'varchar', length: 40 }) parentCode!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ModelChild>): void | Promise<void> {
    if (type === Load) return
    return harness.plan.async ? tick().then(() => this.handle(timing, type, group, ctx)) : this.handle(timing, type, group, ctx)
  }

  private handle(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ModelChild>): void {
    const code = this.code ?? ctx.previous('code') ?? '?'
    harness.events.push(eventLabel('ModelChild', code, timing, type, group))
    harness.softFault(timing === Pre ? 'child-pre' : 'child-post')
    if (timing === Post && type === Insert) ctx.afterCommit(harness.callback(callbackLabel('ModelChild', code, type)))
  }

  @OnEventAction({ timing: Pre, types: [Insert] })
  guard(): void {
    harness.hardFault('child-decl')
  }
}

/**
 * Written first by the transaction an operation runs in (Setting.wrap): what
 * that transaction does besides the operation. Its Post Insert registers an
 * after-commit call; it records no events and has no fault of its own.
 */
@Entity('rm_marker')
@Audited()
export class ModelMarker {
  @PrimaryColumn({ type: 'varchar', length: 40 }) code!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<ModelMarker>): void {
    if (timing === Post && type === Insert) ctx.afterCommit(harness.callback(callbackLabel('ModelMarker', this.code, type)))
  }
}

export const MODEL_ENTITIES = [ModelParent, ModelChild, ModelMarker]

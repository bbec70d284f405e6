/**
 * The example's durable work: what the app enqueues and binds, and the
 * handlers a worker runs. The app and the worker both import this module
 * (`npx typeorm-event-actions worker --handlers examples/worker/jobs.ts`
 * reads `handlers` and `events` from it).
 */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  ActionEvents,
  EventActionTiming,
  EventActionType,
  type AttributeGroup,
  type EventActionContext,
  type EventActionEntity,
  type JobHandler,
} from '../../src'

/** A new customer: its Post Insert enqueues the welcome mail, in the same transaction. */
@Entity('example_signup')
export class Signup implements EventActionEntity {
  @PrimaryGeneratedColumn() id!: number
  @Column() email!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<this>): void {
    if (timing === EventActionTiming.Post && type === EventActionType.Insert) {
      ctx.enqueue('mail:welcome', { email: this.email }, { key: `welcome:${this.id}` })
    }
  }
}

/** What the handlers did, in order, for the example's console. */
export const jobLog: string[] = []

/** Keys already handled: a real handler keeps them in a table, so that a redelivery does nothing twice. */
const done = new Set<string>()
let busyOnce = true

export const handlers: Record<string, JobHandler> = {
  'mail:welcome': (payload, { job, user, action }) => {
    const { email } = payload as { email: string }
    // The mail server is busy the first time: the engine retries with backoff.
    if (email.startsWith('bob') && busyOnce) {
      busyOnce = false
      throw new Error('mail server busy')
    }
    if (done.has(job.key)) return
    done.add(job.key)
    jobLog.push(`mail:welcome to ${email} (attempt ${job.attempt}, key ${job.key}, made by user ${String(user?.id)} in ${String(action)})`)
  },
}

/** The checkout's post-action workflow: durable, so it survives a crash between COMMIT and the warehouse call. */
export const events = new ActionEvents()
events.bind(
  'orders:submit',
  EventActionTiming.Post,
  (ctx) => {
    if (done.has(ctx.job.key)) return
    done.add(ctx.job.key)
    jobLog.push(`warehouse: reserve stock for order ${JSON.stringify(ctx.params)} submitted by user ${String(ctx.user?.id)} (${ctx.changes.length} changes, key ${ctx.job.key})`)
  },
  { mode: 'durable' },
)

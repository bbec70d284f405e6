import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
  type EventActionEntity,
} from '../../../src'

/** Every event a Note's handler saw, as `'Pre Insert'`; emptied by the tests. */
export const noteEvents: string[] = []

/** `ctx.locale` of every Pre Insert that got past the checks; emptied by the tests. */
export const insertLocales: (string | undefined)[] = []

/** An audited note whose Pre Insert refuses an empty title and records the acting user as its author. */
@Entity('nest_note')
@Audited()
export class Note implements EventActionEntity {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 200 }) title!: string
  @Column({ type: 'varchar', length: 100, nullable: true }) author!: string | null
  @Column({ type: 'boolean', default: false }) published!: boolean

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<this>): void {
    noteEvents.push(`${timing} ${type}`)
    if (timing !== EventActionTiming.Pre || type !== EventActionType.Insert) return
    if (!this.title?.trim()) {
      throw SoftError.of('note.titleEmpty', {}, { attribute: 'title', defaultMessage: 'title must not be empty' })
    }
    // A fault whose message must never reach the client.
    if (this.title === 'boom') throw new HardError('connection to db-internal-7 refused (password hunter2)')
    insertLocales.push(ctx.locale)
    this.author = ctx.user ? String(ctx.user.id) : null
  }
}

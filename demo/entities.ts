import { IsEmail, Length } from 'class-validator'
import { Column, Entity, ManyToOne, Not, OneToMany, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  Automatic,
  OnEventAction,
  EventActionTiming,
  EventActionType,
  inGroup,
  SoftError,
  anyInGroup,
  type AttributeGroup,
  type EventActionContext,
  type EventActionEntity,
} from '../src'
import { logEvent } from './event-log'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete } = EventActionType

/** UK-style postcode formatting: upper case, one space before the last three characters. */
export function formatPostcode(raw: string): string {
  const compact = raw.replace(/\s+/g, '').toUpperCase()
  return compact.length > 3 ? `${compact.slice(0, -3)} ${compact.slice(-3)}` : compact
}

@Entity('demo_account')
export class Account implements EventActionEntity {
  @PrimaryGeneratedColumn() id!: number
  @Column() @Length(2, 40) name!: string
  @Column() @IsEmail() email!: string
  @Column({ type: 'varchar', length: 10, nullable: true }) postcode!: string | null

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<this>) {
    logEvent(timing, type, group, ctx)
    // Rows from a raw report query come in with names as typed: normalize them.
    if (timing === Post && type === EventActionType.RS2BO) this.name = this.name.trim().replace(/\s+/g, ' ')
    if (timing !== Pre || (type !== Insert && type !== Update)) return
    if (inGroup(this, 'name', group)) {
      this.name = this.name.trim()
      // A parameterized query through the transaction's manager: the name can never change the SQL.
      const taken = await ctx.manager.exists(Account, {
        where: { name: this.name, ...(this.id ? { id: Not(this.id) } : {}) },
      })
      if (taken) {
        throw SoftError.of('account.nameTaken', { name: this.name }, {
          attribute: 'name',
          defaultMessage: 'Account with this name already exists: {name}',
        })
      }
    }
  }

  /** The declarative style: runs after _eventAction, only when the postcode is in the group. */
  @OnEventAction({ timing: Pre, types: [Insert, Update], when: ['postcode'] })
  formatPostcode(): void {
    if (this.postcode) this.postcode = formatPostcode(this.postcode)
  }
}

@Entity('demo_order')
@Audited()
export class Order implements EventActionEntity {
  @PrimaryGeneratedColumn() id!: number
  @Column() customer!: string
  @Column({ default: 'open' }) status!: string
  @Column({ type: 'int', default: 0 }) total!: number
  @Column({ type: 'int', default: 0 }) shippedLines!: number
  @Column({ type: 'varchar', length: 10 }) @Automatic(() => new Date().toISOString().slice(0, 10)) orderDate!: string
  @OneToMany(() => OrderLine, (line) => line.order, { cascade: true }) lines!: OrderLine[]

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<this>) {
    logEvent(timing, type, group, ctx)
    // A copied order starts its own life: the copy never takes the status.
    if (timing === Post && type === EventActionType.BO2BO && inGroup(this, 'status', group)) this.status = 'open'
    // Shipping an order ships its lines; each shipped line then counts itself
    // on the order and saves the order again. That nested save of this very
    // order happens while this handler runs, so the recursion guard writes it
    // without dispatching Order Update a second time.
    if (timing === Post && type === Update && inGroup(this, 'status', group) && this.status === 'shipped') {
      // Mail only once the shipment is committed; never for a rolled-back one.
      ctx.afterCommit(() => console.log(`   (after commit) mail to ${this.customer}: order #${this.id} shipped by ${String(ctx.user?.name)}`))
      for (const line of this.lines ?? []) {
        line.status = 'shipped'
        await ctx.manager.save(line)
      }
    }
  }
}

@Entity('demo_order_line')
@Audited({ exclude: ['status'] })
export class OrderLine implements EventActionEntity {
  @PrimaryGeneratedColumn() id!: number
  @Column() product!: string
  @Column({ type: 'int' }) quantity!: number
  @Column({ type: 'int' }) price!: number
  @Column({ type: 'int', default: 0 }) amount!: number
  @Column({ default: 'open' }) status!: string
  @ManyToOne(() => Order, (order) => order.lines, { onDelete: 'CASCADE' }) order!: Order

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<this>) {
    logEvent(timing, type, group, ctx)
    if (timing === Pre && (type === Insert || type === Update)) {
      if (this.quantity <= 0) {
        throw SoftError.of('orderLine.quantityNotPositive', { quantity: this.quantity }, {
          attribute: 'quantity',
          defaultMessage: 'quantity must be positive, got {quantity}',
        })
      }
      if (anyInGroup(this, ['quantity', 'price'], group)) this.amount = this.quantity * this.price
    }
    if (timing !== Post || !this.order) return
    // Post Insert/Update/Delete keep the order total up to date. Handlers run
    // one at a time, so two lines of one save never race on the total.
    if (type === Delete || type === Insert || inGroup(this, 'amount', group)) {
      const total = await ctx.manager.sum(OrderLine, 'amount', { order: { id: this.order.id } })
      this.order.total = total ?? 0
      await ctx.manager.save(Order, this.order)
    }
    if (type === Update && inGroup(this, 'status', group) && this.status === 'shipped') {
      this.order.shippedLines += 1
      await ctx.manager.save(Order, this.order)
    }
  }
}

export const demoEntities: Function[] = [Account, Order, OrderLine]

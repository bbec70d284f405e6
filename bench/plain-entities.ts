/**
 * Plain TypeORM: the `plain` tables, the empty subscriber of the reference
 * scenarios and the `handwritten` scenario, written
 * the way users do it today without the library: a @BeforeInsert listener
 * formats, a subscriber validates with class-validator and inserts one audit
 * row per entity through event.manager (same transaction).
 * Never imports the library.
 */
import { validate } from 'class-validator'
import {
  AfterInsert,
  AfterLoad,
  AfterUpdate,
  BeforeInsert,
  BeforeUpdate,
  Column,
  CreateDateColumn,
  Entity,
  EventSubscriber,
  PrimaryGeneratedColumn,
  type EntitySubscriberInterface,
  type InsertEvent,
  type ObjectLiteral,
} from 'typeorm'
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity'
import { CustomerColumns, formatPostcode, named, ValidatedCustomerColumns } from './model'

@Entity('bench_hand')
export class HandCustomer extends ValidatedCustomerColumns {
  @BeforeInsert()
  format(): void {
    this.name = this.name.trim()
    if (this.postcode) this.postcode = formatPostcode(this.postcode)
  }
}

/** The audit table users write by hand (the same columns as the library's audit_entry). */
@Entity('bench_hand_audit')
export class HandAudit {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 100 }) entityName!: string
  @Column({ type: 'varchar', length: 255 }) entityId!: string
  @Column({ type: 'varchar', length: 50 }) operation!: string
  @Column({ type: 'simple-json' }) changes!: Record<string, { old: unknown; new: unknown }>
  @Column({ type: 'varchar', length: 255, nullable: true }) userId!: string | null
  @Column({ type: 'varchar', length: 255, nullable: true }) actionName!: string | null
  @CreateDateColumn() at!: Date
}

const AUDITED = ['id', 'name', 'email', 'postcode', 'city', 'balance'] as const

@EventSubscriber()
export class HandCustomerSubscriber implements EntitySubscriberInterface<HandCustomer> {
  listenTo(): Function {
    return HandCustomer
  }

  async beforeInsert(event: InsertEvent<HandCustomer>): Promise<void> {
    const errors = await validate(event.entity)
    if (errors.length) throw new Error(`invalid HandCustomer: ${errors.map((e) => e.property).join(', ')}`)
  }

  async afterInsert(event: InsertEvent<HandCustomer>): Promise<void> {
    const entity = event.entity
    const changes: Record<string, { old: unknown; new: unknown }> = {}
    for (const attr of AUDITED) changes[attr] = { old: null, new: entity[attr] ?? null }
    const audit: Partial<HandAudit> = {
      entityName: 'HandCustomer',
      entityId: String(entity.id),
      operation: 'insert',
      changes,
      userId: null,
      actionName: null,
    }
    await event.manager.insert(HandAudit, audit as QueryDeepPartialEntity<HandAudit>)
  }
}

/**
 * The floor of any subscriber-based hook: a subscriber whose methods do
 * nothing. TypeORM does extra work once one is registered (it broadcasts to
 * it and, after before-events ran, recomputes every subject's changes), so
 * `subscriber` against `plain` is what TypeORM charges before a hook does
 * anything, and `noop` against `subscriber` is what the library adds.
 */
@EventSubscriber()
export class EmptySubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  beforeInsert(): void {}
  afterInsert(): void {}
  beforeUpdate(): void {}
  afterUpdate(): void {}
  afterLoad(): void {}
}

/**
 * TypeORM's own hooks doing nothing: an entity with no-op `@BeforeInsert`,
 * `@AfterInsert`, `@BeforeUpdate`, `@AfterUpdate` and `@AfterLoad` listeners,
 * the least a hook called per entity costs in TypeORM (a before-listener that
 * ran makes TypeORM recompute every subject's changes, as a subscriber does).
 */
export function listenerCustomer(name: string, table: string): new () => CustomerColumns {
  class ListenedCustomer extends CustomerColumns {
    beforeInsert(): void {}
    afterInsert(): void {}
    beforeUpdate(): void {}
    afterUpdate(): void {}
    afterLoad(): void {}
  }
  const proto = ListenedCustomer.prototype
  for (const [decorate, method] of [
    [BeforeInsert, 'beforeInsert'],
    [AfterInsert, 'afterInsert'],
    [BeforeUpdate, 'beforeUpdate'],
    [AfterUpdate, 'afterUpdate'],
    [AfterLoad, 'afterLoad'],
  ] as const) {
    decorate()(proto, method)
  }
  const cls = named(name, ListenedCustomer)
  Entity(table)(cls)
  return cls
}

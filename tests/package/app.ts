// A TypeScript consumer of the packed library: compiled by scripts/test-package.js
// with `strict` and `skipLibCheck: false` against the installed tarball, so a
// broken or incomplete .d.ts fails the build before anything runs.
import 'reflect-metadata'
import { strict as assert } from 'node:assert'
import { IsEmail, Length } from 'class-validator'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  EntityValidationError,
  EventActionTiming,
  EventActionType,
  SoftError,
  auditTrail,
  inGroup,
  runAction,
  withEventActions,
  type AttributeGroup,
  type AuditEntry,
  type EventActionContext,
  type EventActionEntity,
} from 'typeorm-event-actions'

const calls: string[] = []

@Entity()
@Audited()
class Account implements EventActionEntity {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar' }) @Length(1, 40) name!: string
  @Column({ type: 'varchar' }) @IsEmail() email!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<this>): void {
    calls.push(`${timing} ${type} ${group ? group.toArray().sort().join(',') : '-'} ${ctx.user ? String(ctx.user.id) : '-'}`)
    if (timing !== EventActionTiming.Pre || type !== EventActionType.Insert) return
    if (inGroup(this, 'name', group) && this.name === 'root') {
      throw new SoftError('the name root is reserved', { attribute: 'name' })
    }
  }
}

function account(name: string, email: string): Account {
  return Object.assign(new Account(), { name, email })
}

async function main(): Promise<void> {
  const dataSource = new DataSource(
    withEventActions({ type: 'sqlite', database: ':memory:', entities: [Account], synchronize: true }),
  )
  await dataSource.initialize()
  try {
    const accounts = dataSource.getRepository(Account)

    // class-validator refuses the insert after the Pre handler ran: nothing written.
    const invalid = await accounts.save(account('Ada', 'not-an-email')).then(
      () => undefined,
      (error: unknown) => error,
    )
    assert.ok(invalid instanceof EntityValidationError, `expected EntityValidationError, got ${String(invalid)}`)
    assert.ok(invalid instanceof SoftError)
    assert.equal(invalid.name, 'EntityValidationError')
    assert.deepEqual(invalid.failures.map((f) => f.attribute), ['email'])
    assert.equal(await accounts.count(), 0)

    // The handler's own SoftError reaches the caller as thrown.
    const refused = await accounts.save(account('root', 'root@example.com')).then(
      () => undefined,
      (error: unknown) => error,
    )
    assert.ok(refused instanceof SoftError && !(refused instanceof EntityValidationError), `expected SoftError, got ${String(refused)}`)
    assert.equal(refused.attribute, 'name')
    assert.equal(await accounts.count(), 0)

    // Accepted inside an action: the audit entry names the acting user.
    calls.length = 0
    const saved = await runAction({ name: 'accounts:create', user: { id: 42, name: 'Ada' }, requestId: 'req-1' }, () =>
      accounts.save(account('Ada', 'ada@example.com')),
    )
    assert.deepEqual(calls, ['Pre Insert email,name 42', 'Post Insert email,id,name 42'])
    assert.equal(await accounts.count(), 1)

    await runAction({ name: 'accounts:edit', user: { id: 'u-7' } }, async () => {
      saved.email = 'ada@lovelace.org'
      await accounts.save(saved)
    })

    const trail: AuditEntry[] = await auditTrail(dataSource, Account, saved.id)
    assert.deepEqual(
      trail.map((e) => [e.operation, e.userId, e.actionName]),
      [
        ['insert', '42', 'accounts:create'],
        ['update', 'u-7', 'accounts:edit'],
      ],
    )
    assert.equal(trail[0]?.requestId, 'req-1')
    assert.deepEqual(trail[1]?.changes['email'], { old: 'ada@example.com', new: 'ada@lovelace.org' })
  } finally {
    await dataSource.destroy()
  }
  console.log('package app ok: typescript')
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})

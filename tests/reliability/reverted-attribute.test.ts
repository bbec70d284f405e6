/**
 * Regression found by the model-based test (tests/reliability/model.test.ts):
 * a Pre Update handler that sets a changed attribute back to its stored value
 * (a name typed as 'ANN' and stored lower case as 'ann'). TypeORM then does
 * not write it, but keeps it in the event's updatedColumns; the Post Update
 * group, ctx.changes() and the audit entry used to list it with old === new.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  AuditEntry,
  EventActionTiming,
  EventActionType,
  inGroup,
  type AttributeChange,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Update, Load } = EventActionType

const seen: { event: string; group: string[] | null; changes: Record<string, AttributeChange> }[] = []

@Entity('rev_account')
@Audited()
class RevAccount {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 40 }) name!: string
  @Column({ type: 'int', default: 0 }) balance!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<RevAccount>): void {
    if (type === Load) return
    if (type === Update) seen.push({ event: `${timing} ${type}`, group: group ? group.toArray().sort() : null, changes: ctx.changes() })
    // Names are stored in lower case.
    if (timing === Pre && type === Update && inGroup(this, 'name', group)) this.name = this.name.toLowerCase()
  }
}

describe(`a Pre Update handler that sets an attribute back to its stored value (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource([RevAccount])
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    for (const table of ['rev_account', 'audit_entry']) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    seen.length = 0
  })

  const accounts = () => ds.getRepository(RevAccount)
  const updates = () => ds.getRepository(AuditEntry).find({ where: { operation: 'update' }, order: { id: 'ASC' } })

  it('the attribute is in the Pre group, but not in the Post group, ctx.changes() or the audit entry', async () => {
    const account = await accounts().save(accounts().create({ name: 'ann', balance: 1 }))
    account.name = 'ANN'
    account.balance = 2
    await accounts().save(account)
    expect(seen).toEqual([
      { event: `${Pre} ${Update}`, group: ['balance', 'name'], changes: { balance: { old: 1, new: 2 }, name: { old: 'ann', new: 'ANN' } } },
      { event: `${Post} ${Update}`, group: ['balance'], changes: { balance: { old: 1, new: 2 } } },
    ])
    const [entry, ...more] = await updates()
    expect(more).toEqual([])
    expect(entry!.changes).toEqual({ balance: { old: 1, new: 2 } })
    expect(await accounts().findOneByOrFail({ id: account.id })).toMatchObject({ name: 'ann', balance: 2 })
  })

  it('when it was the only change, nothing is written: Pre Update fired, no Post Update, no entry (TypeORM skips the UPDATE)', async () => {
    const account = await accounts().save(accounts().create({ name: 'ann', balance: 1 }))
    account.name = 'ANN'
    await accounts().save(account)
    expect(seen.map((s) => s.event)).toEqual([`${Pre} ${Update}`])
    expect(await updates()).toEqual([])
  })
})

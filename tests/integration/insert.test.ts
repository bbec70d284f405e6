import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  EventActionTiming,
  EventActionType,
  inGroup,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert } = EventActionType

@Entity('ins_account')
class Account {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) postcode!: string | null
  @Column({ default: 0 }) visits!: number
  seenId?: number

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<Account>) {
    record(`Account#${this.id ?? 'new'}`, timing, type, group)
    if (timing === Pre && type === Insert && inGroup(this, 'postcode', group) && this.postcode) {
      this.postcode = this.postcode.toUpperCase()
    }
    if (timing === Pre && this.name === 'veto') throw new SoftError('name may not be veto', { attribute: 'name' })
    if (timing === Pre && this.name === 'stamp') this.visits = 42
    if (timing === Post) this.seenId = this.id
    expect(ctx.depth).toBe(1)
  }
}

describe(`Insert (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Account], { allowClear: true }) // beforeEach empties the table with clear()
  })
  afterAll(() => ds.destroy())
  beforeEach(async () => {
    await ds.getRepository(Account).clear()
    resetRecorded()
  })

  it('fires Pre before and Post after the INSERT, with the touched attributes and the generated key', async () => {
    const a = ds.getRepository(Account).create({ name: 'ann', postcode: 'ab1 2cd' })
    await ds.getRepository(Account).save(a)
    expect(recorded).toEqual([
      ['Account#new', Pre, Insert, ['name', 'postcode']],
      [`Account#${a.id}`, Post, Insert, ['id', 'name', 'postcode', 'visits']],
    ])
    expect(a.seenId).toBe(a.id)
    const row = await ds.getRepository(Account).findOneByOrFail({ id: a.id })
    expect(row.postcode).toBe('AB1 2CD')
  })

  it('writes what the Pre handler changed, and includes it in the Post group', async () => {
    const a = ds.getRepository(Account).create({ name: 'stamp' })
    await ds.getRepository(Account).save(a)
    expect(recorded[0]).toEqual(['Account#new', Pre, Insert, ['name']])
    expect(recorded[1]![3]).toContain('visits')
    const rows = await ds.query(`SELECT ${ds.driver.escape('visits')} AS v FROM ${ds.driver.escape('ins_account')}`)
    expect(Number(rows[0].v)).toBe(42)
  })

  it('a SoftError in Pre stops the save: nothing is written', async () => {
    const a = ds.getRepository(Account).create({ name: 'veto' })
    await expect(ds.getRepository(Account).save(a)).rejects.toMatchObject({
      name: 'SoftError',
      entityName: 'Account',
      type: Insert,
      timing: Pre,
      attribute: 'name',
    })
    expect(await countRows(ds, 'ins_account')).toBe(0)
  })

  it('insert() of an instance fires the events and is atomic', async () => {
    const ok = ds.getRepository(Account).create({ name: 'plain insert' })
    await ds.getRepository(Account).insert(ok)
    expect(recorded.map((r) => r[1])).toEqual([Pre, Post])
    await expect(ds.getRepository(Account).insert(ds.getRepository(Account).create({ name: 'veto' }))).rejects.toThrow(
      SoftError,
    )
    expect(await countRows(ds, 'ins_account')).toBe(1)
  })
})

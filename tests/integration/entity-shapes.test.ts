/**
 * Entity shapes whose events and audit entries must say what the SQL did
 * (issue 17, items 4 to 8): foreign keys set by cascades, single-table
 * inheritance loaded through the parent, embedded attributes, version and
 * update-date columns, and `select: false` columns.
 */
import {
  ChildEntity,
  Column,
  Entity,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  TableInheritance,
  UpdateDateColumn,
  VersionColumn,
  type DataSource,
} from 'typeorm'
import {
  AuditEntry,
  Audited,
  EventActions,
  EventActionTiming,
  EventActionType,
  OnEventAction,
  inGroup,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Load } = EventActionType

/** The audit entries of one entity, oldest first, as `[operation, changes]`. */
async function entries(ds: DataSource, entityName: string, id: number): Promise<[string, Record<string, unknown>][]> {
  const rows = await ds.manager.find(AuditEntry, { where: { entityName, entityId: String(id) }, order: { id: 'ASC' } })
  return rows.map((e) => [e.operation, e.changes as Record<string, unknown>])
}

// --- item 4: a cascade writes the child's foreign key --------------------------------------------

@Entity('shape_order')
class ShapeOrder {
  @PrimaryGeneratedColumn() id!: number
  @Column() customer!: string
  @OneToMany(() => ShapeLine, (l) => l.order, { cascade: true }) lines!: ShapeLine[]
}

@Audited()
@Entity('shape_line')
class ShapeLine {
  @PrimaryGeneratedColumn() id!: number
  @Column() qty!: number
  @ManyToOne(() => ShapeOrder, (o) => o.lines) order?: ShapeOrder

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === Insert) record('ShapeLine', timing, type, group)
  }
}

// --- item 5: single-table inheritance, loaded through the parent ---------------------------------

@Entity('shape_content')
@TableInheritance({ column: { type: 'varchar', name: 'kind' } })
class Content {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
}

@ChildEntity('book')
class Book extends Content {
  @Column({ type: 'int', nullable: true }) pages!: number | null
  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === Load) record(`Book:${this.title}`, timing, type, group)
  }
}

@ChildEntity('photo')
class Photo extends Content {
  @Column({ type: 'int', nullable: true }) width!: number | null
  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === Load) {
      record(`Photo:${this.title}`, timing, type, group)
      // The group is the row's own class's: asking for its attributes never throws.
      if (group) inGroup(this, 'width', group)
    }
  }
}

// --- items 6 and 7: embedded attributes, version and update date ---------------------------------

class Address {
  @Column({ type: 'varchar', nullable: true }) street!: string | null
  @Column({ type: 'varchar', nullable: true }) city!: string | null
}

/** What the declarative handler on `address` saw. */
const addressRuns: string[] = []

@Audited()
@Entity('shape_customer')
class ShapeCustomer {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column(() => Address) address!: Address
  @VersionColumn() version!: number
  @UpdateDateColumn() updatedAt!: Date

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === Update) record(`Customer address:${String(inGroup(this, 'address', group))}`, timing, type, group)
  }

  @OnEventAction({ timing: EventActionTiming.Pre, types: [EventActionType.Update], when: ['address'] })
  addressChanged() {
    addressRuns.push(this.address.street ?? 'null')
  }
}

// --- item 8: a select:false column ----------------------------------------------------------------

/** `ctx.previous('pin')` as the Update handler saw it. */
const previousPins: unknown[] = []

@Audited()
@Entity('shape_account')
class ShapeAccount {
  @PrimaryGeneratedColumn() id!: number
  @Column() owner!: string
  @Column({ type: 'varchar', select: false, nullable: true }) pin!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ShapeAccount>) {
    if (type !== Update) return
    record('Account', timing, type, group)
    if (timing === Pre) previousPins.push(ctx.previous('pin'))
  }
}

// --- item 3: a many-to-many change through save(owner) ------------------------------------------

/** `ctx.previous('tags')` as the Post Update handler saw it. */
const previousTags: unknown[] = []

@Entity('shape_tag')
class ShapeTag {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
}

@Audited()
@Entity('shape_post')
class ShapePost {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @ManyToMany(() => ShapeTag)
  @JoinTable({ name: 'shape_post_tags' })
  tags?: ShapeTag[]

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ShapePost>) {
    if (type !== Update && type !== Insert) return
    record('Post', timing, type, group)
    if (type === Update && timing === Post) previousTags.push(ctx.previous('tags'))
  }
}

describe(`entity shapes (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([ShapeOrder, ShapeLine, Content, Book, Photo, ShapeCustomer, ShapeAccount, ShapeTag, ShapePost])
  })
  afterAll(() => ds?.destroy())
  beforeEach(() => {
    resetRecorded()
    addressRuns.length = 0
    previousPins.length = 0
    previousTags.length = 0
  })

  it('item 3: reassigning a many-to-many relation fires the owner\'s Update with the relation, and audits old and new ids', async () => {
    const [a, b] = await ds.manager.save([Object.assign(new ShapeTag(), { name: 'a' }), Object.assign(new ShapeTag(), { name: 'b' })])
    const post = await ds.manager.save(Object.assign(new ShapePost(), { title: 't', tags: [a!] }))
    expect(recorded).toEqual([
      ['Post', Pre, Insert, ['tags', 'title']],
      ['Post', Post, Insert, ['id', 'tags', 'title']],
    ])
    resetRecorded()

    // Only the junction changes: TypeORM does not update the row; the library fires the Update.
    const loaded = await ds.manager.findOneOrFail(ShapePost, { where: { id: post.id }, relations: { tags: true } })
    resetRecorded()
    loaded.tags = [b!]
    await ds.manager.save(loaded)
    expect(recorded).toEqual([
      ['Post', Pre, Update, ['tags']],
      ['Post', Post, Update, ['tags']],
    ])
    expect(previousTags).toEqual([[{ id: a!.id }]])
    const trail = await entries(ds, 'ShapePost', post.id)
    expect(trail).toEqual([
      ['insert', { id: { old: null, new: post.id }, title: { old: null, new: 't' }, tags: { old: null, new: [a!.id] } }],
      ['update', { tags: { old: [a!.id], new: [b!.id] } }],
    ])

    // A column and the relation together: one Update with both.
    resetRecorded()
    loaded.title = 't2'
    loaded.tags = [a!, b!]
    await ds.manager.save(loaded)
    expect(recorded).toEqual([
      ['Post', Pre, Update, ['tags', 'title']],
      ['Post', Post, Update, ['tags', 'title']],
    ])

    // Saving it again unchanged fires nothing.
    resetRecorded()
    await ds.manager.save(loaded)
    expect(recorded).toEqual([])
  })

  it('item 4: a child inserted by a cascade has the foreign key in its Post Insert group and audit entry', async () => {
    const order = await ds.manager.save(Object.assign(new ShapeOrder(), { customer: 'Ada', lines: [Object.assign(new ShapeLine(), { qty: 2 })] }))
    const line = order.lines[0]!
    expect(recorded).toEqual([
      ['ShapeLine', Pre, Insert, ['qty']],
      ['ShapeLine', Post, Insert, ['id', 'order', 'qty']],
    ])
    expect(await entries(ds, 'ShapeLine', line.id)).toEqual([['insert', { id: { old: null, new: line.id }, qty: { old: null, new: 2 }, order: { old: null, new: order.id } }]])
    // The instance itself is left as TypeORM leaves it.
    expect(line.order).toBeUndefined()
  })

  it('item 5: an STI row loaded through the parent gets its own class\'s group', async () => {
    await ds.manager.save(Object.assign(new Book(), { title: 'b', pages: 10 }))
    await ds.manager.save(Object.assign(new Photo(), { title: 'p', width: 3 }))
    resetRecorded()
    const all = await ds.getRepository(Content).find({ order: { title: 'ASC' } })
    expect(all.map((c) => c.constructor.name)).toEqual(['Book', 'Photo'])
    expect(recorded).toEqual([
      ['Book:b', Pre, Load, ['id', 'pages', 'title']],
      ['Book:b', Post, Load, ['id', 'pages', 'title']],
      ['Photo:p', Pre, Load, ['id', 'title', 'width']],
      ['Photo:p', Post, Load, ['id', 'title', 'width']],
    ])
  })

  it('items 6 and 7: a changed embedded column puts the embedded in the group; version and update date are in the Post group and the audit', async () => {
    const c = await ds.manager.save(Object.assign(new ShapeCustomer(), { name: 'c', address: { street: 'Old St', city: 'X' } }))
    resetRecorded()
    c.address.street = 'New St'
    await ds.manager.save(c)
    expect(recorded).toEqual([
      ['Customer address:true', Pre, Update, ['address.street']],
      ['Customer address:true', Post, Update, ['address.street', 'updatedAt', 'version']],
    ])
    expect(addressRuns).toEqual(['New St'])
    const [, update] = (await entries(ds, 'ShapeCustomer', c.id)) as [unknown, [string, Record<string, { old: unknown; new: unknown }>]]
    expect(update[0]).toBe('update')
    expect(Object.keys(update[1]).sort()).toEqual(['address.street', 'updatedAt', 'version'])
    expect(update[1].version).toEqual({ old: 1, new: 2 })

    // A change elsewhere does not run the `when: ['address']` handler.
    c.name = 'c2'
    await ds.manager.save(c)
    expect(addressRuns).toEqual(['New St'])
  })

  it('item 6: EventActions.update of one embedded column writes that column', async () => {
    const c = await ds.manager.save(Object.assign(new ShapeCustomer(), { name: 'u', address: { street: 'A', city: 'B' } }))
    c.address.city = 'C'
    await new EventActions(ds).update(c, ['address.city' as keyof ShapeCustomer & string])
    const stored = await ds.manager.findOneByOrFail(ShapeCustomer, { id: c.id })
    expect(stored.address).toEqual({ street: 'A', city: 'C' })
  })

  it('item 8: a select:false column has its real old value, and an unchanged one fires no Update and no audit entry', async () => {
    const a = await ds.manager.save(Object.assign(new ShapeAccount(), { owner: 'o', pin: '1234' }))
    // Loaded with the hidden column, saved unchanged: nothing happens.
    const loaded = await ds.getRepository(ShapeAccount).createQueryBuilder('a').addSelect('a.pin').where('a.id = :id', { id: a.id }).getOneOrFail()
    expect(loaded.pin).toBe('1234')
    await ds.manager.save(loaded)
    expect(recorded).toEqual([])
    expect(await entries(ds, 'ShapeAccount', a.id)).toHaveLength(1)

    loaded.pin = '9999'
    await ds.manager.save(loaded)
    expect(previousPins).toEqual(['1234'])
    expect(recorded).toEqual([
      ['Account', Pre, Update, ['pin']],
      ['Account', Post, Update, ['pin']],
    ])
    const [, update] = await entries(ds, 'ShapeAccount', a.id)
    expect(update).toEqual(['update', { pin: { old: '1234', new: '9999' } }])
  })
})

import { Column, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { AuditEntry, Audited, EventActionTiming, EventActionType, type AttributeGroup } from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const events: string[] = []

@Entity('rw_category')
class RwCategory {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @ManyToMany(() => RwPost, (p) => p.categories) posts!: RwPost[]
}

@Entity('rw_post')
@Audited()
class RwPost {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @ManyToMany(() => RwCategory, (c) => c.posts)
  @JoinTable({ name: 'rw_post_categories' })
  categories!: RwCategory[]

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === EventActionType.Update) events.push(`${timing} ${[...(group ?? [])].join(',')}`)
  }
}

describe(`relation().add()/remove() of a bidirectional many-to-many (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([RwCategory, RwPost])
  })
  afterAll(() => ds.destroy())

  const categoriesOf = async (id: number) =>
    (await ds.manager.findOneOrFail(RwPost, { where: { id }, relations: { categories: true } })).categories.map((c) => c.title).sort()

  it('adds and removes by id and by object, with the owner\'s Update and audit entries, as TypeORM\'s issue 2632 test does', async () => {
    const [post1, post2] = await ds.manager.save([Object.assign(new RwPost(), { title: 'p1' }), Object.assign(new RwPost(), { title: 'p2' })])
    const [c1, c2] = await ds.manager.save([Object.assign(new RwCategory(), { title: 'c1' }), Object.assign(new RwCategory(), { title: 'c2' })])
    const relation = () => ds.createQueryBuilder().relation(RwPost, 'categories')
    await relation().of(post1).add(c1!.id)
    expect(await categoriesOf(post1!.id)).toEqual(['c1'])
    await relation().of(post1).remove(c1!.id)
    expect(await categoriesOf(post1!.id)).toEqual([])
    await relation().of(post2!.id).add([c1!, c2!])
    await relation().of(post2!.id).remove(c2!)
    expect(await categoriesOf(post2!.id)).toEqual(['c1'])
    expect(events).toEqual(Array.from({ length: 4 }, () => ['Pre categories', 'Post categories']).flat())
    const trail = await ds.getRepository(AuditEntry).find({ where: { entityName: 'RwPost', operation: 'update' }, order: { id: 'ASC' } })
    expect(trail.map((e) => e.changes)).toEqual([
      { categories: { old: [], new: [c1!.id] } },
      { categories: { old: [c1!.id], new: [] } },
      { categories: { old: [], new: [c1!.id, c2!.id] } },
      { categories: { old: [c1!.id, c2!.id], new: [c1!.id] } },
    ])
  })
})

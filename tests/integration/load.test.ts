import {
  AfterLoad,
  Column,
  CreateDateColumn,
  DataSource,
  DeleteDateColumn,
  Entity,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm'
import {
  EventActionTiming,
  EventActionType,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { dispatcherOf } from '../../src/dispatch/dispatcher'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { record, recorded, resetRecorded, type Recorded } from '../support/recorder'

const { Pre, Post: PostT } = EventActionTiming
const { Insert, Update, Delete, Load } = EventActionType

// ctx.depth of every recorded event, index-aligned with `recorded`.
const depths: number[] = []
// The contexts Author's Load handler received, kept past the handler.
const keptLoadContexts: EventActionContext[] = []

function log(
  name: string,
  entity: { id?: number },
  timing: EventActionTiming,
  type: EventActionType,
  group: AttributeGroup | null,
  ctx: EventActionContext,
): void {
  // The context must describe the same event as the arguments.
  if (ctx.timing !== timing || ctx.type !== type || ctx.group !== group || ctx.entity !== entity) {
    throw new Error(`ctx does not match the arguments for ${name} ${timing} ${type}`)
  }
  record(`${name}#${entity.id ?? 'new'}`, timing, type, group)
  depths.push(ctx.depth)
}

function reset(): void {
  resetRecorded()
  depths.length = 0
  keptLoadContexts.length = 0
}

/** Pre then Post Load of one entity, as recorded. */
function loadOf(label: string, group: string[]): Recorded[] {
  return [
    [label, Pre, Load, group],
    [label, PostT, Load, group],
  ]
}

const loadEvents = () => recorded.filter((r) => r[2] === Load)

// ---------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------

@Entity('load_author')
class Author {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) email!: string | null
  @Column({ type: 'varchar', nullable: true, select: false }) secret?: string | null
  @OneToMany(() => Post, (p) => p.author) posts?: Post[]

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Author', this, timing, type, group, ctx)
    if (type === Load) keptLoadContexts.push(ctx)
  }
}

@Entity('load_post')
class Post {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @ManyToOne(() => Author, (a) => a.posts, { nullable: true }) author?: Author | null
  @OneToMany(() => Comment, (c) => c.post) comments?: Comment[]

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Post', this, timing, type, group, ctx)
  }
}

@Entity('load_comment')
class Comment {
  @PrimaryGeneratedColumn() id!: number
  @Column() body!: string
  @ManyToOne(() => Post, (p) => p.comments) post?: Post

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Comment', this, timing, type, group, ctx)
  }
}

@Entity('load_publisher')
class Publisher {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Publisher', this, timing, type, group, ctx)
  }
}

@Entity('load_book')
class Book {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @ManyToOne(() => Publisher, { eager: true, nullable: true }) publisher?: Publisher | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Book', this, timing, type, group, ctx)
  }
}

/** No _eventAction: the library must leave it alone; TypeORM's own @AfterLoad still runs. */
@Entity('load_plain')
class Plain {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @ManyToOne(() => Author, { nullable: true }) author?: Author | null
  hookRuns = 0

  @AfterLoad()
  countHook() {
    this.hookRuns++
  }
}

/** A column with a class-field initializer: TypeORM runs the constructor when it hydrates rows. */
@Entity('load_draft')
class Draft {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @Column({ default: 'draft' }) status: string = 'draft'

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Draft', this, timing, type, group, ctx)
  }
}

/** Generated values TypeORM reads back after INSERT/UPDATE: create/update date, version, column defaults. */
@Entity('load_stamped')
class Stamped {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) visits!: number
  @Column({ type: 'varchar', length: 20, default: 'new' }) status!: string
  @CreateDateColumn() createdAt!: Date
  @UpdateDateColumn() updatedAt!: Date
  @VersionColumn() version!: number
  @DeleteDateColumn() deletedAt!: Date | null
  @OneToMany(() => StampedLine, (l) => l.parent, { cascade: true }) lines?: StampedLine[]

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Stamped', this, timing, type, group, ctx)
  }
}

@Entity('load_stamped_line')
class StampedLine {
  @PrimaryGeneratedColumn() id!: number
  @Column() text!: string
  @Column({ default: 1 }) qty!: number
  @VersionColumn() version!: number
  @ManyToOne(() => Stamped, (s) => s.lines, { onDelete: 'CASCADE' }) parent?: Stamped

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Line', this, timing, type, group, ctx)
  }
}

/** Checks its name is unique with a find through ctx.manager during the save. */
@Entity('load_unique')
class Unique {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @VersionColumn() version!: number
  reread?: Unique | null

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Unique', this, timing, type, group, ctx)
    if (timing === Pre && (type === Insert || type === Update)) {
      const same = await ctx.manager.find(Unique, { where: { name: this.name }, order: { id: 'ASC' } })
      if (same.some((u) => u.id !== this.id)) throw new SoftError(`name ${this.name} is taken`, { attribute: 'name' })
    }
    if (timing === PostT && type === Insert) {
      // Inside the transaction: the row just inserted is visible to ctx.manager.
      this.reread = await ctx.manager.findOneBy(Unique, { id: this.id })
    }
  }
}

/** An async Load handler: find() must not return before it finished. */
const slowLog: string[] = []
@Entity('load_slow')
class Slow {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  loadedAs?: string

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    if (type !== Load) return
    slowLog.push(`${this.id} ${timing} start`)
    if (this.name === 'refuse' && timing === Pre) throw new SoftError('may not be loaded', { attribute: 'name' })
    await new Promise((resolve) => setTimeout(resolve, 15))
    if (timing === PostT) this.loadedAs = this.name.toUpperCase()
    slowLog.push(`${this.id} ${timing} end`)
    log('Slow', this, timing, type, group, ctx)
  }
}

/** A synchronous Load handler that refuses one row. */
@Entity('load_guarded')
class Guarded {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    log('Guarded', this, timing, type, group, ctx)
    if (type === Load && timing === PostT && this.name === 'secret') throw new SoftError('secret row', { attribute: 'name' })
  }
}

/**
 * An async Load handler on an entity with a class-field initializer: the Load group must come from the
 * selection of the query that loaded each instance, even when other queries run while the handlers wait.
 */
@Entity('load_async_sel')
class AsyncSel {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) note!: string | null
  @Column({ default: 'draft' }) status: string = 'draft'
  groups: string[][] = []

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext) {
    if (type !== Load) return
    this.groups.push(group ? group.toArray().sort() : ['<null>'])
    // A query of another entity while this handler runs (e.g. a lookup table).
    if (timing === Pre && this.name === 'a') await ctx.manager.find(Plain)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const entities = [Author, Post, Comment, Publisher, Book, Plain, Draft, Stamped, StampedLine, Unique, Slow, Guarded, AsyncSel]

// Child tables first, so that foreign keys never block the cleanup.
const tables = [
  'load_comment',
  'load_post',
  'load_plain',
  'load_author',
  'load_book',
  'load_publisher',
  'load_draft',
  'load_stamped_line',
  'load_stamped',
  'load_unique',
  'load_slow',
  'load_guarded',
  'load_async_sel',
]

describe(`Load (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource(entities)
  })
  afterAll(() => ds?.destroy())

  beforeEach(async () => {
    for (const t of tables) await ds.query(`DELETE FROM ${ds.driver.escape(t)}`)
    reset()
    slowLog.length = 0
  })

  // Seed data: two authors, three posts (p3 has no author), two comments on p1.
  async function seedBlog() {
    const m = ds.manager
    const ann = await m.save(m.create(Author, { name: 'ann', email: 'ann@example.com', secret: 's1' }))
    const bob = await m.save(m.create(Author, { name: 'bob', email: null, secret: 's2' }))
    const p1 = await m.save(m.create(Post, { title: 'p1', author: ann }))
    const p2 = await m.save(m.create(Post, { title: 'p2', author: ann }))
    const p3 = await m.save(m.create(Post, { title: 'p3', author: null }))
    const c1 = await m.save(m.create(Comment, { body: 'c1', post: p1 }))
    const c2 = await m.save(m.create(Comment, { body: 'c2', post: p1 }))
    reset()
    return { ann, bob, p1, p2, p3, c1, c2 }
  }

  const A = (a: Author) => `Author#${a.id}`
  const P = (p: Post) => `Post#${p.id}`
  const C = (c: Comment) => `Comment#${c.id}`
  const authorCols = ['email', 'id', 'name']
  const postCols = ['id', 'title']

  describe('find* fire Pre then Post Load for every returned entity', () => {
    it('find(): every row, in result order, group = the selected columns, depth 1', async () => {
      const { ann, bob } = await seedBlog()
      const found = await ds.getRepository(Author).find({ order: { id: 'ASC' } })
      expect(found.map((a) => a.name)).toEqual(['ann', 'bob'])
      expect(recorded).toEqual([...loadOf(A(ann), authorCols), ...loadOf(A(bob), authorCols)])
      expect(depths).toEqual([1, 1, 1, 1])
    })

    it('each row has a context of its own, which a handler may keep: afterwards it still describes its row', async () => {
      await seedBlog()
      const found = await ds.getRepository(Author).find({ order: { id: 'ASC' } })
      // Pre and Post of a row share one context; rows never share one.
      expect(keptLoadContexts).toHaveLength(4)
      const [annPre, annPost, bobPre, bobPost] = keptLoadContexts
      expect(annPost).toBe(annPre)
      expect(bobPost).toBe(bobPre)
      expect(bobPre).not.toBe(annPre)
      expect([annPre, bobPre].map((c) => [c!.entity, c!.timing, c!.type, c!.depth, c!.entityName, [...c!.group!].sort()])).toEqual([
        [found[0], PostT, Load, 1, 'Author', authorCols],
        [found[1], PostT, Load, 1, 'Author', authorCols],
      ])
    })

    it("the dispatcher forgets the last query's shared state once its broadcast is over (an idle DataSource keeps no row alive)", async () => {
      await seedBlog()
      const dispatcher = dispatcherOf(ds) as unknown as { site: unknown }
      await ds.getRepository(Author).find()
      // A find's rows are broadcast in one synchronous loop; the state they share is dropped a microtask later.
      await new Promise((resolve) => setImmediate(resolve))
      expect(keptLoadContexts).toHaveLength(4)
      expect(dispatcher.site).toBeUndefined()
    })

    it('findBy(), findOne(), findOneBy(), findOneByOrFail(), findAndCount()', async () => {
      const { ann, bob } = await seedBlog()
      const repo = ds.getRepository(Author)

      expect((await repo.findBy({ name: 'bob' })).map((a) => a.id)).toEqual([bob.id])
      expect(recorded).toEqual(loadOf(A(bob), authorCols))
      reset()

      expect((await repo.findOne({ where: { name: 'ann' } }))?.id).toBe(ann.id)
      expect(recorded).toEqual(loadOf(A(ann), authorCols))
      reset()

      expect((await repo.findOneBy({ id: bob.id }))?.name).toBe('bob')
      expect(recorded).toEqual(loadOf(A(bob), authorCols))
      reset()

      expect((await repo.findOneByOrFail({ id: ann.id })).name).toBe('ann')
      expect(recorded).toEqual(loadOf(A(ann), authorCols))
      reset()

      const [rows, count] = await repo.findAndCount({ order: { id: 'DESC' } })
      expect(count).toBe(2)
      expect(rows.map((a) => a.id)).toEqual([bob.id, ann.id])
      expect(recorded).toEqual([...loadOf(A(bob), authorCols), ...loadOf(A(ann), authorCols)])
      reset()

      // Through the EntityManager as well.
      expect((await ds.manager.findOneBy(Author, { name: 'ann' }))?.id).toBe(ann.id)
      expect(recorded).toEqual(loadOf(A(ann), authorCols))
    })

    it('nothing found, count() and exists(): no events', async () => {
      await seedBlog()
      const repo = ds.getRepository(Author)
      expect(await repo.findOneBy({ name: 'nobody' })).toBeNull()
      expect(await repo.find({ where: { name: 'nobody' } })).toEqual([])
      expect(await repo.count()).toBe(2)
      expect(await repo.exists({ where: { name: 'ann' } })).toBe(true)
      expect(recorded).toEqual([])
    })

    it('find() with select: group = exactly the selected attributes', async () => {
      const { ann, bob } = await seedBlog()
      const repo = ds.getRepository(Author)
      const found = await repo.find({ select: { id: true, name: true }, order: { id: 'ASC' } })
      expect(found.map((a) => [a.name, a.email])).toEqual([
        ['ann', undefined],
        ['bob', undefined],
      ])
      expect(recorded).toEqual([...loadOf(A(ann), ['id', 'name']), ...loadOf(A(bob), ['id', 'name'])])
      reset()

      // A select: false column is not in the group unless it is selected explicitly.
      const withSecret = await repo.findOne({ select: { id: true, secret: true }, where: { id: ann.id } })
      expect(withSecret?.secret).toBe('s1')
      expect(recorded).toEqual(loadOf(A(ann), ['id', 'secret']))
    })

    it('a column left out of select is not in the group, even with a class-field initializer', async () => {
      const d = await ds.manager.save(ds.manager.create(Draft, { title: 'd1', status: 'published' }))
      reset()
      await ds.getRepository(Draft).findOneByOrFail({ id: d.id })
      expect(recorded).toEqual(loadOf(`Draft#${d.id}`, ['id', 'status', 'title']))
      reset()
      await ds.getRepository(Draft).find({ select: { id: true, title: true } })
      expect(recorded).toEqual(loadOf(`Draft#${d.id}`, ['id', 'title']))
    })
  })

  describe('QueryBuilder', () => {
    it('getOne() and getMany() fire Load; getManyAndCount() too', async () => {
      const { ann, bob } = await seedBlog()
      const qb = () => ds.getRepository(Author).createQueryBuilder('a').orderBy('a.id', 'ASC')

      const many = await qb().getMany()
      expect(many.map((a) => a.name)).toEqual(['ann', 'bob'])
      expect(recorded).toEqual([...loadOf(A(ann), authorCols), ...loadOf(A(bob), authorCols)])
      reset()

      const one = await qb().where('a.name = :n', { n: 'bob' }).getOne()
      expect(one?.id).toBe(bob.id)
      expect(recorded).toEqual(loadOf(A(bob), authorCols))
      reset()

      const [rows, n] = await qb().getManyAndCount()
      expect([rows.length, n]).toEqual([2, 2])
      expect(recorded).toEqual([...loadOf(A(ann), authorCols), ...loadOf(A(bob), authorCols)])
    })

    it('select() / addSelect(): group = the selected attributes', async () => {
      const { ann } = await seedBlog()
      await ds
        .getRepository(Author)
        .createQueryBuilder('a')
        .select(['a.id', 'a.email'])
        .where('a.id = :id', { id: ann.id })
        .getOne()
      expect(recorded).toEqual(loadOf(A(ann), ['email', 'id']))
      reset()

      const withSecret = await ds
        .getRepository(Author)
        .createQueryBuilder('a')
        .addSelect('a.secret')
        .where('a.id = :id', { id: ann.id })
        .getOneOrFail()
      expect(withSecret.secret).toBe('s1')
      expect(recorded).toEqual(loadOf(A(ann), ['email', 'id', 'name', 'secret']))
    })

    it('getRawMany() / getRawOne() do not fire Load', async () => {
      await seedBlog()
      const qb = () => ds.getRepository(Author).createQueryBuilder('a').orderBy('a.id', 'ASC')
      const raw = await qb().getRawMany()
      expect(raw).toHaveLength(2)
      const rawOne = await qb().select('a.name', 'name').getRawOne()
      expect(rawOne).toEqual({ name: 'ann' })
      expect(recorded).toEqual([])
    })

    it('leftJoinAndSelect(): joined entities fire Load too', async () => {
      const { ann, p1, p2, p3 } = await seedBlog()
      const posts = await ds
        .getRepository(Post)
        .createQueryBuilder('p')
        .leftJoinAndSelect('p.author', 'a')
        .orderBy('p.id', 'ASC')
        .getMany()
      expect(posts.map((p) => p.author?.name ?? null)).toEqual(['ann', 'ann', null])
      // TypeORM broadcasts the joined entities before the entities that hold them.
      expect(recorded).toEqual([
        ...loadOf(A(ann), authorCols),
        ...loadOf(A(ann), authorCols),
        ...loadOf(P(p1), ['author', 'id', 'title']),
        ...loadOf(P(p2), ['author', 'id', 'title']),
        ...loadOf(P(p3), ['author', 'id', 'title']),
      ])
    })
  })

  describe('relation loading', () => {
    it('many-to-one: find({ relations: { author: true } })', async () => {
      const { ann, p1, p2, p3 } = await seedBlog()
      const posts = await ds.getRepository(Post).find({ relations: { author: true }, order: { id: 'ASC' } })
      expect(posts.map((p) => [p.title, p.author?.name ?? null])).toEqual([
        ['p1', 'ann'],
        ['p2', 'ann'],
        ['p3', null],
      ])
      expect(recorded).toEqual([
        ...loadOf(A(ann), authorCols),
        ...loadOf(A(ann), authorCols),
        ...loadOf(P(p1), ['author', 'id', 'title']),
        ...loadOf(P(p2), ['author', 'id', 'title']),
        ...loadOf(P(p3), ['author', 'id', 'title']),
      ])
      // Without relations the relation is not in the group and the author does not load.
      reset()
      await ds.getRepository(Post).findOneByOrFail({ id: p1.id })
      expect(recorded).toEqual(loadOf(P(p1), postCols))
    })

    it('one-to-many: find({ relations: { posts: true } }), nested relations and select', async () => {
      const { ann, bob, p1, p2, c1, c2 } = await seedBlog()
      const authors = await ds.getRepository(Author).find({
        relations: { posts: true },
        order: { id: 'ASC', posts: { id: 'ASC' } },
      })
      expect(authors.map((a) => [a.name, a.posts!.map((p) => p.title)])).toEqual([
        ['ann', ['p1', 'p2']],
        ['bob', []],
      ])
      expect(recorded).toEqual([
        ...loadOf(P(p1), postCols),
        ...loadOf(P(p2), postCols),
        ...loadOf(A(ann), [...authorCols, 'posts'].sort()),
        ...loadOf(A(bob), [...authorCols, 'posts'].sort()),
      ])
      reset()

      // Two levels deep, with a select on every level.
      const one = await ds.getRepository(Author).findOneOrFail({
        where: { id: ann.id },
        select: { id: true, name: true, posts: { id: true, title: true, comments: { id: true, body: true } } },
        relations: { posts: { comments: true } },
        order: { posts: { id: 'ASC', comments: { id: 'ASC' } } },
      })
      expect(one.posts!.map((p) => [p.title, p.comments!.map((c) => c.body)])).toEqual([
        ['p1', ['c1', 'c2']],
        ['p2', []],
      ])
      expect(recorded).toEqual([
        ...loadOf(C(c1), ['body', 'id']),
        ...loadOf(C(c2), ['body', 'id']),
        ...loadOf(P(p1), ['comments', 'id', 'title']),
        ...loadOf(P(p2), ['comments', 'id', 'title']),
        ...loadOf(A(ann), ['id', 'name', 'posts']),
      ])
      expect(depths.every((d) => d === 1)).toBe(true)
    })

    it("relationLoadStrategy 'query': every entity fires Load exactly once", async () => {
      const { ann, bob, p1, p2 } = await seedBlog()
      const authors = await ds.getRepository(Author).find({
        relations: { posts: true },
        relationLoadStrategy: 'query',
        order: { id: 'ASC', posts: { id: 'ASC' } },
      })
      expect(authors.map((a) => a.posts?.length)).toEqual([2, 0])
      // The authors load first; the posts come from a second query that selects only their own columns.
      expect(recorded).toEqual([
        ...loadOf(A(ann), authorCols),
        ...loadOf(A(bob), authorCols),
        ...loadOf(P(p1), postCols),
        ...loadOf(P(p2), postCols),
      ])
    })

    it('eager relations load with find() and fire Load; QueryBuilder does not load them', async () => {
      const m = ds.manager
      const pub = await m.save(m.create(Publisher, { name: 'acme' }))
      const b1 = await m.save(m.create(Book, { title: 'b1', publisher: pub }))
      const b2 = await m.save(m.create(Book, { title: 'b2', publisher: null }))
      reset()
      const books = await ds.getRepository(Book).find({ order: { id: 'ASC' } })
      expect(books.map((b) => b.publisher?.name ?? null)).toEqual(['acme', null])
      expect(recorded).toEqual([
        ...loadOf(`Publisher#${pub.id}`, ['id', 'name']),
        ...loadOf(`Book#${b1.id}`, ['id', 'publisher', 'title']),
        ...loadOf(`Book#${b2.id}`, ['id', 'publisher', 'title']),
      ])
      reset()
      const viaQb = await ds.getRepository(Book).createQueryBuilder('b').where('b.id = :id', { id: b1.id }).getOneOrFail()
      expect(viaQb.publisher).toBeUndefined()
      expect(recorded).toEqual(loadOf(`Book#${b1.id}`, ['id', 'title']))
    })
  })

  describe("TypeORM's internal loads during save()/remove() do not fire Load", () => {
    it('save() of a new entity with cascaded children: generated values read back, no Load', async () => {
      const repo = ds.getRepository(Stamped)
      const s = repo.create({ name: 's1', lines: [ds.manager.create(StampedLine, { text: 'l1' })] })
      await repo.save(s)
      // The generated values were read back from the database...
      expect(s.id).toEqual(expect.any(Number))
      expect(s.createdAt).toBeInstanceOf(Date)
      expect(s.version).toBe(1)
      expect(s.visits).toBe(0)
      expect(s.status).toBe('new')
      expect(s.lines![0]!.version).toBe(1)
      expect(s.lines![0]!.qty).toBe(1)
      // ...and nobody saw a Load.
      const line = `Line#${s.lines![0]!.id}`
      expect(recorded).toEqual([
        ['Stamped#new', Pre, Insert, ['lines', 'name']],
        ['Line#new', Pre, Insert, ['text']],
        [`Stamped#${s.id}`, PostT, Insert, recorded[2]![3]],
        [line, PostT, Insert, recorded[3]![3]],
      ])
      expect(loadEvents()).toEqual([])
      expect(recorded[2]![3]).toEqual(expect.arrayContaining(['createdAt', 'id', 'name', 'status', 'version', 'visits']))
    })

    it('save() of a loaded, changed entity: the database copy is reloaded to diff, no Load', async () => {
      const repo = ds.getRepository(Stamped)
      const { id } = await repo.save(repo.create({ name: 's1', lines: [ds.manager.create(StampedLine, { text: 'l1' })] }))
      reset()
      const s = await repo.findOneOrFail({ where: { id }, relations: { lines: true } })
      const lineId = s.lines![0]!.id
      // Positive control: this entity's handler does record Load.
      expect(recorded).toEqual([
        ...loadOf(`Line#${lineId}`, ['id', 'qty', 'text', 'version']),
        ...loadOf(`Stamped#${id}`, ['createdAt', 'deletedAt', 'id', 'lines', 'name', 'status', 'updatedAt', 'version', 'visits']),
      ])
      reset()

      s.name = 's1 renamed'
      s.lines![0]!.text = 'l1 changed'
      await repo.save(s)
      expect(s.version).toBe(2)
      expect(s.lines![0]!.version).toBe(2)
      expect(recorded).toEqual([
        [`Stamped#${id}`, Pre, Update, ['name']],
        [`Line#${lineId}`, Pre, Update, ['text']],
        // What the UPDATE wrote: TypeORM's UPDATE also sets the update date and the version.
        [`Stamped#${id}`, PostT, Update, ['name', 'updatedAt', 'version']],
        [`Line#${lineId}`, PostT, Update, ['text', 'version']],
      ])
      reset()

      // An unchanged save: TypeORM still reloads to diff; no events at all.
      await repo.save(s)
      expect(recorded).toEqual([])
    })

    it('save() of an instance that was never loaded (only id and a change): no Load', async () => {
      const repo = ds.getRepository(Stamped)
      const { id } = await repo.save(repo.create({ name: 's1' }))
      reset()
      const s = repo.create({ id, name: 'detached change' })
      await ds.transaction((m) => m.save(s))
      expect(recorded).toEqual([
        [`Stamped#${id}`, Pre, Update, ['name']],
        [`Stamped#${id}`, PostT, Update, ['name', 'updatedAt', 'version']],
      ])
      const rows = await ds.query(`SELECT ${ds.driver.escape('name')} AS n FROM ${ds.driver.escape('load_stamped')}`)
      expect(rows.map((r: { n: string }) => r.n)).toEqual(['detached change'])
    })

    it('softRemove(), recover() and remove(): no Load', async () => {
      const repo = ds.getRepository(Stamped)
      const s = await repo.save(repo.create({ name: 's1' }))
      const id = s.id
      reset()

      await repo.softRemove(s)
      expect(s.deletedAt).toBeInstanceOf(Date)
      expect(recorded).toEqual([
        [`Stamped#${id}`, Pre, Delete, null],
        [`Stamped#${id}`, PostT, Delete, null],
      ])
      reset()

      await repo.recover(s)
      expect(s.deletedAt).toBeNull()
      expect(recorded).toEqual([
        [`Stamped#${id}`, Pre, Update, ['deletedAt']],
        [`Stamped#${id}`, PostT, Update, ['deletedAt']],
      ])
      reset()

      await repo.remove(s)
      // TypeORM clears the id on the instance before Post Delete.
      expect(recorded).toEqual([
        [`Stamped#${id}`, Pre, Delete, null],
        ['Stamped#new', PostT, Delete, null],
      ])
      expect(await countRows(ds, 'load_stamped')).toBe(0)
    })

    it('a find through ctx.manager during a save DOES fire Load, nested at depth 2', async () => {
      const repo = ds.getRepository(Unique)
      const x = await repo.save(repo.create({ name: 'x' }))
      // Post Insert re-reads the new row through ctx.manager: one nested Load, inside the transaction.
      expect(recorded).toEqual([
        ['Unique#new', Pre, Insert, ['name']],
        [`Unique#${x.id}`, PostT, Insert, ['id', 'name', 'version']],
        ...loadOf(`Unique#${x.id}`, ['id', 'name', 'version']),
      ])
      expect(depths).toEqual([1, 1, 2, 2])
      expect(x.reread?.name).toBe('x')
      reset()

      // Pre Update finds nothing under the new name: no Load at all, only the Update.
      x.name = 'x2'
      await repo.save(x)
      expect(recorded).toEqual([
        [`Unique#${x.id}`, Pre, Update, ['name']],
        [`Unique#${x.id}`, PostT, Update, ['name', 'version']],
      ])
      expect(x.version).toBe(2)
      reset()

      // A clash: the nested find returns the other row, its Load fires, the SoftError rolls back.
      const y = await repo.save(repo.create({ name: 'y' }))
      reset()
      y.name = 'x2'
      await expect(repo.save(y)).rejects.toMatchObject({ name: 'SoftError', type: Update, timing: Pre, entityName: 'Unique' })
      expect(recorded).toEqual([[`Unique#${y.id}`, Pre, Update, ['name']], ...loadOf(`Unique#${x.id}`, ['id', 'name', 'version'])])
      expect(depths).toEqual([1, 2, 2])
      reset()

      const dup = repo.create({ name: 'y' })
      await expect(repo.save(dup)).rejects.toThrow(SoftError)
      expect(recorded).toEqual([['Unique#new', Pre, Insert, ['name']], ...loadOf(`Unique#${y.id}`, ['id', 'name', 'version'])])
      expect(depths).toEqual([1, 2, 2])
      expect(await countRows(ds, 'load_unique')).toBe(2)
      const rows = await ds.query(`SELECT ${ds.driver.escape('name')} AS n FROM ${ds.driver.escape('load_unique')} ORDER BY 1`)
      expect(rows.map((r: { n: string }) => r.n)).toEqual(['x2', 'y'])
    })
  })

  describe('handlers', () => {
    it('an async Load handler is awaited before find() returns, one entity at a time', async () => {
      const m = ds.manager
      const a = await m.save(m.create(Slow, { name: 'a' }))
      const b = await m.save(m.create(Slow, { name: 'b' }))
      slowLog.length = 0
      reset()
      const found = await ds.getRepository(Slow).find({ order: { id: 'ASC' } })
      expect(found.map((s) => s.loadedAs)).toEqual(['A', 'B'])
      expect(slowLog).toEqual([
        `${a.id} ${Pre} start`,
        `${a.id} ${Pre} end`,
        `${a.id} ${PostT} start`,
        `${a.id} ${PostT} end`,
        `${b.id} ${Pre} start`,
        `${b.id} ${Pre} end`,
        `${b.id} ${PostT} start`,
        `${b.id} ${PostT} end`,
      ])
      expect(recorded).toEqual([...loadOf(`Slow#${a.id}`, ['id', 'name']), ...loadOf(`Slow#${b.id}`, ['id', 'name'])])

      // getOne through a QueryBuilder awaits it as well.
      const one = await ds.getRepository(Slow).createQueryBuilder('s').where('s.id = :id', { id: b.id }).getOneOrFail()
      expect(one.loadedAs).toBe('B')
    })

    it('async Load handlers: a query run inside a Load handler does not change the group of the rows still waiting', async () => {
      const m = ds.manager
      await m.save(m.create(Plain, { name: 'lookup' }))
      await m.save(m.create(AsyncSel, { name: 'a', note: 'n1', status: 'live' }))
      await m.save(m.create(AsyncSel, { name: 'b', note: null, status: 'live' }))
      const repo = ds.getRepository(AsyncSel)

      // One query; the first row's Pre Load handler runs another query before the second row's turn.
      const narrow = await repo.find({ select: { id: true, name: true }, order: { id: 'ASC' } })
      expect(narrow.map((e) => e.groups)).toEqual([
        [['id', 'name'], ['id', 'name']],
        [['id', 'name'], ['id', 'name']],
      ])
    })

    it('async Load handlers: concurrent finds with different selections each keep their own group', async () => {
      const m = ds.manager
      await m.save(m.create(AsyncSel, { name: 'x', note: 'n1', status: 'live' }))
      await m.save(m.create(AsyncSel, { name: 'y', note: null, status: 'live' }))
      const repo = ds.getRepository(AsyncSel)

      // Two queries at the same time, with different selections.
      const [sel, all] = await Promise.all([
        repo.find({ select: { id: true, note: true }, order: { id: 'ASC' } }),
        repo.find({ order: { id: 'ASC' } }),
      ])
      const full = ['id', 'name', 'note', 'status']
      expect(sel.map((e) => e.groups)).toEqual([
        [['id', 'note'], ['id', 'note']],
        [['id', 'note'], ['id', 'note']],
      ])
      expect(all.map((e) => e.groups)).toEqual([
        [full, full],
        [full, full],
      ])
    })

    it('an error thrown by a Load handler reaches the caller of find()', async () => {
      const m = ds.manager
      await m.save(m.create(Slow, { name: 'refuse' }))
      await expect(ds.getRepository(Slow).find()).rejects.toMatchObject({
        name: 'SoftError',
        message: 'may not be loaded',
        entityName: 'Slow',
        type: Load,
        timing: Pre,
        attribute: 'name',
      })

      const ok = await m.save(m.create(Guarded, { name: 'ok' }))
      const secret = await m.save(m.create(Guarded, { name: 'secret' }))
      reset()
      await expect(ds.getRepository(Guarded).find({ order: { id: 'ASC' } })).rejects.toMatchObject({
        name: 'SoftError',
        entityName: 'Guarded',
        type: Load,
        timing: PostT,
      })
      expect(recorded).toEqual([...loadOf(`Guarded#${ok.id}`, ['id', 'name']), ...loadOf(`Guarded#${secret.id}`, ['id', 'name'])])
    })

    it('an entity without _eventAction is unaffected; its relations with handlers still fire', async () => {
      const { ann } = await seedBlog()
      const m = ds.manager
      const p = await m.save(m.create(Plain, { name: 'plain', author: ann }))
      expect(recorded).toEqual([])
      const loaded = await ds.getRepository(Plain).findOneOrFail({ where: { id: p.id } })
      expect(loaded).toBeInstanceOf(Plain)
      expect(loaded.name).toBe('plain')
      expect(loaded.hookRuns).toBe(1) // TypeORM's own @AfterLoad still runs, once
      expect(Object.getOwnPropertySymbols(loaded)).toEqual([]) // the library left no flag on it
      expect(recorded).toEqual([])

      const withAuthor = await ds.getRepository(Plain).findOneOrFail({ where: { id: p.id }, relations: { author: true } })
      expect(withAuthor.author?.name).toBe('ann')
      expect(withAuthor.hookRuns).toBe(1)
      expect(recorded).toEqual(loadOf(A(ann), authorCols))
      reset()

      withAuthor.name = 'plain 2'
      await m.save(withAuthor)
      await m.remove(await ds.getRepository(Plain).findOneByOrFail({ id: p.id }))
      expect(recorded).toEqual([])
      expect(await countRows(ds, 'load_plain')).toBe(0)
    })
  })
})

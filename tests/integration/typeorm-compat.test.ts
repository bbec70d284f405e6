/**
 * Ordinary TypeORM code that must work the same with the library installed
 * (issue 23, found by running TypeORM's own suite with our subscriber):
 * transformed values of any shape, tree entities of all four kinds, STI rows
 * created through the parent, TypeORM's own errors, subscriber order, many
 * DataSources, and the audit table left out.
 */
import {
  ChildEntity,
  Column,
  DataSource,
  Entity,
  EventSubscriber,
  getMetadataArgsStorage,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  TableInheritance,
  Tree,
  TreeChildren,
  TreeParent,
  type EntitySubscriberInterface,
  type InsertEvent,
  type ObjectLiteral,
} from 'typeorm'
import {
  AuditEntry,
  Audited,
  EventActionSubscriber,
  EventActionTiming,
  EventActionType,
  HardError,
  OnEventAction,
  withEventActions,
  type AttributeGroup,
} from '../../src'
import { DB, openDataSource } from '../support/database'
import { databaseOptions } from '../../ormconfig'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete } = EventActionType

// ---------------------------------------------------------------------------
// Transformed values: TypeORM compares them in their persisted form
// ---------------------------------------------------------------------------

class Point {
  self: { point: Point }
  constructor(public x: number) {
    this.self = { point: this } // circular: JSON.stringify throws on it
  }
}
class Money {
  constructor(public cents: bigint) {} // JSON.stringify throws on a bigint
}
class Tag {
  constructor(public value: string) {}
}

const pointColumn = {
  type: 'varchar' as const,
  nullable: true,
  transformer: {
    to: (p: Point | null | undefined) => (p == null ? p : String(p.x)),
    from: (s: string | null) => (s == null ? s : new Point(Number(s))),
  },
}
const moneyColumn = {
  type: 'varchar' as const,
  nullable: true,
  transformer: {
    to: (m: Money | null | undefined) => (m == null ? m : m.cents.toString()),
    from: (s: string | null) => (s == null ? s : new Money(BigInt(s))),
  },
}
const bytesColumn = {
  type: 'varchar' as const,
  nullable: true,
  transformer: {
    to: (b: Buffer | null | undefined) => (b == null ? b : b.toString('hex')),
    from: (s: string | null) => (s == null ? s : Buffer.from(s, 'hex')),
  },
}
const dateColumn = {
  type: 'varchar' as const,
  nullable: true,
  transformer: {
    to: (d: Date | null | undefined) => (d == null ? d : d.toISOString()),
    from: (s: string | null) => (s == null ? s : new Date(s)),
  },
}
const tagColumn = {
  type: 'varchar' as const,
  nullable: true,
  transformer: {
    to: (t: Tag | null | undefined) => (t == null ? t : t.value),
    from: (s: string | null) => (s == null ? s : new Tag(s)),
  },
}

/** No event actions at all: its updates must be TypeORM's own. */
@Entity('tc_shape')
class Shape {
  @PrimaryGeneratedColumn() id!: number
  @Column(pointColumn) point!: Point | null
  @Column(moneyColumn) price!: Money | null
}

@Audited()
@Entity('tc_gadget')
class Gadget {
  @PrimaryGeneratedColumn() id!: number
  @Column(pointColumn) point!: Point | null
  @Column(moneyColumn) price!: Money | null
  @Column(bytesColumn) bytes!: Buffer | null
  @Column(dateColumn) at!: Date | null
  @Column(tagColumn) tag!: Tag | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record('Gadget', timing, type, group)
  }
}

describe(`transformed values (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Shape, Gadget])
  })
  afterAll(() => ds?.destroy())
  beforeEach(resetRecorded)

  it('an entity without event actions saves circular and bigint-holding values as TypeORM does', async () => {
    const shape = await ds.manager.save(Object.assign(new Shape(), { point: new Point(1), price: new Money(5n) }))
    shape.point = new Point(2)
    shape.price = new Money(12345678901234567890n)
    await ds.manager.save(shape)
    const raw = await ds.query(`SELECT ${ds.driver.escape('point')} AS p, ${ds.driver.escape('price')} AS m FROM ${ds.driver.escape('tc_shape')}`)
    expect(raw).toEqual([{ p: '2', m: '12345678901234567890' }])
  })

  it('the Post Update group is what the UPDATE wrote, for circular, bigint, Buffer, Date and class-instance values', async () => {
    const g = await ds.manager.save(
      Object.assign(new Gadget(), {
        point: new Point(1),
        price: new Money(5n),
        bytes: Buffer.from([1, 2]),
        at: new Date('2026-01-02T03:04:05.000Z'),
        tag: new Tag('a'),
      }),
    )
    const loaded = (await ds.manager.findOneByOrFail(Gadget, { id: g.id }))!
    resetRecorded()
    // Equal values in new objects: TypeORM writes nothing, so no Update fires.
    Object.assign(loaded, { point: new Point(1), price: new Money(5n), bytes: Buffer.from([1, 2]), at: new Date('2026-01-02T03:04:05.000Z'), tag: new Tag('a') })
    await ds.manager.save(loaded)
    expect(recorded.filter(([, , type]) => type === Update)).toEqual([])

    loaded.point = new Point(9)
    loaded.price = new Money(6n)
    loaded.bytes = Buffer.from([3])
    loaded.at = new Date('2027-01-01T00:00:00.000Z')
    loaded.tag = new Tag('b')
    await ds.manager.save(loaded)
    const all = ['at', 'bytes', 'point', 'price', 'tag']
    expect(recorded.filter(([, , type]) => type === Update)).toEqual([
      ['Gadget', Pre, Update, all],
      ['Gadget', Post, Update, all],
    ])
    const entries = await ds.manager.find(AuditEntry, { where: { entityName: 'Gadget', operation: 'update' } })
    expect(entries).toHaveLength(1)
    expect(Object.keys(entries[0]!.changes).sort()).toEqual(all)
  })

  it('one changed transformed attribute is the whole group', async () => {
    const g = await ds.manager.save(Object.assign(new Gadget(), { point: new Point(1), price: new Money(1n), tag: new Tag('x') }))
    resetRecorded()
    g.price = new Money(2n)
    g.point = new Point(1) // a new, circular object, equal once persisted: not written, not in the group
    await ds.manager.save(g)
    expect(recorded).toEqual([
      ['Gadget', Pre, Update, ['price']],
      ['Gadget', Post, Update, ['price']],
    ])
  })
})

// ---------------------------------------------------------------------------
// Trees of all four kinds
// ---------------------------------------------------------------------------

function treeHandler(label: string) {
  return function (this: { name: string }, timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === Insert || type === Update || type === Delete) record(`${label}:${this.name}`, timing, type, group)
  }
}

@Audited()
@Entity('tc_mp_node')
@Tree('materialized-path')
class MpNode {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @TreeParent() parent?: MpNode | null
  @TreeChildren() children?: MpNode[]
}

@Audited()
@Entity('tc_closure_node')
@Tree('closure-table')
class ClosureNode {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @TreeParent() parent?: ClosureNode | null
  @TreeChildren() children?: ClosureNode[]
}

@Audited()
@Entity('tc_nested_node')
@Tree('nested-set')
class NestedNode {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @TreeParent() parent?: NestedNode | null
  @TreeChildren() children?: NestedNode[]
}

@Audited()
@Entity('tc_adjacent_node')
class AdjacentNode {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @ManyToOne(() => AdjacentNode, (n) => n.children, { nullable: true, onDelete: 'CASCADE' }) parent?: AdjacentNode | null
  @OneToMany(() => AdjacentNode, (n) => n.parent) children?: AdjacentNode[]
}

// One handler for the four classes, on their prototypes (where the library looks for _eventAction).
for (const cls of [MpNode, ClosureNode, NestedNode, AdjacentNode]) {
  Object.defineProperty(cls.prototype, '_eventAction', { value: treeHandler(cls.name), writable: true })
}

type TreeClass = typeof MpNode | typeof ClosureNode | typeof NestedNode | typeof AdjacentNode
type TreeNode = { id: number; name: string; parent?: TreeNode | null }

describe(`tree entities (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([MpNode, ClosureNode, NestedNode, AdjacentNode])
  })
  afterAll(() => ds?.destroy())
  beforeEach(resetRecorded)

  const make = (cls: TreeClass, name: string, parent: TreeNode | null): TreeNode =>
    Object.assign(new cls() as unknown as TreeNode, { name, parent })

  async function childrenOf(cls: TreeClass, node: TreeNode): Promise<string[]> {
    if (cls === AdjacentNode) {
      const rows = await ds.getRepository(AdjacentNode).find({ where: { parent: { id: node.id } } })
      return rows.map((r) => r.name).sort()
    }
    const tree = ds.getTreeRepository(cls as typeof MpNode)
    const descendants = await tree.findDescendants(node as MpNode)
    return descendants.filter((d) => d.id !== node.id).map((d) => d.name).sort()
  }

  async function auditOps(cls: TreeClass, id: number): Promise<string[]> {
    const entries = await ds.manager.find(AuditEntry, { where: { entityName: cls.name, entityId: String(id) }, order: { id: 'ASC' } })
    return entries.map((e) => e.operation)
  }

  for (const cls of [MpNode, ClosureNode, NestedNode, AdjacentNode] as TreeClass[]) {
    it(`${cls.name}: insert, move and remove fire events and audit entries, and keep the tree`, async () => {
      const repo = ds.getRepository(cls as typeof MpNode)
      const root = await repo.save(make(cls, 'root', null) as MpNode)
      const a = await repo.save(make(cls, 'a', root) as MpNode)
      const b = await repo.save(make(cls, 'b', root) as MpNode)
      const leaf = await repo.save(make(cls, 'leaf', a) as MpNode)
      expect(recorded.filter(([, , type]) => type === Insert).map(([label, timing]) => `${label} ${timing}`)).toEqual([
        `${cls.name}:root Pre`,
        `${cls.name}:root Post`,
        `${cls.name}:a Pre`,
        `${cls.name}:a Post`,
        `${cls.name}:b Pre`,
        `${cls.name}:b Post`,
        `${cls.name}:leaf Pre`,
        `${cls.name}:leaf Post`,
      ])
      expect(await childrenOf(cls, a)).toEqual(['leaf'])

      // Move the leaf from a to b: an Update of its parent.
      resetRecorded()
      leaf.parent = b
      await repo.save(leaf)
      expect(recorded).toEqual([
        [`${cls.name}:leaf`, Pre, Update, ['parent']],
        [`${cls.name}:leaf`, Post, Update, ['parent']],
      ])
      expect(await childrenOf(cls, a)).toEqual([])
      expect(await childrenOf(cls, b)).toEqual(['leaf'])

      resetRecorded()
      const leafId = leaf.id
      await repo.remove(leaf)
      expect(recorded).toEqual([
        [`${cls.name}:leaf`, Pre, Delete, null],
        [`${cls.name}:leaf`, Post, Delete, null],
      ])
      expect(await childrenOf(cls, b)).toEqual([])
      expect(await auditOps(cls, leafId)).toEqual(['insert', 'update', 'delete'])
    })
  }
})

// ---------------------------------------------------------------------------
// Single-table inheritance: a row created through the parent
// ---------------------------------------------------------------------------

@Audited()
@Entity('tc_animal')
@TableInheritance({ column: { type: 'varchar', name: 'type' } })
class Animal {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar' }) type!: string
}

@ChildEntity('cat')
class Cat extends Animal {
  @Column({ type: 'int', nullable: true }) lives!: number | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === Insert) record(`Cat:${this.name}`, timing, type, group)
  }

  @OnEventAction({ timing: EventActionTiming.Pre, types: [EventActionType.Insert] })
  nineLives() {
    this.lives ??= 9
  }
}

describe(`single-table inheritance (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Animal, Cat])
  })
  afterAll(() => ds?.destroy())
  beforeEach(resetRecorded)

  it("an instance of the parent saved as a child runs the child's handlers", async () => {
    const animal = ds.getRepository(Animal).create({ type: 'cat', name: 'Tom' })
    expect(animal).toBeInstanceOf(Animal)
    expect(animal).not.toBeInstanceOf(Cat)
    await ds.getRepository(Animal).save(animal)
    expect(recorded).toEqual([
      // The same groups as a Cat made with new Cat(): the discriminator is TypeORM's, not an attribute.
      ['Cat:Tom', Pre, Insert, ['name']],
      ['Cat:Tom', Post, Insert, ['id', 'lives', 'name']],
    ])
    const cat = await ds.getRepository(Cat).findOneByOrFail({ name: 'Tom' })
    expect(cat.lives).toBe(9)
    expect(await ds.manager.count(AuditEntry, { where: { entityName: 'Cat', operation: 'insert' } })).toBe(1)
  })
})

// ---------------------------------------------------------------------------
// TypeORM's own errors come first
// ---------------------------------------------------------------------------

@Entity('tc_part')
class Part {
  @PrimaryGeneratedColumn() id!: number
  @Column({ default: 'x' }) name!: string
  _eventAction() {}
}

describe(`TypeORM's own errors (${DB})`, () => {
  let withLib: DataSource
  let plain: DataSource
  beforeAll(async () => {
    withLib = await openDataSource([Part])
    plain = await openDataSource([Part], null)
  })
  afterAll(async () => {
    await withLib?.destroy()
    await plain?.destroy()
  })

  const calls: [string, (ds: DataSource) => Promise<unknown>][] = [
    ['update() with no values', (ds) => ds.getRepository(Part).update({ id: 1 }, {})],
    ['QueryBuilder update() of an unknown property', (ds) => ds.createQueryBuilder().update(Part).set({ nope: 1 } as ObjectLiteral).where('id = 1').execute()],
    ['softDelete() without a delete-date column', (ds) => ds.getRepository(Part).softDelete({ id: 1 })],
    ['QueryBuilder update() with a LIMIT', (ds) => ds.createQueryBuilder().update(Part).set({ name: 'y' }).limit(1).execute()],
  ]
  for (const [label, call] of calls) {
    it(`${label}: the same error as without the library, when TypeORM refuses it`, async () => {
      const own = await call(plain).then(
        () => undefined,
        (error: Error) => error,
      )
      const ours = await call(withLib).then(
        () => undefined,
        (error: Error) => error,
      )
      if (own) {
        expect(ours?.constructor).toBe(own.constructor)
        expect(ours?.message).toBe(own.message)
      } else {
        // TypeORM accepts it here (MariaDB's UPDATE ... LIMIT): the library runs it too, with events.
        expect(ours).toBeUndefined()
      }
    })
  }
})

// ---------------------------------------------------------------------------
// Subscriber order, many DataSources, the audit table left out
// ---------------------------------------------------------------------------

const order: string[] = []

@EventSubscriber()
class FirstSubscriber implements EntitySubscriberInterface<Ordered> {
  listenTo() {
    return Ordered
  }
  beforeInsert(_event: InsertEvent<Ordered>) {
    order.push('FirstSubscriber')
  }
}

@EventSubscriber()
class LastSubscriber implements EntitySubscriberInterface<Ordered> {
  listenTo() {
    return Ordered
  }
  beforeInsert(_event: InsertEvent<Ordered>) {
    order.push('LastSubscriber')
  }
}

@Entity('tc_ordered')
class Ordered {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  _eventAction(timing: EventActionTiming, type: EventActionType) {
    if (timing === Pre && type === Insert) order.push('event actions')
  }
}

/** The subscriber classes in `ds.subscribers`, ours shown as 'EventActionSubscriber'. */
function subscriberNames(ds: DataSource): string[] {
  return ds.subscribers.map((s) => (s instanceof EventActionSubscriber ? 'EventActionSubscriber' : s.constructor.name))
}

describe(`subscriber order and registration (${DB})`, () => {
  beforeEach(() => {
    order.length = 0
  })

  async function open(options: Partial<ObjectLiteral>, config: object | null = {}): Promise<DataSource> {
    return openDataSource([Ordered], config === null ? null : config, options)
  }

  it('withEventActions() appends ours: the application’s subscribers keep their order and run first', async () => {
    const ds = await open({ subscribers: [FirstSubscriber, LastSubscriber] })
    try {
      expect(subscriberNames(ds)).toEqual(['FirstSubscriber', 'LastSubscriber', 'EventActionSubscriber'])
      await ds.manager.save(Object.assign(new Ordered(), { name: 'x' }))
      expect(order).toEqual(['FirstSubscriber', 'LastSubscriber', 'event actions'])
    } finally {
      await ds.destroy()
    }
  })

  it('a listed EventActionSubscriber keeps its place in the list, with or without withEventActions()', async () => {
    const ds = await open({ subscribers: [FirstSubscriber, EventActionSubscriber, LastSubscriber] })
    try {
      expect(subscriberNames(ds)).toEqual(['FirstSubscriber', 'EventActionSubscriber', 'LastSubscriber'])
      await ds.manager.save(Object.assign(new Ordered(), { name: 'x' }))
      expect(order).toEqual(['FirstSubscriber', 'event actions', 'LastSubscriber'])
    } finally {
      await ds.destroy()
    }
    const direct = await open({ subscribers: [FirstSubscriber, EventActionSubscriber, LastSubscriber] }, null)
    try {
      expect(subscriberNames(direct)).toEqual(['FirstSubscriber', 'EventActionSubscriber', 'LastSubscriber'])
    } finally {
      await direct.destroy()
    }
  })

  it('500 DataSources made with withEventActions() leave TypeORM’s global subscriber storage as it was', async () => {
    const storage = getMetadataArgsStorage().entitySubscribers
    const before = storage.length
    const options = () => withEventActions({ ...databaseOptions(DB), entities: [Ordered] } as Parameters<typeof withEventActions>[0], { maxDepth: 8 })
    for (let i = 0; i < 500; i++) options()
    // Initialized too where that is cheap (in-memory SQLite): building subscribers must not register any.
    if (DB === 'sqlite') {
      for (let i = 0; i < 500; i++) {
        const ds = await new DataSource(options()).initialize()
        expect(subscriberNames(ds)).toEqual(['EventActionSubscriber'])
        await ds.destroy()
      }
    }
    expect(storage.length).toBe(before)
  })

  it('auditTable: false adds no AuditEntry; an audited write then fails, naming the entity, and writes nothing', async () => {
    const ds = await openDataSource([Gadget], { auditTable: false })
    try {
      expect(ds.hasMetadata(AuditEntry)).toBe(false)
      const error = await ds.manager.save(Object.assign(new Gadget(), { tag: new Tag('t') })).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(HardError)
      expect((error as HardError).entityName).toBe('Gadget')
      expect((error as HardError).message).toMatch(/no AuditEntry entity .*auditTable: false/)
      expect(await ds.manager.count(Gadget)).toBe(0)
    } finally {
      await ds.destroy()
    }
  })

  it('withEventActions() adds AuditEntry by default', async () => {
    const ds = await open({})
    try {
      expect(ds.hasMetadata(AuditEntry)).toBe(true)
    } finally {
      await ds.destroy()
    }
  })
})

// ---------------------------------------------------------------------------
// Writes that reached no event: schema-qualified table names, clear()
// ---------------------------------------------------------------------------

@Entity('tc_label')
class Label {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
}

/** No relations: PostgreSQL and MariaDB cannot TRUNCATE a table a foreign key points at. */
@Entity('tc_counter')
class Counter {
  @PrimaryGeneratedColumn() id!: number
  @Column() n!: number
  _eventAction() {}
}

const ledgerEvents: string[] = []

@Entity('tc_ledger')
class Ledger {
  @ManyToMany(() => Label)
  @JoinTable({ name: 'tc_ledger_labels' })
  labels?: Label[]

  @PrimaryGeneratedColumn() id!: number
  @Column() amount!: number
  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    if (type === EventActionType.Update) ledgerEvents.push(`${timing} ${type} ${group ? [...group].join(',') : ''}`)
  }
}

describe(`writes past the events: refused, or run with events (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Ledger, Label, Counter])
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('tc_ledger_labels')}`)
    await ds.query(`DELETE FROM ${ds.driver.escape('tc_ledger')}`)
    await ds.manager.save(Object.assign(new Ledger(), { amount: 1 }))
  })

  const amounts = async () => (await ds.manager.find(Ledger)).map((l) => l.amount)
  /** The table as a user names it with its schema or database: PostgreSQL `public`, SQLite `main`, MariaDB the database. */
  const qualified = () => {
    const prefix = DB === 'postgres' ? 'public' : DB === 'sqlite' ? 'main' : (ds.driver.database as string)
    return `${prefix}.tc_ledger`
  }

  it('a QueryBuilder update/delete naming the table with its schema or database is refused, naming the entity', async () => {
    for (const write of [
      () => ds.createQueryBuilder().update(qualified()).set({ amount: 2 }).execute(),
      () => ds.createQueryBuilder().delete().from(qualified()).execute(),
    ]) {
      const error = await write().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect((error as Error)?.name).toBe('BulkWriteError')
      expect((error as HardError).entityName).toBe('Ledger')
    }
    expect(await amounts()).toEqual([1])
  })

  it("relation().add/remove of a many-to-many whose owner has event actions runs as a save of the owner: its Update, with the relation in the group", async () => {
    const ledger = (await ds.manager.find(Ledger))[0]!
    const [a, b] = await ds.manager.save([Object.assign(new Label(), { name: 'a' }), Object.assign(new Label(), { name: 'b' })])
    const junction = async () =>
      ((await ds.query(`SELECT ${ds.driver.escape('tcLabelId')} AS id FROM ${ds.driver.escape('tc_ledger_labels')}`)) as { id: number }[]).map((r) => Number(r.id)).sort()
    ledgerEvents.length = 0
    await ds.createQueryBuilder().relation(Ledger, 'labels').of(ledger).add([a!, b!.id])
    expect(await junction()).toEqual([a!.id, b!.id].sort())
    // Adding what is there already changes nothing and fires nothing.
    await ds.createQueryBuilder().relation(Ledger, 'labels').of(ledger.id).add(a!)
    await ds.createQueryBuilder().relation(Ledger, 'labels').of(ledger).remove(a!.id)
    expect(await junction()).toEqual([b!.id])
    expect(ledgerEvents).toEqual(['Pre Update labels', 'Post Update labels', 'Pre Update labels', 'Post Update labels'])
    const error = await ds
      .createQueryBuilder()
      .relation(Ledger, 'labels')
      .of(99999)
      .add(a!)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(error).toMatchObject({ name: 'HardError', entityName: 'Ledger', message: expect.stringContaining("relation(Ledger, 'labels').of({\"id\":99999}): no Ledger with that key") })
    expect(await junction()).toEqual([b!.id])
  })

  it('repository.clear() is refused for an entity with event actions, and the rows stay', async () => {
    await ds.manager.save(Object.assign(new Counter(), { n: 1 }))
    const error = await ds.getRepository(Counter).clear().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((error as Error)?.name).toBe('BulkWriteError')
    expect((error as Error).message).toMatch(/^Counter has event actions, and clear\(\) would bypass them\. .*allowClear: true/)
    expect(await ds.manager.count(Counter)).toBe(1)
  })

  it('clear() empties the table where the config allows it (test set-up)', async () => {
    await ds.destroy()
    const allowing = await openDataSource([Counter], { allowClear: true })
    try {
      await allowing.manager.save(Object.assign(new Counter(), { n: 5 }))
      await allowing.getRepository(Counter).clear()
      expect(await allowing.manager.count(Counter)).toBe(0)
    } finally {
      await allowing.destroy()
      ds = await openDataSource([Ledger, Label, Counter])
    }
  })
})

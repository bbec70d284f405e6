import {
  Column,
  DeleteDateColumn,
  Entity,
  EventSubscriber,
  type EntitySubscriberInterface,
  type RemoveEvent,
  type UpdateEvent,
  In,
  JoinColumn,
  ManyToOne,
  OneToOne,
  MoreThan,
  PrimaryGeneratedColumn,
  VersionColumn,
  type DataSource,
  type Logger,
} from 'typeorm'
import {
  Audited,
  AuditEntry,
  BulkWriteError,
  EventActionOptions,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
  runAction,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete } = EventActionType

/** What the handlers saw: `ctx.previous()` of qty, and after-commit callbacks that ran. */
const seen: string[] = []

@Entity('ev_customer')
class EvCustomer {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
}

@Entity('ev_item')
@Audited()
class EvItem {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) qty!: number
  @Column({ default: 'new' }) status!: string
  @VersionColumn() version!: number
  @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null
  @ManyToOne(() => EvCustomer, { nullable: true }) customer!: EvCustomer | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<EvItem>) {
    if (!(this instanceof EvItem)) throw new Error('not an instance')
    if (type === EventActionType.Load) return
    record(`EvItem#${this.id ?? 'new'}`, timing, type, group)
    if (type === Update && timing === Pre && group?.has('qty')) seen.push(`${this.name}: ${String(ctx.previous('qty'))} -> ${this.qty}`)
    if (timing === Pre && type === Update && group?.has('name')) this.name = this.name.toUpperCase()
    if (timing === Pre && this.name === 'VETO') throw new SoftError('vetoed', { attribute: 'name' })
    if (timing === Post && this.qty === 666) throw new HardError('Post failed')
    if (timing === Post) ctx.afterCommit(() => seen.push(`committed ${type} ${this.name}`))
  }
}

@Entity('ev_forbidden')
@EventActionOptions({ bulkWrites: 'forbid' })
class EvForbidden {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`EvForbidden#${this.id ?? 'new'}`, timing, type, group)
  }
}

@Entity('ev_profile')
class EvProfile {
  @PrimaryGeneratedColumn() id!: number
  @OneToOne(() => EvCustomer)
  @JoinColumn()
  owner!: EvCustomer
  @Column() rank!: number
  _eventAction() {}
}

@Entity('ev_line')
class EvLine {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ nullable: true }) customerId!: number | null
  @ManyToOne(() => EvCustomer, { nullable: true })
  @JoinColumn({ name: 'customerId' })
  customer!: EvCustomer | null
  _eventAction() {}
}

/** The application's own subscriber: what TypeORM hands it for update()/delete() stays what it was without the library. */
const seenByApp: string[] = []
@EventSubscriber()
class AppSubscriber implements EntitySubscriberInterface<EvItem> {
  listenTo() {
    return EvItem
  }
  beforeUpdate(event: UpdateEvent<EvItem>) {
    seenByApp.push(`beforeUpdate ${event.entity instanceof EvItem ? 'instance' : JSON.stringify(event.entity)} ${event.databaseEntity ? 'copy' : 'no copy'}`)
  }
  afterUpdate(event: UpdateEvent<EvItem>) {
    seenByApp.push(`afterUpdate ${event.entity instanceof EvItem ? 'instance' : JSON.stringify(event.entity)}`)
  }
  afterRemove(event: RemoveEvent<EvItem>) {
    seenByApp.push(`afterRemove ${event.entity === undefined ? 'no entity' : 'entity'}`)
  }
}

const entities = [EvCustomer, EvItem, EvForbidden, EvLine, EvProfile]

/** Counts the statements a DataSource sends (TypeORM's logger), by their first word. */
class CountingLogger implements Logger {
  statements: string[] = []
  logQuery(query: string) {
    this.statements.push(query.trim().split(/\s+/)[0]!.toUpperCase())
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

async function items(ds: DataSource): Promise<[string, number, boolean][]> {
  const rows = await ds.getRepository(EvItem).find({ withDeleted: true, order: { id: 'ASC' } })
  return rows.map((r) => [r.name, r.qty, r.deletedAt !== null])
}

async function audits(ds: DataSource): Promise<[string, string, Record<string, { old: unknown; new: unknown }>][]> {
  const rows = await ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })
  return rows.map((r) => [r.operation, r.entityId, r.changes as Record<string, { old: unknown; new: unknown }>])
}

describe(`Bulk writes fire per-row events (${DB})`, () => {
  let ds: DataSource
  const logger = new CountingLogger()
  beforeAll(async () => {
    ds = await openDataSource(entities, { allowClear: true, bulkBatchSize: 7 }, { logger, logging: ['query'], subscribers: [AppSubscriber] })
  })
  afterAll(() => ds.destroy())

  let ids: number[]
  beforeEach(async () => {
    for (const e of [AuditEntry, EvItem, EvForbidden]) await ds.getRepository(e).clear()
    const repo = ds.getRepository(EvItem)
    const rows = [['a', 1], ['b', 2], ['c', 3]] as const
    await ds.createQueryBuilder().insert().into(EvItem).values(rows.map(([name, qty]) => ({ name, qty, version: 1 }))).callListeners(false).execute()
    ids = (await repo.find({ order: { id: 'ASC' } })).map((r) => r.id)
    resetRecorded()
    seen.length = 0
    seenByApp.length = 0
  })

  it("the application's subscribers get what TypeORM sends for such a write (the values, once), not the rows", async () => {
    await ds.getRepository(EvItem).update({ qty: In([1, 2]) }, { status: 'done' })
    await ds.getRepository(EvItem).delete({ qty: 3 })
    expect(seenByApp).toEqual(['beforeUpdate {"status":"done"} no copy', 'afterUpdate {"status":"done"}', 'afterRemove no entity'])
    expect(recorded.filter((r) => r[1] === Post).length).toBe(3)
  })

  it('whereEntity(e).updateEntity(true): e receives the version the UPDATE set, as TypeORM gives it', async () => {
    const item = await ds.getRepository(EvItem).findOneByOrFail({ name: 'a' })
    expect(item.version).toBe(1)
    await ds.createQueryBuilder().update(EvItem).set({ status: 'x' }).whereEntity(item).updateEntity(true).execute()
    expect(item.version).toBe(2)
  })

  it('update(criteria, values): Pre and Post Update per changed row, on an instance, with the changed group, audit old -> new', async () => {
    const result = await ds.getRepository(EvItem).update({ qty: In([1, 2]) }, { status: 'done', qty: 2 })
    expect(result.affected).toBe(2)
    expect(recorded).toEqual([
      [`EvItem#${ids[0]}`, Pre, Update, ['qty', 'status']],
      [`EvItem#${ids[1]}`, Pre, Update, ['status']],
      [`EvItem#${ids[0]}`, Post, Update, ['qty', 'status', 'version']],
      [`EvItem#${ids[1]}`, Post, Update, ['status', 'version']],
    ])
    expect(seen).toEqual(['a: 1 -> 2', 'committed Update a', 'committed Update b'])
    const trail = await audits(ds)
    expect(trail.map(([op, id, changes]) => [op, id, changes.status, changes.qty])).toEqual([
      ['update', String(ids[0]), { old: 'new', new: 'done' }, { old: 1, new: 2 }],
      ['update', String(ids[1]), { old: 'new', new: 'done' }, undefined],
    ])
  })

  it('a row the values would not change gets no event, no write and no audit entry', async () => {
    const result = await ds.getRepository(EvItem).update({ name: 'a' }, { qty: 1 })
    expect(result.affected).toBe(0)
    expect(recorded).toEqual([])
    expect(await audits(ds)).toEqual([])
  })

  it('values a Pre handler changes are written too, and join the Post group', async () => {
    await ds.getRepository(EvItem).update(ids[0]!, { name: 'renamed' })
    expect(await items(ds)).toEqual([
      ['RENAMED', 1, false],
      ['b', 2, false],
      ['c', 3, false],
    ])
    expect(recorded.map((r) => [r[1], r[3]])).toEqual([
      [Pre, ['name']],
      [Post, ['name', 'version']],
    ])
  })

  it('update by id and by ids, manager.update, whereInIds and QueryBuilder update', async () => {
    await ds.getRepository(EvItem).update([ids[0]!, ids[1]!], { qty: 10 })
    await ds.manager.update(EvItem, { id: ids[2] }, { qty: 30 })
    await ds.createQueryBuilder().update(EvItem).set({ status: 'qb' }).where('qty >= :min', { min: 30 }).execute()
    await ds.createQueryBuilder().update(EvItem).set({ status: 'ids' }).whereInIds([ids[0]]).execute()
    expect((await ds.getRepository(EvItem).find({ order: { id: 'ASC' } })).map((r) => [r.qty, r.status])).toEqual([
      [10, 'ids'],
      [10, 'new'],
      [30, 'qb'],
    ])
    expect(recorded.filter((r) => r[1] === Post).length).toBe(5)
  })

  it('increment()/decrement() and set() with SQL: the database computes, Pre sees the value it will write, Post and audit what it wrote', async () => {
    await ds.getRepository(EvItem).increment({ qty: MoreThan(1) }, 'qty', 5)
    await ds.getRepository(EvItem).decrement({ name: 'a' }, 'qty', 1)
    await ds.createQueryBuilder().update(EvItem).set({ qty: () => 'qty * 10' }).where('name = :n', { n: 'c' }).execute()
    expect(await items(ds)).toEqual([
      ['a', 0, false],
      ['b', 7, false],
      ['c', 80, false],
    ])
    expect(seen.filter((s) => !s.startsWith('committed'))).toEqual(['b: 2 -> 7', 'c: 3 -> 8', 'a: 1 -> 0', 'c: 8 -> 80'])
    const trail = await audits(ds)
    expect(trail.map(([, , changes]) => changes.qty)).toEqual([
      { old: 2, new: 7 },
      { old: 3, new: 8 },
      { old: 1, new: 0 },
      { old: 8, new: 80 },
    ])
    expect(trail.map(([, , changes]) => changes.version)).toEqual([
      { old: 1, new: 2 },
      { old: 1, new: 2 },
      { old: 1, new: 2 },
      { old: 2, new: 3 },
    ])
  })

  it('a relation set by update() is in the group and the audit entry', async () => {
    const customer = await ds.getRepository(EvCustomer).save({ name: 'acme' })
    await ds.getRepository(EvItem).update(ids[0]!, { customer: { id: customer.id } })
    expect(recorded.map((r) => [r[1], r[3]])).toEqual([
      [Pre, ['customer']],
      [Post, ['customer', 'version']],
    ])
    const row = await ds.getRepository(EvItem).findOne({ where: { id: ids[0] }, relations: { customer: true } })
    expect(row!.customer!.name).toBe('acme')
    expect((await audits(ds))[0]![2].customer).toEqual({ old: null, new: customer.id })
  })

  it('delete(criteria): Pre and Post Delete per row, delete audit entries with the old values', async () => {
    const result = await ds.getRepository(EvItem).delete({ qty: In([1, 3]) })
    expect(result.affected).toBe(2)
    expect(recorded).toEqual([
      [`EvItem#${ids[0]}`, Pre, Delete, null],
      [`EvItem#${ids[2]}`, Pre, Delete, null],
      ['EvItem#new', Post, Delete, null],
      ['EvItem#new', Post, Delete, null],
    ])
    expect(await items(ds)).toEqual([['b', 2, false]])
    const trail = await audits(ds)
    expect(trail.map(([op, id, changes]) => [op, id, changes.name])).toEqual([
      ['delete', String(ids[0]), { old: 'a', new: null }],
      ['delete', String(ids[2]), { old: 'c', new: null }],
    ])
    await ds.createQueryBuilder().delete().from(EvItem).where('name = :n', { n: 'b' }).execute()
    expect(await items(ds)).toEqual([])
  })

  it('softDelete()/restore(): as softRemove()/recover(), only rows that change', async () => {
    const repo = ds.getRepository(EvItem)
    expect((await repo.softDelete({ qty: In([1, 2]) })).affected).toBe(2)
    expect((await repo.softDelete({ qty: In([1, 2]) })).affected).toBe(0)
    expect(await items(ds)).toEqual([
      ['a', 1, true],
      ['b', 2, true],
      ['c', 3, false],
    ])
    expect((await repo.restore({ name: 'a' })).affected).toBe(1)
    expect(recorded.map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
      [`EvItem#${ids[0]}`, Pre, Delete, null],
      [`EvItem#${ids[1]}`, Pre, Delete, null],
      [`EvItem#${ids[0]}`, Post, Delete, null],
      [`EvItem#${ids[1]}`, Post, Delete, null],
      [`EvItem#${ids[0]}`, Pre, Update, ['deletedAt']],
      [`EvItem#${ids[0]}`, Post, Update, ['deletedAt']],
    ])
    expect(await items(ds)).toEqual([
      ['a', 1, false],
      ['b', 2, true],
      ['c', 3, false],
    ])
  })

  it('insert() and save() of plain objects run on instances; the caller objects receive what was written', async () => {
    const repo = ds.getRepository(EvItem)
    const inserted = { name: 'd', qty: 4 }
    const result = await repo.insert(inserted)
    expect(result.identifiers[0]!.id).toEqual(expect.any(Number))
    expect(inserted).toMatchObject({ id: result.identifiers[0]!.id, status: 'new', version: 1 })
    const saved = { name: 'e' }
    expect(await repo.save(saved)).toBe(saved)
    expect(saved).toMatchObject({ id: expect.any(Number), qty: 0, version: 1 })
    await ds.manager.save(EvItem, [{ name: 'f' }, { name: 'g' }])
    expect(recorded.filter((r) => r[2] === Insert).map((r) => r[1])).toEqual([Pre, Post, Pre, Post, Pre, Pre, Post, Post])
    // A plain object with the primary key of a row: an Update of what differs.
    resetRecorded()
    const existing = { id: ids[1]!, name: 'bee' }
    await repo.save(existing)
    expect(recorded.map((r) => [r[1], r[2], r[3]])).toEqual([
      [Pre, Update, ['name']],
      [Post, Update, ['name', 'version']],
    ])
    expect(existing).toMatchObject({ name: 'BEE', version: 2 })
  })

  it('save() of a plain object gives back a column that is also a join column (customerId beside customer)', async () => {
    const customer = await ds.getRepository(EvCustomer).save({ name: 'acme' })
    const line = { name: 'l', customer }
    await ds.getRepository(EvLine).save(line)
    expect(line).toMatchObject({ id: expect.any(Number), customerId: customer.id })
  })

  it('upsert() on a relation conflict path updates the row that has it (TypeORM\'s "upsert on one-to-one relation")', async () => {
    const owner = await ds.getRepository(EvCustomer).save({ name: 'o' })
    await ds.getRepository(EvProfile).upsert({ owner, rank: 1 }, ['owner.id'])
    await ds.getRepository(EvProfile).upsert({ owner, rank: 2 }, ['owner.id'])
    const rows = await ds.getRepository(EvProfile).find({ relations: { owner: true } })
    expect(rows.map((r) => [r.owner.id, r.rank])).toEqual([[owner.id, 2]])
  })

  it('upsert(): Insert events where no row matched, Update events (group = what changes) where one did', async () => {
    const objects = [
      { id: ids[0]!, name: 'a', qty: 100 },
      { id: 9999, name: 'z', qty: 1 },
    ]
    await ds.getRepository(EvItem).upsert(objects, ['id'])
    expect(recorded.map((r) => [r[0], r[1], r[2], r[3]])).toEqual(
      expect.arrayContaining([
        [`EvItem#${ids[0]}`, Pre, Update, ['qty']],
        [`EvItem#${ids[0]}`, Post, Update, ['qty', 'version']],
        ['EvItem#9999', Pre, Insert, ['id', 'name', 'qty']],
      ]),
    )
    expect(recorded.length).toBe(4)
    expect((await items(ds)).map((r) => r[1])).toEqual([100, 2, 3, 1])
    // The new row has the key the object gave, as TypeORM's INSERT writes it (on PostgreSQL TypeORM writes DEFAULT for a generated key).
    if (DB !== 'postgres') expect(await ds.getRepository(EvItem).findOneBy({ id: 9999 })).toMatchObject({ name: 'z' })
  })

  describe('a handler that throws on any row leaves nothing', () => {
    const nothingChanged = async () => {
      expect(await items(ds)).toEqual([
        ['a', 1, false],
        ['b', 2, false],
        ['c', 3, false],
      ])
      expect(await audits(ds)).toEqual([])
      expect(seen.filter((s) => s.startsWith('committed'))).toEqual([])
    }

    it('Pre, on the last row of a later batch', async () => {
      await ds.createQueryBuilder().insert().into(EvItem).values(Array.from({ length: 12 }, (_, i) => ({ name: `n${i}`, qty: 1, version: 1 }))).callListeners(false).execute()
      await ds.createQueryBuilder().update(EvItem).set({ name: 'VETO' }).where('name = :n', { n: 'n11' }).callListeners(false).execute()
      await expect(ds.getRepository(EvItem).update({ qty: 1 }, { status: 'x' })).rejects.toThrow(SoftError)
      expect(await ds.getRepository(EvItem).count({ where: { status: 'x' } })).toBe(0)
      // Its Pre Delete vetoes too: the delete of 12 rows in two batches leaves all of them.
      await expect(ds.getRepository(EvItem).delete({ qty: 1, name: In(Array.from({ length: 12 }, (_, i) => `n${i}`).concat('VETO')) })).rejects.toThrow(SoftError)
      expect(await ds.getRepository(EvItem).count()).toBe(15)
      await ds.createQueryBuilder().delete().from(EvItem).where('qty = 1 AND name <> :a', { a: 'a' }).callListeners(false).execute()
      resetRecorded()
      seen.length = 0
      await ds.getRepository(AuditEntry).clear()
      await nothingChanged()
    })

    it('Post, without and inside a caller transaction (which stays usable)', async () => {
      await expect(ds.getRepository(EvItem).update({ qty: MoreThan(1) }, { qty: 666 })).rejects.toThrow('Post failed')
      await nothingChanged()
      await ds.transaction(async (m) => {
        await expect(m.getRepository(EvItem).update({ name: 'a' }, { qty: 666 })).rejects.toThrow('Post failed')
        await m.getRepository(EvItem).update({ name: 'b' }, { qty: 20 })
      })
      expect((await items(ds)).map((r) => r[1])).toEqual([1, 20, 3])
      expect((await audits(ds)).length).toBe(1)
    })

    it('the caller transaction that rolls back takes the bulk write with it', async () => {
      await expect(
        ds.transaction(async (m) => {
          await m.getRepository(EvItem).update({ name: 'a' }, { qty: 50 })
          await m.getRepository(EvItem).delete({ name: 'c' })
          throw new Error('caller failed')
        }),
      ).rejects.toThrow('caller failed')
      await nothingChanged()
    })
  })

  it('streams in batches (bulkBatchSize: 7): every matching row once', async () => {
    await ds.createQueryBuilder().insert().into(EvItem).values(Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, qty: 7, version: 1 }))).callListeners(false).execute()
    resetRecorded()
    logger.statements = []
    const result = await ds.getRepository(EvItem).update({ qty: 7 }, { qty: 8 })
    expect(result.affected).toBe(20)
    expect(recorded.filter((r) => r[1] === Pre).length).toBe(20)
    expect(new Set(recorded.filter((r) => r[1] === Post).map((r) => r[0])).size).toBe(20)
    // 3 batches of at most 7, each SELECT, UPDATE, audit INSERT: the audit entries do not wait in memory for
    // the commit; no fourth SELECT (the last batch had fewer than 7 rows).
    const statements = logger.statements.filter((s) => ['SELECT', 'UPDATE', 'INSERT'].includes(s))
    expect(statements).toEqual(Array.from({ length: 3 }, () => ['SELECT', 'UPDATE', 'INSERT']).flat())
    expect((await audits(ds)).length).toBe(20)
  })

  const servers = DB === 'sqlite' ? it.skip : it
  servers('concurrent increment()s of one row lose nothing: each reads, under its lock, what the one before wrote', async () => {
    await Promise.all(Array.from({ length: 5 }, () => ds.getRepository(EvItem).increment({ name: 'a' }, 'qty', 1)))
    expect((await items(ds))[0]).toEqual(['a', 6, false])
    const olds = (await audits(ds)).map(([, , changes]) => changes.qty!.old as number)
    expect(olds.sort()).toEqual([1, 2, 3, 4, 5])
  })

  it('runs inside runAction: the audit entries carry the acting user', async () => {
    await runAction({ name: 'items:bulk', user: { id: 'u1' } }, () => ds.getRepository(EvItem).update({ name: 'a' }, { qty: 5 }))
    const [entry] = await ds.getRepository(AuditEntry).find()
    expect([entry!.userId, entry!.actionName]).toEqual(['u1', 'items:bulk'])
  })

  it("an entity with bulkWrites: 'forbid' keeps the refusal", async () => {
    await ds.getRepository(EvForbidden).save(ds.getRepository(EvForbidden).create({ name: 'x' }))
    await expect(ds.getRepository(EvForbidden).update({ name: 'x' }, { name: 'y' })).rejects.toThrow(BulkWriteError)
    await expect(ds.getRepository(EvForbidden).insert({ name: 'y' })).rejects.toThrow(BulkWriteError)
  })

  it('orIgnore(): an object meeting an existing row (or an earlier object) on a unique key is left out and fires nothing; the others are Inserts', async () => {
    const result = await ds
      .createQueryBuilder()
      .insert()
      .into(EvItem)
      .values([{ id: ids[0]!, name: 'clash' }, { name: 'new one' }, { id: 9000, name: 'n1' }, { id: 9000, name: 'n2' }])
      .orIgnore()
      .execute()
    expect(result.identifiers.length).toBe(2)
    expect(recorded.map((r) => [r[1], r[2]])).toEqual([
      [Pre, Insert],
      [Pre, Insert],
      [Post, Insert],
      [Post, Insert],
    ])
    if (DB !== 'postgres') expect(recorded.filter((r) => r[1] === Post).map((r) => r[0])).toContain('EvItem#9000')
    expect((await items(ds)).map((r) => r[0]).sort()).toEqual(['a', 'b', 'c', 'n1', 'new one'])
  })

  it('returning() on a write with events is refused, naming the entity, before any SQL (where TypeORM allows RETURNING at all)', async () => {
    // Where TypeORM has no UPDATE ... RETURNING for the driver, it refuses that itself, first (already in returning()).
    const supported = ds.driver.isReturningSqlSupported('update')
    const error = await Promise.resolve()
      .then(() => ds.createQueryBuilder().update(EvItem).set({ status: 'r' }).where('qty > 0').returning('*').execute())
      .catch((e: unknown) => e)
    if (supported) {
      expect(error).toBeInstanceOf(BulkWriteError)
      expect((error as BulkWriteError).message).toContain('EvItem has event actions, and update(criteria, values) / QueryBuilder update() with returning() would bypass them')
    } else expect(error).toBeInstanceOf(Error)
    expect(await ds.getRepository(EvItem).count({ where: { status: 'r' } })).toBe(0)
  })

  it('onConflict() with SQL is refused, naming the entity: which row an object meets is unknown', async () => {
    // TypeORM 1.x has no onConflict().
    if (typeof (ds.createQueryBuilder().insert() as unknown as { onConflict?: unknown }).onConflict !== 'function') return
    const error = await ds.createQueryBuilder().insert().into(EvItem).values({ name: 'x' }).onConflict('("id") DO NOTHING').execute().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BulkWriteError)
    expect((error as BulkWriteError).entityName).toBe('EvItem')
  })
})

describe(`Bulk update of 100 rows: statements (${DB})`, () => {
  it('one SELECT, one UPDATE, one audit INSERT (and the transaction): the new version is known without reading it', async () => {
    const logger = new CountingLogger()
    const ds = await openDataSource(entities, {}, { logger, logging: ['query'] })
    try {
      await ds.createQueryBuilder().insert().into(EvItem).values(Array.from({ length: 100 }, (_, i) => ({ name: `r${i}`, qty: 1, version: 1 }))).callListeners(false).execute()
      logger.statements = []
      await ds.getRepository(EvItem).update({ qty: 1 }, { status: 'bulk' })
      const statements = logger.statements.filter((s) => !['BEGIN', 'COMMIT', 'START', 'SAVEPOINT', 'RELEASE'].includes(s))
      expect(statements).toEqual(['SELECT', 'UPDATE', 'INSERT'])
      expect(await ds.getRepository(EvItem).count({ where: { status: 'bulk' } })).toBe(100)
    } finally {
      await ds.destroy()
    }
  })
})

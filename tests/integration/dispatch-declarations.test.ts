import { Min } from 'class-validator'
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import {
  EntityValidationError,
  EventActionOptions,
  EventActions,
  EventActionTiming,
  EventActionType,
  HardError,
  OnEventAction,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete, Load, Reset } = EventActionType
const calls: string[] = []

@Entity('dd_declared')
@EventActionOptions({ handles: [Insert, Update] })
class DdDeclared {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Min(0) @Column({ default: 0 }) qty!: number
  _eventAction(timing: EventActionTiming, type: EventActionType) {
    calls.push(`DdDeclared ${timing} ${type}`)
  }
  // Load is dispatched for this one, but _eventAction still is not called for it.
  @OnEventAction({ timing: Post, types: [Load] })
  loaded() {
    calls.push('DdDeclared loaded()')
  }
}

/** Only declarative handlers, none for Load. */
@Entity('dd_declarative')
class DdDeclarative {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @OnEventAction({ timing: Pre, types: [Insert] })
  upper() {
    this.name = this.name.toUpperCase()
  }
}

/** Load contexts: the Pre context object, kept to compare with Post's. */
const contexts: { timing: EventActionTiming; ctx: EventActionContext<DdLoaded>; timingSeen: EventActionTiming }[] = []

@Entity('dd_loaded')
class DdLoaded {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  _eventAction(timing: EventActionTiming, type: EventActionType, _group: AttributeGroup | null, ctx: EventActionContext<DdLoaded>) {
    if (type === Load) contexts.push({ timing, ctx, timingSeen: ctx.timing })
  }
}

@Entity('dd_snapshot')
@EventActionOptions({ resetState: 'snapshot' })
class DdSnapshot {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  _eventAction() {}
}

/** A declared Reset handler: the entity uses reset(), so it keeps snapshots without saying so. */
@Entity('dd_reset_handler')
class DdResetHandler {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @OnEventAction({ timing: Post, types: [Reset] })
  noteReset() {
    calls.push('DdResetHandler Post Reset')
  }
}

@Entity('dd_reload')
class DdReload {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  _eventAction() {}
}

describe(`Declared event types, one Load context per row, reset state (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let actions: EventActions
  beforeAll(async () => {
    ds = await openDataSource([DdDeclared, DdDeclarative, DdLoaded, DdSnapshot, DdResetHandler, DdReload])
    actions = new EventActions(ds)
  })
  afterAll(() => ds.destroy())
  beforeEach(() => {
    calls.length = 0
    contexts.length = 0
  })

  it('handles: [Insert, Update]: _eventAction runs for those only; validation still runs on Update', async () => {
    const repo = ds.getRepository(DdDeclared)
    const row = await repo.save(repo.create({ name: 'a', qty: 1 }))
    const loaded = await repo.findOneByOrFail({ id: row.id })
    loaded.name = 'b'
    await repo.save(loaded)
    loaded.qty = -1
    await expect(repo.save(loaded)).rejects.toBeInstanceOf(EntityValidationError)
    await repo.remove(await repo.findOneByOrFail({ id: row.id }))
    expect(calls).toEqual([
      'DdDeclared Pre Insert',
      'DdDeclared Post Insert',
      'DdDeclared loaded()',
      'DdDeclared Pre Update',
      'DdDeclared Post Update',
      'DdDeclared Pre Update',
      'DdDeclared loaded()',
    ])
  })

  it('an entity with only declarative handlers runs them, and nothing for the types they do not name', async () => {
    const repo = ds.getRepository(DdDeclarative)
    const row = await repo.save(repo.create({ name: 'low' }))
    expect(row.name).toBe('LOW')
    expect((await repo.findOneByOrFail({ id: row.id })).name).toBe('LOW')
  })

  it("a row's Pre and Post Load share one context, whose timing is Post by then", async () => {
    const repo = ds.getRepository(DdLoaded)
    await repo.save([repo.create({ name: 'x' }), repo.create({ name: 'y' })])
    contexts.length = 0
    await repo.find()
    expect(contexts.map((c) => [c.timing, c.timingSeen])).toEqual([
      [Pre, Pre],
      [Post, Post],
      [Pre, Pre],
      [Post, Post],
    ])
    expect(contexts[0]!.ctx).toBe(contexts[1]!.ctx)
    expect(contexts[2]!.ctx).toBe(contexts[3]!.ctx)
    expect(contexts[0]!.ctx).not.toBe(contexts[2]!.ctx)
    expect(contexts[1]!.ctx.entity.name).toBe('x')
  })

  describe('reset()', () => {
    async function changedBehind<E extends { id: number; name: string }>(cls: new () => E): Promise<E> {
      const repo = ds.getRepository(cls)
      const saved = await repo.save(repo.create({ name: 'saved' } as E))
      const loaded = await repo.findOneByOrFail({ id: saved.id } as never)
      // Another writer changes the row after it was loaded.
      await ds.createQueryBuilder().update(cls).set({ name: 'elsewhere' } as never).where('id = :id', { id: saved.id }).callListeners(false).execute()
      loaded.name = 'edited'
      return loaded
    }

    it("resetState 'reload' (the default): reset() reads the row, so it goes back to what the database holds now", async () => {
      const item = await changedBehind(DdReload)
      await actions.reset(item)
      expect(item.name).toBe('elsewhere')
    })

    it("resetState 'snapshot': reset() goes back to the state as loaded, without a query", async () => {
      const item = await changedBehind(DdSnapshot)
      await actions.reset(item)
      expect(item.name).toBe('saved')
    })

    it('an entity with a declared Reset handler keeps snapshots too', async () => {
      const item = await changedBehind(DdResetHandler)
      await actions.reset(item)
      expect(item.name).toBe('saved')
      expect(calls).toEqual(['DdResetHandler Post Reset'])
    })

    it('after a save, reload mode goes back to what that save wrote', async () => {
      const repo = ds.getRepository(DdReload)
      const item = await repo.save(repo.create({ name: 'first' }))
      item.name = 'second'
      await repo.save(item)
      item.name = 'unsaved'
      await actions.reset(item)
      expect(item.name).toBe('second')
    })

    it('an instance made by create() and then saved goes back to the saved row, not to its created state', async () => {
      const item = await actions.create(DdReload, { name: 'created' })
      await ds.getRepository(DdReload).save(item)
      item.name = 'changed'
      await ds.getRepository(DdReload).save(item)
      item.name = 'unsaved'
      await actions.reset(item)
      expect(item.name).toBe('changed')
    })
  })

  it('bad declarations fail loudly at the first event, naming entity and value', async () => {
    @Entity('dd_bad_types')
    @EventActionOptions({ handles: [Insert, 'Upsert' as EventActionType] })
    class DdBadTypes {
      @PrimaryGeneratedColumn() id!: number
      _eventAction() {}
    }
    @Entity('dd_bad_reset')
    @EventActionOptions({ resetState: 'sometimes' as 'reload' })
    class DdBadReset {
      @PrimaryGeneratedColumn() id!: number
      _eventAction() {}
    }
    @Entity('dd_bad_bulk')
    @EventActionOptions({ bulkWrites: 'sometimes' as 'events' })
    class DdBadBulk {
      @PrimaryGeneratedColumn() id!: number
      _eventAction() {}
    }
    const bad = await openDataSource([DdBadTypes, DdBadReset, DdBadBulk])
    try {
      await expect(bad.getRepository(DdBadTypes).save(new DdBadTypes())).rejects.toMatchObject({
        name: 'HardError',
        entityName: 'DdBadTypes',
        message: expect.stringContaining('handles of DdBadTypes must list event types'),
      })
      await expect(bad.getRepository(DdBadReset).save(new DdBadReset())).rejects.toThrow(HardError)
      await expect(bad.getRepository(DdBadReset).save(new DdBadReset())).rejects.toThrow("resetState of DdBadReset must be 'reload' or 'snapshot', got sometimes")
      await expect(bad.getRepository(DdBadBulk).save(new DdBadBulk())).rejects.toThrow(
        "@EventActionOptions bulkWrites of DdBadBulk must be 'events', 'allow' or 'forbid', got sometimes",
      )
    } finally {
      await bad.destroy()
    }
    void Delete
  })
})

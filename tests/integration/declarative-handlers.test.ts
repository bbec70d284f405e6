/**
 * Declarative handlers (issue 3): `@OnEventAction({ timing, types, when })`
 * and `describeEventActions`, on the database chosen by DB.
 *
 * Handlers record `[method, ctx.timing, ctx.type, group]` through the shared
 * recorder, so every test asserts the whole ordered sequence of what ran.
 */
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  Audited,
  Automatic,
  describeEventActions,
  EventActions,
  EventActionTiming,
  EventActionType,
  HardError,
  OnEventAction,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
  type OnEventActionOptions,
} from '../../src'
import { countRows, DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert, Update, Delete, Load, Create, BO2BO } = EventActionType

/** Lets every other pending job run, so that handlers running concurrently would interleave. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Records a declarative handler's call, checking that it got the event's own group and context. */
function recordDeclared(method: string, entity: object, group: AttributeGroup | null, ctx: EventActionContext<any>): void {
  expect(ctx.entity).toBe(entity)
  expect(ctx.group).toBe(group)
  record(method, ctx.timing, ctx.type, group)
}

// ----------------------------------------------------------------- entities

/** Both styles: `_eventAction` and declarative handlers. */
@Entity('dh_account')
class DhAccount {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) postcode!: string | null
  @Column({ default: 0 }) visits!: number

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record('_eventAction', timing, type, group)
  }

  @OnEventAction({ timing: Pre, types: [Insert, Update], when: ['postcode'] })
  formatPostcode(group: AttributeGroup | null, ctx: EventActionContext<DhAccount>) {
    recordDeclared('formatPostcode', this, group, ctx)
    if (this.postcode) this.postcode = this.postcode.toUpperCase()
  }

  @OnEventAction({ timing: Pre, types: [Insert, Update, Delete] })
  everyPre(group: AttributeGroup | null, ctx: EventActionContext<DhAccount>) {
    recordDeclared('everyPre', this, group, ctx)
  }

  @OnEventAction({ timing: Pre, types: [Update, Delete], when: ['name', 'visits'] })
  nameOrVisits(group: AttributeGroup | null, ctx: EventActionContext<DhAccount>) {
    recordDeclared('nameOrVisits', this, group, ctx)
  }

  @OnEventAction({ timing: Post, types: [Insert, Update, Delete] })
  everyPost(group: AttributeGroup | null, ctx: EventActionContext<DhAccount>) {
    recordDeclared('everyPost', this, group, ctx)
  }
}

/** Only declarative handlers, no `_eventAction`. */
@Entity('dh_plain')
class DhPlain {
  @PrimaryGeneratedColumn() id!: number
  @Column() label!: string
  @Column({ type: 'varchar', nullable: true }) other!: string | null
  @Column({ type: 'varchar', nullable: true }) stamped!: string | null

  @OnEventAction({ timing: Pre, types: [Insert] })
  stamp(group: AttributeGroup | null, ctx: EventActionContext<DhPlain>) {
    recordDeclared('stamp', this, group, ctx)
    this.stamped = `stamped ${this.label}`
  }

  @OnEventAction({ timing: Post, types: [Create] })
  initialize(group: AttributeGroup | null, ctx: EventActionContext<DhPlain>) {
    recordDeclared('initialize', this, group, ctx)
    this.label ??= 'default label'
  }

  @OnEventAction({ timing: Pre, types: [BO2BO], when: ['label'] })
  copyingLabel(group: AttributeGroup | null, ctx: EventActionContext<DhPlain>) {
    recordDeclared('copyingLabel', this, group, ctx)
    expect(ctx.source).toBeInstanceOf(DhPlain)
  }
}

/** Only `_eventAction`. */
@Entity('dh_classic')
class DhClassic {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record('_eventAction', timing, type, group)
  }
}

/** Async `_eventAction` and async declarative handlers, mixed with a synchronous one. */
const trace: string[] = []

@Entity('dh_async')
class DhAsync {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ type: 'varchar', nullable: true }) note!: string | null

  async _eventAction(timing: EventActionTiming, type: EventActionType) {
    if (type !== Insert) return
    trace.push(`_eventAction ${timing} start`)
    await tick()
    await tick()
    trace.push(`_eventAction ${timing} end`)
  }

  @OnEventAction({ timing: Pre, types: [Insert] })
  async first() {
    trace.push('first start')
    await tick()
    await tick()
    this.note = `${this.note ?? ''}A`
    trace.push('first end')
  }

  @OnEventAction({ timing: Pre, types: [Insert] })
  second() {
    trace.push('second')
    this.note = `${this.note ?? ''}B`
  }

  @OnEventAction({ timing: Pre, types: [Insert] })
  async third(_group: AttributeGroup | null, ctx: EventActionContext<DhAsync>) {
    trace.push('third start')
    await ctx.manager.query('SELECT 1 AS one')
    await tick()
    this.note = `${this.note ?? ''}C`
    trace.push('third end')
  }

  @OnEventAction({ timing: Post, types: [Insert] })
  async afterwards() {
    trace.push('afterwards start')
    await tick()
    trace.push('afterwards end')
  }
}

/** Inheritance: the base class is no entity; its handlers run before a child's. */
abstract class DhBase {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`${this.constructor.name}._eventAction`, timing, type, group)
  }

  @OnEventAction({ timing: Pre, types: [Insert] })
  baseFirst(group: AttributeGroup | null, ctx: EventActionContext<DhBase>) {
    recordDeclared('baseFirst', this, group, ctx)
  }

  @OnEventAction({ timing: Pre, types: [Insert, Update], when: ['name'] })
  baseSecond(group: AttributeGroup | null, ctx: EventActionContext<DhBase>) {
    recordDeclared('baseSecond', this, group, ctx)
  }
}

@Entity('dh_child')
class DhChild extends DhBase {
  @Column({ type: 'varchar', nullable: true }) extra!: string | null

  @OnEventAction({ timing: Pre, types: [Insert, Update] })
  childOwn(group: AttributeGroup | null, ctx: EventActionContext<DhChild>) {
    recordDeclared('childOwn', this, group, ctx)
  }
}

@Entity('dh_sibling')
class DhSibling extends DhBase {
  @OnEventAction({ timing: Pre, types: [Insert, Update] })
  siblingOwn(group: AttributeGroup | null, ctx: EventActionContext<DhSibling>) {
    recordDeclared('siblingOwn', this, group, ctx)
  }
}

/** Declarative handlers that refuse. */
@Entity('dh_guarded')
class DhGuarded {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string

  @OnEventAction({ timing: Pre, types: [Insert, Update] })
  rule(group: AttributeGroup | null, ctx: EventActionContext<DhGuarded>) {
    recordDeclared('rule', this, group, ctx)
    if (this.name === 'soft') throw new SoftError('name may not be soft', { attribute: 'name' })
    if (this.name === 'hard') throw new HardError('broken invariant')
  }

  @OnEventAction({ timing: Pre, types: [Insert, Update] })
  async asyncRule(group: AttributeGroup | null, ctx: EventActionContext<DhGuarded>) {
    recordDeclared('asyncRule', this, group, ctx)
    await tick()
    if (this.name === 'async') throw new SoftError('async rule says no')
  }

  @OnEventAction({ timing: Post, types: [Insert, Update] })
  post(group: AttributeGroup | null, ctx: EventActionContext<DhGuarded>) {
    recordDeclared('post', this, group, ctx)
    if (this.name === 'post') throw new SoftError('post says no')
  }
}

/** A `when` with a typo. */
@Entity('dh_typo')
class DhTypo {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', nullable: true }) postcode!: string | null

  @OnEventAction({ timing: Pre, types: [Insert, Create], when: ['postcod'] })
  formatPostcode() {
    record('DhTypo.formatPostcode', Pre, Insert, null)
  }
}

/** Described, never registered: automatic attributes and audit settings. */
@Audited({ exclude: ['secret'] })
class DhDescribed {
  id!: number
  secret!: string
  @Automatic(() => '2025-01-01') createdOn!: string
  @Automatic(() => 7) number!: number

  @OnEventAction({ timing: Post, types: [Load] })
  loaded() {}
}

const ENTITIES = [DhAccount, DhPlain, DhClassic, DhAsync, DhChild, DhSibling, DhGuarded, DhTypo]
const TABLES = ['dh_account', 'dh_plain', 'dh_classic', 'dh_async', 'dh_child', 'dh_sibling', 'dh_guarded', 'dh_typo']

describe(`Declarative handlers (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource
  let actions: EventActions

  beforeAll(async () => {
    ds = await openDataSource(ENTITIES)
    actions = new EventActions(ds)
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    for (const table of TABLES) await ds.query(`DELETE FROM ${ds.driver.escape(table)}`)
    resetRecorded()
    trace.length = 0
  })

  async function column(table: string, name: string, id: number): Promise<unknown> {
    const e = (s: string) => ds.driver.escape(s)
    const rows = await ds.query(`SELECT ${e(name)} AS v FROM ${e(table)} WHERE ${e('id')} = ${Number(id)}`)
    return rows[0]?.v
  }

  async function savedAccount(values: Partial<DhAccount>): Promise<DhAccount> {
    const account = await ds.getRepository(DhAccount).save(ds.getRepository(DhAccount).create(values))
    resetRecorded()
    return account
  }

  describe('when, order and (group, ctx)', () => {
    it('Pre Insert with the postcode: _eventAction first, then the matching handlers in declaration order', async () => {
      const a = await ds.getRepository(DhAccount).save(ds.getRepository(DhAccount).create({ name: 'ann', postcode: 'ab1 2cd' }))
      const post = ['id', 'name', 'postcode', 'visits']
      expect(recorded).toEqual([
        ['_eventAction', Pre, Insert, ['name', 'postcode']],
        ['formatPostcode', Pre, Insert, ['name', 'postcode']],
        ['everyPre', Pre, Insert, ['name', 'postcode']],
        ['_eventAction', Post, Insert, post],
        ['everyPost', Post, Insert, post],
      ])
      expect(await column('dh_account', 'postcode', a.id)).toBe('AB1 2CD')
    })

    it('Pre Insert without the postcode: the handler with when: [postcode] does not run', async () => {
      await ds.getRepository(DhAccount).save(ds.getRepository(DhAccount).create({ name: 'bob' }))
      expect(recorded.map((r) => r[0])).toEqual(['_eventAction', 'everyPre', '_eventAction', 'everyPost'])
      expect(recorded[0]).toEqual(['_eventAction', Pre, Insert, ['name']])
    })

    it('Update of the name only: like UPDATE OF postcode, formatPostcode stays out; a raw postcode is left as it is', async () => {
      const a = await savedAccount({ name: 'cid', postcode: 'XY1' })
      await ds.query(`UPDATE ${ds.driver.escape('dh_account')} SET ${ds.driver.escape('postcode')} = 'raw pc'`)
      const loaded = await ds.getRepository(DhAccount).findOneByOrFail({ id: a.id })
      resetRecorded()
      loaded.name = 'cid2'
      await ds.getRepository(DhAccount).save(loaded)
      expect(recorded).toEqual([
        ['_eventAction', Pre, Update, ['name']],
        ['everyPre', Pre, Update, ['name']],
        ['nameOrVisits', Pre, Update, ['name']],
        ['_eventAction', Post, Update, ['name']],
        ['everyPost', Post, Update, ['name']],
      ])
      expect(await column('dh_account', 'postcode', a.id)).toBe('raw pc')
      expect(await column('dh_account', 'name', a.id)).toBe('cid2')
    })

    it('Update of the postcode only: formatPostcode runs, nameOrVisits does not', async () => {
      const a = await savedAccount({ name: 'dee', postcode: null })
      a.postcode = 'zz9 9zz'
      await ds.getRepository(DhAccount).save(a)
      expect(recorded).toEqual([
        ['_eventAction', Pre, Update, ['postcode']],
        ['formatPostcode', Pre, Update, ['postcode']],
        ['everyPre', Pre, Update, ['postcode']],
        ['_eventAction', Post, Update, ['postcode']],
        ['everyPost', Post, Update, ['postcode']],
      ])
      expect(await column('dh_account', 'postcode', a.id)).toBe('ZZ9 9ZZ')
    })

    it('EventActions.update with an explicit group runs exactly the handlers whose when meets it', async () => {
      const a = await savedAccount({ name: 'eve', postcode: 'ab1' })
      await ds.query(`UPDATE ${ds.driver.escape('dh_account')} SET ${ds.driver.escape('postcode')} = 'raw pc'`)
      a.postcode = 'raw pc'
      a.visits = 3
      await actions.update(a, ['visits', 'postcode'])
      expect(recorded).toEqual([
        ['_eventAction', Pre, Update, ['postcode', 'visits']],
        ['formatPostcode', Pre, Update, ['postcode', 'visits']],
        ['everyPre', Pre, Update, ['postcode', 'visits']],
        ['nameOrVisits', Pre, Update, ['postcode', 'visits']],
        ['_eventAction', Post, Update, ['postcode', 'visits']],
        ['everyPost', Post, Update, ['postcode', 'visits']],
      ])
      expect(await column('dh_account', 'postcode', a.id)).toBe('RAW PC')
      expect(Number(await column('dh_account', 'visits', a.id))).toBe(3)
    })

    it('Delete: handlers without when run with the null group; handlers with when do not', async () => {
      const a = await savedAccount({ name: 'fay', postcode: 'q' })
      await ds.getRepository(DhAccount).remove(a)
      expect(recorded).toEqual([
        ['_eventAction', Pre, Delete, null],
        ['everyPre', Pre, Delete, null],
        ['_eventAction', Post, Delete, null],
        ['everyPost', Post, Delete, null],
      ])
      expect(await countRows(ds, 'dh_account')).toBe(0)
    })

    it('Load runs _eventAction only: no declarative handler is declared for it', async () => {
      const a = await savedAccount({ name: 'gus' })
      await ds.getRepository(DhAccount).findOneByOrFail({ id: a.id })
      expect(recorded.map((r) => [r[0], r[1], r[2]])).toEqual([
        ['_eventAction', Pre, Load],
        ['_eventAction', Post, Load],
      ])
    })
  })

  describe('either style or both', () => {
    it('only declarative handlers: they run, and what a Pre Insert handler sets is written', async () => {
      const p = await ds.getRepository(DhPlain).save(ds.getRepository(DhPlain).create({ label: 'x' }))
      expect(recorded).toEqual([['stamp', Pre, Insert, ['label']]])
      expect(await column('dh_plain', 'stamped', p.id)).toBe('stamped x')
    })

    it('only declarative handlers, business-object events: Create with the null group, BO2BO with when', async () => {
      const source = await actions.create(DhPlain, { label: 'source', other: 'o' })
      expect(recorded).toEqual([['initialize', Post, Create, null]])
      const target = await actions.create(DhPlain)
      expect(target.label).toBe('default label')
      resetRecorded()
      await actions.copy(source, target, ['other'])
      expect(recorded).toEqual([])
      expect(target).toMatchObject({ label: 'default label', other: 'o' })
      await actions.copy(source, target, ['label', 'other'])
      expect(recorded).toEqual([['copyingLabel', Pre, BO2BO, ['label', 'other']]])
      expect(target).toMatchObject({ label: 'source', other: 'o' })
    })

    it('only _eventAction: unchanged behaviour', async () => {
      const c = await ds.getRepository(DhClassic).save(ds.getRepository(DhClassic).create({ name: 'c' }))
      expect(recorded).toEqual([
        ['_eventAction', Pre, Insert, ['name']],
        ['_eventAction', Post, Insert, ['id', 'name']],
      ])
      expect(c.id).toBeGreaterThan(0)
    })
  })

  describe('async handlers', () => {
    it('are awaited one at a time, after _eventAction, before the write', async () => {
      const a = await ds.getRepository(DhAsync).save(ds.getRepository(DhAsync).create({ name: 'async' }))
      expect(trace).toEqual([
        '_eventAction Pre start',
        '_eventAction Pre end',
        'first start',
        'first end',
        'second',
        'third start',
        'third end',
        '_eventAction Post start',
        '_eventAction Post end',
        'afterwards start',
        'afterwards end',
      ])
      expect(await column('dh_async', 'note', a.id)).toBe('ABC')
    })

    it('two entities of one save: their async handler chains do not interleave', async () => {
      await ds.getRepository(DhAsync).save([
        ds.getRepository(DhAsync).create({ name: 'one' }),
        ds.getRepository(DhAsync).create({ name: 'two' }),
      ])
      const pre = ['_eventAction Pre start', '_eventAction Pre end', 'first start', 'first end', 'second', 'third start', 'third end']
      const post = ['_eventAction Post start', '_eventAction Post end', 'afterwards start', 'afterwards end']
      expect(trace).toEqual([...pre, ...pre, ...post, ...post])
      const notes = await ds.query(`SELECT ${ds.driver.escape('note')} AS n FROM ${ds.driver.escape('dh_async')}`)
      expect(notes.map((r: { n: string }) => r.n)).toEqual(['ABC', 'ABC'])
    })
  })

  describe('inheritance', () => {
    it("a parent class's handlers run before the child's; a sibling's never", async () => {
      await ds.getRepository(DhChild).save(ds.getRepository(DhChild).create({ name: 'kid' }))
      expect(recorded).toEqual([
        ['DhChild._eventAction', Pre, Insert, ['name']],
        ['baseFirst', Pre, Insert, ['name']],
        ['baseSecond', Pre, Insert, ['name']],
        ['childOwn', Pre, Insert, ['name']],
        ['DhChild._eventAction', Post, Insert, ['extra', 'id', 'name']],
      ])
    })

    it('the sibling gets the same parent handlers and its own', async () => {
      const s = await ds.getRepository(DhSibling).save(ds.getRepository(DhSibling).create({ name: 'sib' }))
      resetRecorded()
      s.name = 'sib2'
      await ds.getRepository(DhSibling).save(s)
      expect(recorded).toEqual([
        ['DhSibling._eventAction', Pre, Update, ['name']],
        ['baseSecond', Pre, Update, ['name']],
        ['siblingOwn', Pre, Update, ['name']],
        ['DhSibling._eventAction', Post, Update, ['name']],
      ])
    })
  })

  describe('errors', () => {
    it.each([
      ['soft', 'SoftError', SoftError, Pre, ['rule']],
      ['hard', 'HardError', HardError, Pre, ['rule']],
      ['async', 'SoftError', SoftError, Pre, ['rule', 'asyncRule']],
      ['post', 'SoftError', SoftError, Post, ['rule', 'asyncRule', 'post']],
    ] as const)('%s: a %s from a declarative handler stops the insert, nothing is written', async (name, errorName, cls, timing, ran) => {
      const g = ds.getRepository(DhGuarded).create({ name })
      const saving = ds.getRepository(DhGuarded).save(g)
      await expect(saving).rejects.toBeInstanceOf(cls)
      await expect(saving).rejects.toMatchObject({ name: errorName, entityName: 'DhGuarded', type: Insert, timing })
      expect(recorded.map((r) => r[0])).toEqual(ran)
      expect(await countRows(ds, 'dh_guarded')).toBe(0)
    })

    it('a SoftError from a declarative Pre Update handler leaves the row unchanged', async () => {
      const g = await ds.getRepository(DhGuarded).save(ds.getRepository(DhGuarded).create({ name: 'fine' }))
      resetRecorded()
      g.name = 'soft'
      await expect(ds.getRepository(DhGuarded).save(g)).rejects.toMatchObject({
        name: 'SoftError',
        entityName: 'DhGuarded',
        type: Update,
        timing: Pre,
        attribute: 'name',
      })
      expect(recorded).toEqual([['rule', Pre, Update, ['name']]])
      expect(await column('dh_guarded', 'name', g.id)).toBe('fine')
    })

    it('a SoftError from a declarative Post Update handler rolls the update back', async () => {
      const g = await ds.getRepository(DhGuarded).save(ds.getRepository(DhGuarded).create({ name: 'fine' }))
      g.name = 'post'
      await expect(ds.getRepository(DhGuarded).save(g)).rejects.toMatchObject({ name: 'SoftError', type: Update, timing: Post })
      expect(await column('dh_guarded', 'name', g.id)).toBe('fine')
    })

    it('a when naming an attribute the entity lacks fails loudly at the first event, naming entity and attribute', async () => {
      const t = ds.getRepository(DhTypo).create({ postcode: 'ab1' })
      const saving = ds.getRepository(DhTypo).save(t)
      await expect(saving).rejects.toBeInstanceOf(HardError)
      await expect(saving).rejects.toMatchObject({ name: 'HardError', entityName: 'DhTypo', attribute: 'postcod' })
      await expect(saving).rejects.toThrow(/DhTypo.*postcod/)
      expect(await countRows(ds, 'dh_typo')).toBe(0)
      // Not only the first time: every event of the entity keeps failing.
      await expect(ds.getRepository(DhTypo).save(ds.getRepository(DhTypo).create({ postcode: 'x' }))).rejects.toMatchObject({
        name: 'HardError',
        attribute: 'postcod',
      })
      await expect(actions.create(DhTypo)).rejects.toMatchObject({ name: 'HardError', entityName: 'DhTypo', attribute: 'postcod' })
      expect(recorded).toEqual([])
      expect(await countRows(ds, 'dh_typo')).toBe(0)
    })

    it.each<[string, unknown]>([
      ['no options', undefined],
      ['no types', { timing: Pre }],
      ['empty types', { timing: Pre, types: [] }],
      ['an unknown type', { timing: Pre, types: [Insert, 'Upsert'] }],
      ['types not a list', { timing: Pre, types: Insert }],
      ['an unknown timing', { timing: 'During', types: [Insert] }],
      ['no timing', { types: [Insert] }],
      ['when not a list', { timing: Pre, types: [Insert], when: 'postcode' }],
      ['when with a non-string', { timing: Pre, types: [Insert], when: [1] }],
    ])('bad decorator options (%s) throw a HardError when the class is decorated', (_what, options) => {
      let declared = false
      expect(() => {
        class Bad {
          @OnEventAction(options as OnEventActionOptions)
          m() {}
        }
        declared = Bad !== undefined
      }).toThrow(HardError)
      expect(declared).toBe(false)
    })

    it('good options are accepted at decoration time', () => {
      expect(() => {
        class Good {
          @OnEventAction({ timing: Post, types: [Delete], when: ['anything'] })
          m() {}
        }
        return Good
      }).not.toThrow()
    })
  })

  describe('describeEventActions', () => {
    it('lists the handlers per event with their when, and whether _eventAction exists', () => {
      const postcode = { method: 'formatPostcode', when: ['postcode'] }
      const everyPre = { method: 'everyPre', when: null }
      const nameOrVisits = { method: 'nameOrVisits', when: ['name', 'visits'] }
      const everyPost = { method: 'everyPost', when: null }
      expect(describeEventActions(DhAccount)).toEqual({
        entityName: 'DhAccount',
        eventAction: true,
        handlers: {
          'Pre Insert': [postcode, everyPre],
          'Pre Update': [postcode, everyPre, nameOrVisits],
          'Pre Delete': [everyPre, nameOrVisits],
          'Post Insert': [everyPost],
          'Post Update': [everyPost],
          'Post Delete': [everyPost],
        },
        automatics: [],
        audited: null,
      })
    })

    it('only declarative handlers: eventAction is false', () => {
      expect(describeEventActions(DhPlain)).toEqual({
        entityName: 'DhPlain',
        eventAction: false,
        handlers: {
          'Pre Insert': [{ method: 'stamp', when: null }],
          'Post Create': [{ method: 'initialize', when: null }],
          'Pre BO2BO': [{ method: 'copyingLabel', when: ['label'] }],
        },
        automatics: [],
        audited: null,
      })
    })

    it('only _eventAction: no handlers', () => {
      expect(describeEventActions(DhClassic)).toEqual({
        entityName: 'DhClassic',
        eventAction: true,
        handlers: {},
        automatics: [],
        audited: null,
      })
    })

    it("inherited: the parent's handlers first, the parent's _eventAction counts", () => {
      expect(describeEventActions(DhChild)).toEqual({
        entityName: 'DhChild',
        eventAction: true,
        handlers: {
          'Pre Insert': [
            { method: 'baseFirst', when: null },
            { method: 'baseSecond', when: ['name'] },
            { method: 'childOwn', when: null },
          ],
          'Pre Update': [
            { method: 'baseSecond', when: ['name'] },
            { method: 'childOwn', when: null },
          ],
        },
        automatics: [],
        audited: null,
      })
      expect(describeEventActions(DhSibling).handlers['Pre Insert']).toEqual([
        { method: 'baseFirst', when: null },
        { method: 'baseSecond', when: ['name'] },
        { method: 'siblingOwn', when: null },
      ])
    })

    it('the @Automatic attributes and the @Audited settings', () => {
      expect(describeEventActions(DhDescribed)).toEqual({
        entityName: 'DhDescribed',
        eventAction: false,
        handlers: { 'Post Load': [{ method: 'loaded', when: null }] },
        automatics: ['createdOn', 'number'],
        audited: { exclude: ['secret'] },
      })
    })

    it('a non-class is a HardError', () => {
      expect(() => describeEventActions('DhAccount' as unknown as Function)).toThrow(HardError)
    })
  })
})

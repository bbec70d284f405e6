/**
 * What an `@Automatic` function throws reaches the caller as the library's
 * error, naming entity, attribute and event; nothing is written.
 */
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { Automatic, EventActions, EventActionTiming, EventActionType, HardError, SoftError } from '../../src'
import { DB, openDataSource } from '../support/database'

/** What the `code` automatic throws next; reset per test. */
let throws: unknown = undefined
let shouldThrow = false

@Entity('autofail_ticket')
class Ticket {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @Column()
  @Automatic(() => {
    if (shouldThrow) throw throws
    return 'T-1'
  })
  code!: string
}

describe(`@Automatic functions that throw (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Ticket])
  })
  afterAll(() => ds?.destroy())
  beforeEach(() => {
    shouldThrow = true
  })

  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    )

  it.each([['a string', 'no code today'], ['undefined', undefined], ['a plain object', { code: 42 }]])(
    'a thrown %s is wrapped in a HardError naming entity, attribute and event, with the value as cause; no row',
    async (_label, value) => {
      throws = value
      for (const attempt of [() => new EventActions(ds).create(Ticket, { title: 't' }), () => ds.manager.save(Object.assign(new Ticket(), { title: 't' }))]) {
        const error = await rejection(attempt())
        expect(error).toBeInstanceOf(HardError)
        expect(error).toMatchObject({ name: 'HardError', entityName: 'Ticket', attribute: 'code', type: EventActionType.SetAutomatics, timing: EventActionTiming.Pre })
        expect((error as Error).message).toMatch(/^@Automatic Ticket\.code threw .*, which is not an Error$/)
        expect((error as Error).cause).toEqual(value)
        expect(Object.prototype.hasOwnProperty.call(error, 'cause')).toBe(true)
      }
      expect(await ds.manager.count(Ticket)).toBe(0)
    },
  )

  it("a SoftError keeps its class and gets the entity and event filled in; an Error passes unchanged", async () => {
    throws = new SoftError('closed for the day')
    expect(await rejection(ds.manager.save(Object.assign(new Ticket(), { title: 't' })))).toMatchObject({
      name: 'SoftError',
      entityName: 'Ticket',
      type: EventActionType.SetAutomatics,
    })
    const plain = new RangeError('out of codes')
    throws = plain
    expect(await rejection(ds.manager.save(Object.assign(new Ticket(), { title: 't' })))).toBe(plain)
    shouldThrow = false
    expect((await ds.manager.save(Object.assign(new Ticket(), { title: 't' }))).code).toBe('T-1')
  })
})

import {
  BulkWriteError,
  EntityValidationError,
  EventActionError,
  EventActionRecursionError,
  EventActionTiming,
  EventActionType,
  HardError,
  SoftError,
} from '../../src'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

describe('errors', () => {
  it('every class has a stable name, also in String(error) and the stack', () => {
    const cases: [Error, string][] = [
      [new EventActionError('m'), 'EventActionError'],
      [new SoftError('m'), 'SoftError'],
      [new HardError('m'), 'HardError'],
      [new EventActionRecursionError(2, []), 'EventActionRecursionError'],
      [new EntityValidationError('A', Insert, Pre, []), 'EntityValidationError'],
      [BulkWriteError.bulk('A', 'op'), 'BulkWriteError'],
      [BulkWriteError.plainObject('A', 'op'), 'BulkWriteError'],
      [HardError.unknownAttribute('A', 'x', 'inGroup'), 'HardError'],
    ]
    for (const [error, name] of cases) {
      expect(error.name).toBe(name)
      expect(String(error).startsWith(`${name}: `)).toBe(true)
      expect(error.stack).toMatch(new RegExp(`^${name}: `))
    }
  })

  it('is instanceof its parents', () => {
    const soft = new SoftError('no')
    expect(soft).toBeInstanceOf(EventActionError)
    expect(soft).toBeInstanceOf(Error)
    expect(soft).not.toBeInstanceOf(HardError)

    const hard = new HardError('bug')
    expect(hard).toBeInstanceOf(EventActionError)
    expect(hard).toBeInstanceOf(Error)
    expect(hard).not.toBeInstanceOf(SoftError)

    const validation = new EntityValidationError('A', Insert, Pre, [])
    expect(validation).toBeInstanceOf(SoftError)
    expect(validation).toBeInstanceOf(EventActionError)
    expect(validation).not.toBeInstanceOf(HardError)

    for (const e of [BulkWriteError.bulk('A', 'op'), new EventActionRecursionError(1, [])]) {
      expect(e).toBeInstanceOf(HardError)
      expect(e).toBeInstanceOf(EventActionError)
      expect(e).toBeInstanceOf(Error)
      expect(e).not.toBeInstanceOf(SoftError)
    }
    expect(BulkWriteError.bulk('A', 'op')).not.toBeInstanceOf(EventActionRecursionError)
    expect(new EventActionRecursionError(1, [])).not.toBeInstanceOf(BulkWriteError)
  })

  it('SoftError and HardError carry message, entity, event, attribute and cause', () => {
    const cause = new Error('root')
    for (const Cls of [SoftError, HardError]) {
      const e = new Cls('Account with this name already exists', {
        attribute: 'name',
        entityName: 'Account',
        type: Insert,
        timing: Pre,
        cause,
      })
      expect(e.message).toBe('Account with this name already exists')
      expect(e).toMatchObject({ attribute: 'name', entityName: 'Account', type: Insert, timing: Pre })
      expect(e.cause).toBe(cause)
    }
  })

  it('fields left out are undefined (the dispatcher fills them in)', () => {
    const e = new SoftError('no')
    expect(e.attribute).toBeUndefined()
    expect(e.entityName).toBeUndefined()
    expect(e.type).toBeUndefined()
    expect(e.timing).toBeUndefined()
    expect(e.cause).toBeUndefined()
    expect('cause' in e).toBe(false)
  })

  it('HardError.unknownAttribute names entity, attribute and where it was used', () => {
    const e = HardError.unknownAttribute('Account', 'nmae', 'inGroup')
    expect(e).toBeInstanceOf(HardError)
    expect(e.entityName).toBe('Account')
    expect(e.attribute).toBe('nmae')
    expect(e.message).toContain('Account')
    expect(e.message).toContain("'nmae'")
    expect(e.message).toContain('inGroup')
  })

  it('EventActionRecursionError lists the chain, outermost first, and carries the last link', () => {
    const chain = [
      { entityName: 'Order', id: '1', timing: Pre, type: Update },
      { entityName: 'OrderLine', id: '4', timing: Post, type: Insert },
      { entityName: 'Order', id: '1', timing: Pre, type: Update },
    ]
    const e = new EventActionRecursionError(2, chain)
    expect(e.message).toContain('maxDepth (2)')
    expect(e.message).toContain('Order#1 Pre Update -> OrderLine#4 Post Insert -> Order#1 Pre Update')
    expect(e.chain).toEqual(chain)
    expect(e).toMatchObject({ entityName: 'Order', type: Update, timing: Pre })
  })

  it('EntityValidationError lists every failed attribute with its messages', () => {
    const failures = [
      { attribute: 'email', value: 'nope', constraints: ['email must be an email'] },
      { attribute: 'postcode', value: 'x', constraints: ['postcode too short', 'postcode must match'] },
    ]
    const e = new EntityValidationError('Account', Update, Pre, failures)
    expect(e.failures).toEqual(failures)
    expect(e).toMatchObject({ entityName: 'Account', type: Update, timing: Pre, attribute: 'email' })
    expect(e.message).toContain('Account')
    expect(e.message).toContain('Pre Update')
    expect(e.message).toContain('email (email must be an email)')
    expect(e.message).toContain('postcode (postcode too short; postcode must match)')
  })

  it('BulkWriteError says what was attempted, what to do instead, and how to opt out', () => {
    const bulk = BulkWriteError.bulk('Order', 'update(criteria, values)')
    expect(bulk.operation).toBe('update(criteria, values)')
    expect(bulk.entityName).toBe('Order')
    expect(bulk.message).toContain('Order has event actions')
    expect(bulk.message).toContain('update(criteria, values)')
    expect(bulk.message).toMatch(/save\(\)\/remove\(\)/)
    expect(bulk.message).toContain('{ listeners: false }')
    expect(bulk.message).toContain('.callListeners(false)')
    expect(bulk.message).toContain("bulkWrites: 'allow'")

    const plain = BulkWriteError.plainObject('Order', 'insert() of a plain object')
    expect(plain.operation).toBe('insert() of a plain object')
    expect(plain.message).toContain('insert() of a plain object')
    expect(plain.message).toContain('repository.create(')
    expect(plain.message).toContain('new Order()')
    expect(plain.message).toContain('{ listeners: false }')
    expect(plain.message).toContain('.callListeners(false)')
  })

  it('errors thrown and caught keep their class across await/reject', async () => {
    await expect(Promise.reject(BulkWriteError.bulk('A', 'op'))).rejects.toBeInstanceOf(HardError)
    await expect(Promise.reject(new EntityValidationError('A', Insert, Pre, []))).rejects.toBeInstanceOf(SoftError)
  })
})

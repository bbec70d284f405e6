import { AttributeGroup } from '../../src'

describe('AttributeGroup', () => {
  const group = new AttributeGroup(['name', 'postcode', 'address.street'])

  it('answers has/hasAny/hasAll/size/toArray', () => {
    expect(group.size).toBe(3)
    expect(group.has('name')).toBe(true)
    expect(group.has('address.street')).toBe(true)
    expect(group.has('email')).toBe(false)
    expect(group.has('address')).toBe(false)
    expect(group.hasAny('email', 'postcode')).toBe(true)
    expect(group.hasAny('email', 'visits')).toBe(false)
    expect(group.hasAny()).toBe(false)
    expect(group.hasAll('name', 'postcode')).toBe(true)
    expect(group.hasAll('name', 'email')).toBe(false)
    expect(group.hasAll()).toBe(true)
    expect(group.toArray()).toEqual(['name', 'postcode', 'address.street'])
  })

  it('holds every name once', () => {
    const g = new AttributeGroup(['a', 'b', 'a', 'b', 'c'])
    expect(g.size).toBe(3)
    expect(g.toArray()).toEqual(['a', 'b', 'c'])
  })

  it('is iterable (for..of, spread, Array.from)', () => {
    const seen: string[] = []
    for (const name of group) seen.push(name)
    expect(seen).toEqual(['name', 'postcode', 'address.street'])
    expect([...group]).toEqual(seen)
    expect(Array.from(group)).toEqual(seen)
    // A second iteration starts again from the beginning.
    expect([...group]).toEqual(seen)
  })

  it('accepts any iterable of names', () => {
    const fromSet = new AttributeGroup(new Set(['x', 'y']))
    expect(fromSet.toArray()).toEqual(['x', 'y'])
    function* names() {
      yield 'p'
      yield 'q'
    }
    expect(new AttributeGroup(names()).toArray()).toEqual(['p', 'q'])
  })

  it('is frozen: its properties cannot be replaced or added', () => {
    expect(Object.isFrozen(group)).toBe(true)
    expect(() => {
      ;(group as unknown as { names: unknown }).names = new Set(['hacked'])
    }).toThrow(TypeError)
    expect(() => {
      ;(group as unknown as { extra: unknown }).extra = 1
    }).toThrow(TypeError)
    expect(group.toArray()).toEqual(['name', 'postcode', 'address.street'])
  })

  it('cannot be changed through its inputs or outputs', () => {
    const source = ['a', 'b']
    const g = new AttributeGroup(source)
    source.push('c')
    source[0] = 'z'
    expect(g.toArray()).toEqual(['a', 'b'])

    const out = g.toArray()
    out.push('d')
    out.length = 0
    expect(g.toArray()).toEqual(['a', 'b'])
    expect(g.size).toBe(2)

    const json = g.toJSON()
    json.push('e')
    expect(g.has('e')).toBe(false)
  })

  it('has no mutating Set methods', () => {
    const g = group as unknown as Record<string, unknown>
    expect(g.add).toBeUndefined()
    expect(g.delete).toBeUndefined()
    expect(g.clear).toBeUndefined()
    expect(group).not.toBeInstanceOf(Set)
  })

  it('has a frozen empty group', () => {
    expect(AttributeGroup.empty.size).toBe(0)
    expect(AttributeGroup.empty.toArray()).toEqual([])
    expect(AttributeGroup.empty.has('anything')).toBe(false)
    expect(AttributeGroup.empty.hasAny('a', 'b')).toBe(false)
    expect(AttributeGroup.empty.hasAll()).toBe(true)
    expect([...AttributeGroup.empty]).toEqual([])
    expect(Object.isFrozen(AttributeGroup.empty)).toBe(true)
  })

  it('prints and serializes as its names', () => {
    expect(JSON.stringify({ group })).toBe('{"group":["name","postcode","address.street"]}')
    expect(String(group)).toBe('AttributeGroup(name, postcode, address.street)')
  })
})

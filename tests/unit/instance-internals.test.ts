/** The two building blocks of per-instance state and snapshots. */
import { inspect } from 'node:util'
import { hiddenSlot } from '../../src/basics/hidden-slot'
import { compileValuesReader, type ValueSource } from '../../src/metadata/values-reader'

describe('hiddenSlot', () => {
  it('keeps a value per object, separately per slot, and shows it nowhere', () => {
    const a = hiddenSlot<number[]>()
    const b = hiddenSlot<string>()
    class Thing {
      x = 1
    }
    const one = new Thing()
    const two = new Thing()
    expect(a.get(one)).toBeUndefined()
    a.set(one, [1])
    b.set(one, 'b')
    a.set(two, [2])
    a.set(two, [3]) // a second set replaces the value
    expect([a.get(one), b.get(one), a.get(two), b.get(two)]).toEqual([[1], 'b', [3], undefined])

    expect(Reflect.ownKeys(one)).toEqual(['x'])
    expect(JSON.stringify(one)).toBe('{"x":1}')
    expect({ ...one }).toEqual({ x: 1 })
    expect(inspect(one, { showHidden: true })).toBe('Thing { x: 1 }')
    expect(a.get(Object.assign(new Thing(), one))).toBeUndefined()
    expect(one).toBeInstanceOf(Thing) // the prototype is untouched
    expect(Object.getPrototypeOf(one)).toBe(Thing.prototype)
  })
})

describe('compileValuesReader', () => {
  const sources: ValueSource[] = [
    { property: 'id' },
    { property: 'kebab-name' },
    { property: 'say "hi"\\\u2028' },
    { property: "'); throw new Error('injected'); ('" },
    { read: (e) => (e.address as { postcode: string }).postcode },
  ]
  const entity = {
    id: 7,
    'kebab-name': 'k',
    'say "hi"\\\u2028': 'q',
    "'); throw new Error('injected'); ('": 'not code',
    address: { postcode: 'AB1 2CD' },
  }

  it('reads properties by name, whatever the name, and the others through their function', () => {
    const read = compileValuesReader(sources)
    expect(read(entity)).toEqual([7, 'k', 'q', 'not code', 'AB1 2CD'])
    expect(read(entity)).not.toBe(read(entity)) // a new array each time
    expect(read({ address: { postcode: 'x' } })).toEqual([undefined, undefined, undefined, undefined, 'x'])
  })

  it('falls back to a loop where code generation is not allowed, with the same result', () => {
    const original = globalThis.Function
    globalThis.Function = function () {
      throw new EvalError('Code generation from strings disallowed for this context')
    } as unknown as FunctionConstructor
    let read: ReturnType<typeof compileValuesReader>
    try {
      read = compileValuesReader(sources)
    } finally {
      globalThis.Function = original
    }
    expect(read(entity)).toEqual([7, 'k', 'q', 'not code', 'AB1 2CD'])
  })
})

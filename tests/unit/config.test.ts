import type { DataSourceOptions } from 'typeorm'
import { EventActionSubscriber, HardError, withEventActions, type EventActionsConfig } from '../../src'
import { AuditEntry } from '../../src'

const base = { type: 'sqlite', database: ':memory:', entities: [] } as DataSourceOptions

function thrown(fn: () => unknown): HardError {
  try {
    fn()
  } catch (error) {
    return error as HardError
  }
  throw new Error('expected a HardError, nothing was thrown')
}

describe('EventActionsConfig', () => {
  const bad: [string, EventActionsConfig, RegExp][] = [
    ['maxDepth 0', { maxDepth: 0 }, /maxDepth.*at least 1.*got 0/],
    ['maxDepth 1.5', { maxDepth: 1.5 }, /maxDepth.*whole number.*got 1\.5/],
    ['maxDepth -3', { maxDepth: -3 }, /maxDepth.*got -3/],
    ['maxDepth NaN', { maxDepth: NaN }, /maxDepth.*got NaN/],
    ['maxDepth Infinity', { maxDepth: Infinity }, /maxDepth.*got Infinity/],
    ["maxDepth '4'", { maxDepth: '4' as unknown as number }, /maxDepth.*got 4/],
    ["recursion 'x'", { recursion: 'x' as 'allow' }, /recursion must be 'guard' or 'allow', got x/],
    ['onAfterCommitError not a function', { onAfterCommitError: 'log' as unknown as () => void }, /onAfterCommitError must be a function, got log/],
    ["validate 'yes'", { validate: 'yes' as unknown as boolean }, /validate must be true or false, got yes/],
    ["bulkWrites 'allow'", { bulkWrites: 'allow' as 'events' }, /bulkWrites must be 'events' or 'forbid', got allow/],
    ['bulkBatchSize 0', { bulkBatchSize: 0 }, /bulkBatchSize must be a whole number of at least 1, got 0/],
    ['bulkBatchSize 2.5', { bulkBatchSize: 2.5 }, /bulkBatchSize must be a whole number of at least 1, got 2\.5/],
  ]

  it.each(bad)('%s: withEventActions throws a clear HardError at once', (_label, config, message) => {
    const error = thrown(() => withEventActions(base, config))
    expect(error).toBeInstanceOf(HardError)
    expect(error.name).toBe('HardError')
    expect(error.message).toMatch(/^EventActionsConfig\./)
    expect(error.message).toMatch(message)
  })

  it.each(bad)('%s: new EventActionSubscriber throws the same HardError', (_label, config, message) => {
    const error = thrown(() => new EventActionSubscriber(config))
    expect(error).toBeInstanceOf(HardError)
    expect(error.message).toMatch(message)
  })

  it.each<[string, EventActionsConfig | undefined]>([
    ['no config', undefined],
    ['empty config', {}],
    ['maxDepth 1', { maxDepth: 1 }],
    ['maxDepth 1000', { maxDepth: 1000 }],
    ["recursion 'allow'", { recursion: 'allow' }],
    ["recursion 'guard'", { recursion: 'guard' }],
    ['validate false', { validate: false }],
    ['everything', { validate: true, recursion: 'allow', maxDepth: 3 }],
  ])('%s is accepted', (_label, config) => {
    expect(() => new EventActionSubscriber(config)).not.toThrow()
    expect(withEventActions(base, config).subscribers).toHaveLength(1)
  })
})

describe('withEventActions', () => {
  class OtherSubscriber {}

  it('adds one subscriber, keeps the others, and leaves the input alone', () => {
    const options = { ...base, subscribers: [OtherSubscriber] } as DataSourceOptions
    const result = withEventActions(options, { maxDepth: 5 })
    expect(options.subscribers).toEqual([OtherSubscriber])
    const subscribers = result.subscribers as Function[]
    expect(subscribers).toHaveLength(2)
    expect(subscribers[0]).toBe(OtherSubscriber)
    expect(subscribers[1]!.prototype).toBeInstanceOf(EventActionSubscriber)
    // The audit entity is added; the caller's list is not changed.
    expect(result.entities).toEqual([...((base.entities as Function[]) ?? []), AuditEntry])
    expect(base.entities ?? []).not.toContain(AuditEntry)
    expect(withEventActions(result).entities).toEqual(result.entities)
    expect(result.type).toBe('sqlite')
  })

  it('replaces an event-action subscriber that is already listed, so events never fire twice', () => {
    const once = withEventActions(base)
    const twice = withEventActions(once, { recursion: 'allow' })
    expect(twice.subscribers).toHaveLength(1)
    const listed = withEventActions({ ...base, subscribers: [EventActionSubscriber, OtherSubscriber] } as DataSourceOptions)
    const subscribers = listed.subscribers as Function[]
    expect(subscribers).toHaveLength(2)
    expect(subscribers.filter((s) => s === EventActionSubscriber || s.prototype instanceof EventActionSubscriber)).toHaveLength(1)
    expect(subscribers).toContain(OtherSubscriber)
  })
})

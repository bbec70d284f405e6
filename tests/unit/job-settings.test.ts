/**
 * The settings both job backends share (retries, payload cap, lost jobs) are
 * checked by one set of rules: the same bad value gets the same HardError
 * from pgBossJobs() and bullMqJobs(), naming the function, option and value;
 * only where the engines differ do the rules differ.
 */
import { bullMqJobs, HardError, pgBossJobs, type JobSettings } from '../../src'

const connection = 'redis://127.0.0.1:6379'
const makers = {
  pgBossJobs: (settings: JobSettings) => pgBossJobs(settings),
  bullMqJobs: (settings: JobSettings) => bullMqJobs({ connection, ...settings }),
}

describe('the settings shared by pgBossJobs() and bullMqJobs()', () => {
  it.each([
    [{ retryLimit: -1 }, 'retryLimit must be a whole number from 0 to 1000, got -1'],
    [{ retryLimit: 1001 }, 'retryLimit must be a whole number from 0 to 1000, got 1001'],
    [{ retryLimit: 2.5 }, 'retryLimit must be a whole number from 0 to 1000, got 2.5'],
    [{ retryDelay: -1 }, 'retryDelay must be'],
    [{ retryDelay: Number.POSITIVE_INFINITY }, 'retryDelay must be'],
    [{ maxPayloadBytes: Number.NaN }, 'maxPayloadBytes must be a whole number of at least 1, got NaN'],
    [{ retryBackoff: 'yes' }, 'retryBackoff must be true or false, got "yes"'],
    [{ maxPayloadBytes: 0 }, 'maxPayloadBytes must be a whole number of at least 1, got 0'],
    [{ lostJobSeconds: 0 }, 'lostJobSeconds must be a whole number'],
  ])('refuse %j alike: "%s"', (settings, message) => {
    for (const [name, make] of Object.entries(makers)) {
      const attempt = () => make(settings as JobSettings)
      expect(attempt).toThrow(HardError)
      expect(attempt).toThrow(`${name}(): ${message}`)
    }
  })

  it('differ only where the engines do: pg-boss counts retry delays and expiry in whole seconds under a day', () => {
    expect(() => pgBossJobs({ retryDelay: 0.5 })).toThrow('pgBossJobs(): retryDelay must be a whole number of seconds, 0 or more, got 0.5')
    expect(bullMqJobs({ connection, retryDelay: 0.5 })).toMatchObject({ engine: 'bullmq' })
    expect(() => pgBossJobs({ lostJobSeconds: 86_400 })).toThrow('pgBossJobs(): lostJobSeconds must be a whole number from 1 to 86399, got 86400')
    expect(bullMqJobs({ connection, lostJobSeconds: 86_400 })).toMatchObject({ engine: 'bullmq' })
  })

  it('name the function when the options are not an object', () => {
    expect(() => pgBossJobs(null as never)).toThrow('pgBossJobs(): options must be an object, got null')
    expect(() => bullMqJobs(null as never)).toThrow('bullMqJobs(): options must be an object with at least { connection }, got null')
  })

  it('take the documented defaults', () => {
    expect(pgBossJobs()).toMatchObject({ maxPayloadBytes: 65536 })
    expect(bullMqJobs({ connection })).toMatchObject({ maxPayloadBytes: 65536 })
    expect(pgBossJobs({ maxPayloadBytes: 10 })).toMatchObject({ maxPayloadBytes: 10 })
  })
})

/**
 * The durable engines are optional peers (issue 19): the library imports
 * without them, and the first use of one that is not installed is a
 * HardError naming the package and how to install it. The packages are
 * made missing by a module factory that throws as Node does.
 */
function missing(name: string): () => never {
  return () => {
    const error = new Error(`Cannot find module '${name}' from 'src/basics/optional-peer.ts'`) as NodeJS.ErrnoException
    error.code = 'MODULE_NOT_FOUND'
    throw error
  }
}

describe('optional engine peers', () => {
  afterEach(() => jest.resetModules())

  it("bullMqJobs() without bullmq: HardError \"bullMqJobs needs the package 'bullmq': npm install bullmq\"", () => {
    jest.doMock('bullmq', missing('bullmq'), { virtual: true })
    jest.isolateModules(() => {
      const { bullMqJobs, HardError: IsolatedHardError } = require('../../src') as typeof import('../../src')
      expect(() => bullMqJobs({ connection: 'redis://127.0.0.1:6379' })).toThrow(IsolatedHardError)
      expect(() => bullMqJobs({ connection: 'redis://127.0.0.1:6379' })).toThrow("bullMqJobs needs the package 'bullmq': npm install bullmq")
    })
  })

  it('pg-boss is loaded on first use, not by pgBossJobs() nor by importing the library; missing, it is a HardError naming it', async () => {
    jest.doMock('pg-boss', missing('pg-boss'), { virtual: true })
    let failure: unknown
    await jest.isolateModulesAsync(async () => {
      const lib = require('../../src') as typeof import('../../src')
      const jobs = lib.pgBossJobs()
      const fakePostgres = { options: { type: 'postgres', url: 'postgres://127.0.0.1:1/none' }, driver: { options: { type: 'postgres' } } }
      failure = await jobs.counts(fakePostgres as never).catch((e: unknown) => e)
    })
    expect((failure as Error).name).toBe('HardError')
    expect((failure as Error).message).toContain("pgBossJobs() needs the package 'pg-boss': npm install pg-boss")
  })

  it('a broken install inside the package keeps its own error', () => {
    jest.doMock('bullmq', () => {
      throw new TypeError('bullmq is broken')
    }, { virtual: true })
    jest.isolateModules(() => {
      const { bullMqJobs } = require('../../src') as typeof import('../../src')
      expect(() => bullMqJobs({ connection: 'redis://127.0.0.1:6379' })).toThrow('bullmq is broken')
    })
  })
})

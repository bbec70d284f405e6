/**
 * Model-based test (issue 7, part 1): random sequences of operations
 * (create, save, change, remove, soft remove, recover, reset, copy,
 * fromRecordSet, update, updateWhere, deleteWhere; inside or outside
 * runAction with random users; on their own, inside a transaction that also
 * writes something else, or in a savepoint of one), with faults injected at
 * random points (a
 * SoftError in a Pre or Post handler at depth 1 or 2, a HardError in an
 * `@OnEventAction` handler, a throwing after-commit callback). After every
 * step, the rows, the audit entries, the after-commit calls, the events and
 * the error the caller got must equal those of a small in-memory model
 * (tests/reliability/model/).
 *
 * The seed is random on every run and printed; `FC_SEED=<seed>` replays a
 * run; with `FC_PATH=<path>` and `FC_REPLAY_PATH=<replayPath>` from a failure
 * report it replays the shrunk counterexample at once. `FC_RUNS=<n>` sets
 * the number of sequences; `STRESS=1` runs 2,000.
 */
import fc from 'fast-check'
import type { DataSource } from 'typeorm'
import { DB, openDataSource, TYPEORM_MAJOR } from '../support/database'
import { COMMANDS, SEED_ROWS, seedCommands, type Run } from './model/commands'
import { MODEL_ENTITIES } from './model/entities'
import { harness, reportAfterCommitError } from './model/harness'
import { Model } from './model/model'
import { RealSystem } from './model/system'

const STRESS = process.env.STRESS === '1'
/** Sequences per run: the servers take longer per statement, so CI runs fewer there. */
const RUNS = Number(process.env.FC_RUNS ?? (STRESS ? 2000 : DB === 'sqlite' ? 200 : 40))
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31)
const PATH = process.env.FC_PATH
// The commands' own replay path, printed after the counterexample as replayPath="...": needed with FC_PATH.
const REPLAY_PATH = process.env.FC_REPLAY_PATH
const MAX_COMMANDS = 30

describe(`model-based: random operation sequences with injected faults (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let ds: DataSource

  beforeAll(async () => {
    ds = await openDataSource(MODEL_ENTITIES, { onAfterCommitError: reportAfterCommitError })
  })
  afterAll(() => ds?.destroy())

  it(
    `${RUNS} sequences of up to ${MAX_COMMANDS} operations: rows, audit entries, after-commit calls, events and errors match the model`,
    async () => {
      // Printed before the run, so that even a run killed by a timeout can be replayed.
      console.log(`model-based test on ${DB}, TypeORM ${TYPEORM_MAJOR}.x: ${RUNS} sequences, seed ${SEED} (replay: FC_SEED=${SEED})`)
      let sequences = 0
      let steps = 0
      const details = await fc.check(
        fc.asyncProperty(SEED_ROWS, fc.commands(COMMANDS, { maxCommands: MAX_COMMANDS, size: 'max', ...(REPLAY_PATH ? { replayPath: REPLAY_PATH } : {}) }), async (seedRows, commands) => {
          sequences++
          const system = new RealSystem(ds)
          await system.clear()
          harness.reset()
          const run: Run = { system, lastAuditId: 0, transactionIds: new Set(), trace: [] }
          const model = new Model()
          // The starting rows are made by the same checked operations, without faults.
          for (const command of seedCommands(seedRows)) await command.run(model, run)
          await fc.asyncModelRun(() => ({ model, real: run }), commands)
          steps += model.step
        }),
        { numRuns: RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}) },
      )
      if (details.failed) {
        // fast-check's report (counterexample, shrunk, with the mismatch and the steps), led by the line that replays it.
        const report = (await fc.asyncDefaultReportMessage(details)) ?? 'the property failed'
        const replayPath = /replayPath="([^"]+)"/.exec(report)?.[1]
        const env = [
          `FC_SEED=${details.seed}`,
          `FC_PATH="${details.counterexamplePath}"`,
          ...(replayPath ? [`FC_REPLAY_PATH="${replayPath}"`] : []),
          ...(DB !== 'sqlite' ? [`DB=${DB}`] : []),
          ...(TYPEORM_MAJOR >= 1 ? ['TYPEORM=1'] : []),
        ]
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
        throw new Error(`replay: ${env.join(' ')} npx jest tests/reliability/model.test.ts\n\n${report}\n\n${cause}`)
      }
      const { ops, faults } = Model.stats
      console.log(
        `model-based test on ${DB}: ${sequences} sequences, ${steps} operations, all matched the model\n` +
          `operations: ${[...ops].map(([k, n]) => `${k} ${n}`).join(', ')}\n` +
          `injected faults that fired (callback: the commit stood): ${[...faults].map(([k, n]) => `${k} ${n}`).join(', ')}`,
      )
      // The generator must reach the interesting states, or the run proves little (a replayed path runs one sequence).
      if (!PATH) expect(steps).toBeGreaterThan(RUNS * 3)
    },
    STRESS ? 4 * 3600_000 : 600_000,
  )
})

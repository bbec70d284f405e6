/**
 * The fast-check commands: each runs one generated operation on the real
 * system and on the model, then requires that everything a user can see is
 * the same: the events the handlers saw, the error (or result) the caller
 * got, the rows, the audit entries, the after-commit calls and reported
 * callback errors, the drafts, and no action context left behind.
 */
import fc from 'fast-check'
import { currentAction, EventActionError, HardError, SoftError } from '../../../src'
import { FAULT_TARGETS, type FaultTarget } from './harness'
import { byCode, type Model, type Outcome, type Resolved } from './model'
import { describeStep, type Op, type Setting, type Wrap } from './ops'
import type { Observed, RealSystem } from './system'

/** Where a sequence is: the real system and what was already checked. */
export interface Run {
  readonly system: RealSystem
  /** The largest audit entry id already compared. */
  lastAuditId: number
  /** Transaction ids of entries already compared: each operation's entries must have a new one. */
  readonly transactionIds: Set<string>
  /** One line per step of this sequence, printed with a failure. */
  readonly trace: string[]
}

/** A failed comparison, with the step and the sequence so far. */
class Mismatch extends Error {
  override name = 'ModelMismatch'
}

function fail(run: Run, what: string, detail: string): never {
  throw new Mismatch(`${what}\n${detail}\n--- steps of this sequence ---\n${run.trace.join('\n')}`)
}

function same(run: Run, what: string, actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual, null, 1)
  const e = JSON.stringify(expected, null, 1)
  if (a !== e) fail(run, `${what} differ`, `expected (model): ${e}\nactual (database/system): ${a}`)
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const e = error as EventActionError
  return `${e.name}: ${e.message}${e.entityName ? ` (${e.entityName} ${e.timing} ${e.type})` : ''}\n${e.stack?.split('\n').slice(1, 6).join('\n') ?? ''}`
}

function outcomeText(observed: Observed): string {
  if (observed.error === undefined) return 'ok'
  const e = observed.error as EventActionError
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
}

function resolvedText(op: Op, r: Resolved): string {
  if (op.kind === 'create') return r.newCode!
  if (op.kind === 'copy') return `${r.code} into ${r.newCode}`
  if (op.kind === 'fromRecordSet') return r.codes!.join(' ')
  if (op.kind === 'updateWhere' || op.kind === 'deleteWhere') return `matches [${r.matched!.join(' ')}]`
  return r.code!
}

function compareError(run: Run, observed: Observed, outcome: Outcome): void {
  const expected = outcome.error
  const actual = observed.error
  if (!expected) {
    if (actual !== undefined) fail(run, 'the operation failed, the model says it succeeds', errorText(actual))
    return
  }
  if (actual === undefined) fail(run, 'the operation succeeded, the model says it fails', JSON.stringify(expected))
  const cls = expected.name === 'SoftError' ? SoftError : HardError
  // A HardError is not a SoftError (and the reverse): the class must be exactly the one thrown, not wrapped.
  const wrongClass = !(actual instanceof cls) || (expected.name === 'HardError' && actual instanceof SoftError)
  if (wrongClass) fail(run, `the caller got something else than the ${expected.name} thrown`, errorText(actual))
  const e = actual as EventActionError
  same(run, 'the error the caller got', { name: e.name, message: e.message, entityName: e.entityName, type: e.type, timing: e.timing }, expected)
}

/** Everything a user can see after the step, against the model. */
async function compareState(run: Run, model: Model, outcome: Outcome): Promise<void> {
  const { system } = run
  same(run, 'parent rows', sortKeys(await system.parentRows()), sortKeys(Object.fromEntries(model.parents)))
  same(run, 'child rows', sortKeys(await system.childRows()), sortKeys(Object.fromEntries(model.children)))
  same(run, 'marker rows', await system.markerRows(), [...model.markers].sort(byCode))
  const entries = await system.auditsAfter(run.lastAuditId)
  same(
    run,
    'new audit entries',
    entries.map((e) => ({
      entityName: e.entityName,
      entityId: e.entityId,
      operation: e.operation,
      userId: e.userId,
      actionName: e.actionName,
      requestId: e.requestId,
      changes: sortKeys(e.changes),
    })),
    outcome.audits.map((a) => ({ ...a, changes: sortKeys(a.changes) })),
  )
  if (entries.length) {
    const ids = new Set(entries.map((e) => e.transactionId))
    if (ids.size !== 1) fail(run, 'the entries of one operation (one transaction) have several transaction ids', [...ids].join(', '))
    const [id] = ids
    if (run.transactionIds.has(id!)) fail(run, 'a new transaction reused an earlier transaction id', id!)
    run.transactionIds.add(id!)
    run.lastAuditId = entries[entries.length - 1]!.id
  }
  same(run, 'after-commit calls (whole sequence)', system.callsSoFar(), model.calls)
  same(run, 'after-commit errors reported (whole sequence)', system.reportedSoFar(), model.reported)
  same(run, 'drafts', [...system.drafts.keys()].sort(byCode), [...model.drafts.keys()].sort(byCode))
  // Outside any runAction, nothing of the operation's action may linger.
  if (currentAction() !== undefined) fail(run, 'an action context outlived its runAction', JSON.stringify(currentAction()))
}

function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => byCode(a, b))) as T
}

/** One generated operation as a fast-check command. */
export class OpCommand implements fc.AsyncCommand<Model, Run> {
  constructor(
    readonly op: Op,
    readonly setting: Setting,
  ) {}

  check(model: Readonly<Model>): boolean {
    return model.applicable(this.op)
  }

  async run(model: Model, run: Run): Promise<void> {
    const step = ++model.step
    const resolved = model.resolve(this.op)
    const line = `${String(step).padStart(3)}: ${describeStep(this.op, this.setting, resolvedText(this.op, resolved))}`
    run.trace.push(line)
    const observed = await run.system.run(this.op, this.setting, resolved, step)
    run.trace[run.trace.length - 1] = `${line} => ${outcomeText(observed)}`
    let order: readonly string[] | undefined
    if (this.op.kind === 'updateWhere' || this.op.kind === 'deleteWhere') {
      // A find without ORDER BY: the database picks the order, the model follows it, but the rows must be the matched ones.
      order = observed.loads
      same(run, 'rows updateWhere/deleteWhere visited', [...order].sort(byCode), resolved.matched)
    }
    // Only injected faults may fail an operation: anything else is reported with its stack at once.
    if (observed.error !== undefined && !(observed.error instanceof EventActionError)) fail(run, 'the operation failed with an error no fault injected', errorText(observed.error))
    const outcome = model.apply(this.op, this.setting, resolved, order)
    same(run, 'events (in handler order)', observed.events, outcome.events)
    compareError(run, observed, outcome)
    same(run, 'result', observed.result ?? null, outcome.result ?? null)
    await compareState(run, model, outcome)
  }

  toString(): string {
    return describeStep(this.op, this.setting)
  }
}

// ------------------------------------------------------------ arbitraries

/** Names that differ only in case, so that the lower-case rule sometimes leaves nothing to write. */
const nameArb = fc.constantFrom('Ann', 'ANN', 'ann', 'Bob', 'bob', 'Cy')
const valueArb = fc.integer({ min: 0, max: 3 })
const pickArb = fc.nat(9)

const faultArb: fc.Arbitrary<FaultTarget> = fc.oneof(
  { arbitrary: fc.constant<FaultTarget>('none'), weight: 4 },
  { arbitrary: fc.constantFrom(...FAULT_TARGETS.filter((t) => t !== 'none')), weight: 5 },
)

const settingArb: fc.Arbitrary<Setting> = fc.record({
  user: fc.oneof(fc.constant(null), fc.constantFrom('u1', 'u2', 'u3')),
  wrap: fc.oneof({ arbitrary: fc.constant<Wrap>('none'), weight: 3 }, { arbitrary: fc.constantFrom<Wrap>('transaction', 'savepoint'), weight: 2 }),
  fault: faultArb,
  nth: fc.nat(2),
  spawn: fc.boolean(),
  async: fc.boolean(),
})

function command(opArb: fc.Arbitrary<Op>): fc.Arbitrary<OpCommand> {
  return fc.tuple(opArb, settingArb).map(([op, setting]) => new OpCommand(op, setting))
}

const picked = <K extends 'saveNew' | 'remove' | 'softRemove' | 'recover' | 'copy'>(kind: K) =>
  command(pickArb.map((pick) => ({ kind, pick }) as Op))

/** Every operation (softRemove twice, so that recover finds soft-deleted rows more often). */
export const COMMANDS: fc.Arbitrary<OpCommand>[] = [
  command(fc.record({ name: nameArb, value: valueArb }).map((r) => ({ kind: 'create', ...r }) as Op)),
  picked('saveNew'),
  picked('softRemove'),
  command(
    fc
      .record({ pick: pickArb, name: fc.option(nameArb, { nil: null }), value: fc.option(valueArb, { nil: null }) })
      .map((r) => ({ kind: 'change', ...r }) as Op),
  ),
  picked('remove'),
  picked('softRemove'),
  picked('recover'),
  command(fc.record({ pick: pickArb, name: fc.option(nameArb, { nil: null }), value: valueArb }).map((r) => ({ kind: 'reset', ...r }) as Op)),
  picked('copy'),
  command(
    fc
      .record({ picks: fc.array(pickArb, { minLength: 1, maxLength: 3 }), delta: fc.integer({ min: -1, max: 1 }) })
      .map((r) => ({ kind: 'fromRecordSet', ...r }) as Op),
  ),
  command(fc.record({ pick: pickArb, value: valueArb }).map((r) => ({ kind: 'update', ...r }) as Op)),
  command(fc.record({ value: valueArb, newValue: valueArb }).map((r) => ({ kind: 'updateWhere', ...r }) as Op)),
  command(valueArb.map((value) => ({ kind: 'deleteWhere', value }) as Op)),
]

/** The rows a sequence starts with (0 to 5), so that most operations have something to work on. */
export const SEED_ROWS = fc.array(fc.record({ name: nameArb, value: valueArb }), { maxLength: 5 })

const QUIET: Setting = { user: null, wrap: 'none', fault: 'none', nth: 0, spawn: false, async: false }

/** create + saveNew per starting row, without faults; printed in the trace like any step. */
export function seedCommands(rows: readonly { name: string; value: number }[]): OpCommand[] {
  return rows.flatMap((row) => [new OpCommand({ kind: 'create', ...row }, QUIET), new OpCommand({ kind: 'saveNew', pick: 0 }, QUIET)])
}

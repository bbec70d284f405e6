/**
 * The small in-memory model the real system is compared with: rows, drafts,
 * audit entries, after-commit calls and reported callback errors, and a
 * simulation of each operation that says which events fire, in which order,
 * where the injected fault fires and what a commit leaves behind.
 *
 * It states the library's promises, not its code: a write's Pre, SQL, audit
 * entry, Post; a handler's nested write inside the same transaction; any
 * error rolls back everything of the operation (rows, entries, callbacks),
 * and in a savepoint only what the operation added; after-commit callbacks
 * run after the outermost commit in registration order and a failing one is
 * reported without undoing anything.
 */
import { EventActionTiming, EventActionType } from '../../../src'
import { callbackFaultMessage, callbackLabel, childCode, eventLabel, faultMessage, type FaultTarget } from './harness'
import { actionName, type Op, type Setting } from './ops'

const { Pre, Post } = EventActionTiming
const { Create, Insert, Update, Delete, Reset, BO2BO, RS2BO } = EventActionType

export interface ParentRow {
  readonly name: string
  readonly value: number
  readonly deleted: boolean
}

export interface ChildRow {
  readonly name: string
  readonly parentCode: string
}

export interface Draft {
  readonly name: string
  readonly value: number
}

/** An audit entry as the test compares it (everything but id, date and transaction id). */
export interface ExpectedAudit {
  readonly entityName: string
  readonly entityId: string
  readonly operation: string
  readonly userId: string | null
  readonly actionName: string | null
  readonly requestId: string | null
  readonly changes: Record<string, { old: unknown; new: unknown }>
}

/** The error the caller must get. */
export interface ExpectedError {
  readonly name: 'SoftError' | 'HardError'
  readonly message: string
  readonly entityName: string
  readonly type: EventActionType
  readonly timing: EventActionTiming
}

/** What an operation resolved to before it ran: the rows or drafts it works on. */
export interface Resolved {
  /** The row or draft it works on. */
  readonly code?: string
  /** fromRecordSet: the rows, in code order. */
  readonly codes?: readonly string[]
  /** create/copy: the code of the new draft. */
  readonly newCode?: string
  /** updateWhere/deleteWhere: the rows that match, in code order. */
  readonly matched?: readonly string[]
}

/** The model's verdict on one operation. */
export interface Outcome {
  readonly events: readonly string[]
  readonly error: ExpectedError | null
  /** What the operation returns that the test checks: a count, or the values a reset left. */
  readonly result: unknown
  readonly audits: readonly ExpectedAudit[]
  readonly calls: readonly string[]
  readonly reported: readonly string[]
}

/** Thrown inside the simulation where the real handler throws. */
class Fault extends Error {
  constructor(readonly expected: ExpectedError) {
    super(expected.message)
  }
}

const PARENT = 'ModelParent'
const CHILD = 'ModelChild'
const MARKER = 'ModelMarker'

/** The code of the marker row the transaction around operation `step` writes. */
export function markerCode(step: number): string {
  return `m${step}`
}

export const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** One operation's run through the model: a private copy of the state, committed only when it succeeds. */
class Simulation {
  readonly events: string[] = []
  readonly audits: ExpectedAudit[] = []
  readonly callbacks: { label: string; fails: boolean; origin: string }[] = []
  parents: Map<string, ParentRow>
  children: Map<string, ChildRow>
  markers: Set<string>
  private readonly counters = new Map<FaultTarget, number>()

  constructor(
    model: Model,
    private readonly setting: Setting,
    private readonly op: Op,
    private readonly step: number,
  ) {
    this.parents = new Map(model.parents)
    this.children = new Map(model.children)
    this.markers = new Set(model.markers)
  }

  /** What a savepoint remembers: the state, and how many entries and callbacks there were. */
  mark(): () => void {
    const parents = new Map(this.parents)
    const children = new Map(this.children)
    const markers = new Set(this.markers)
    const audits = this.audits.length
    const callbacks = this.callbacks.length
    return () => {
      this.parents = parents
      this.children = children
      this.markers = markers
      this.audits.length = audits
      this.callbacks.length = callbacks
    }
  }

  /** The row the transaction around an operation writes first (no events, no fault; an after-commit call). */
  insertMarker(code: string): void {
    this.markers.add(code)
    this.audit(MARKER, code, 'insert', { code: { old: null, new: code } })
    this.callback(MARKER, code, Insert)
  }

  private due(target: FaultTarget): boolean {
    if (this.setting.fault !== target) return false
    const n = this.counters.get(target) ?? 0
    this.counters.set(target, n + 1)
    return n === this.setting.nth
  }

  private fault(target: FaultTarget, name: ExpectedError['name'], entityName: string, type: EventActionType, timing: EventActionTiming): void {
    if (this.due(target)) throw new Fault({ name, message: faultMessage(target, this.setting.nth), entityName, type, timing })
  }

  private audit(entityName: string, entityId: string, operation: string, changes: ExpectedAudit['changes']): void {
    const user = this.setting.user
    this.audits.push({
      entityName,
      entityId,
      operation,
      userId: user,
      actionName: user === null ? null : actionName(this.op),
      requestId: user === null ? null : requestIdOf(this.step),
      changes,
    })
  }

  private callback(entityName: string, code: string, type: EventActionType): void {
    const label = callbackLabel(entityName, code, type)
    this.callbacks.push({ label, fails: this.due('callback'), origin: `${entityName} ${Post} ${type}` })
  }

  /** ModelParent._eventAction up to the fault check (every non-Load event). */
  parentEvent(code: string, timing: EventActionTiming, type: EventActionType, group: readonly string[] | null): void {
    this.events.push(eventLabel(PARENT, code, timing, type, group))
    this.fault(timing === Pre ? 'parent-pre' : 'parent-post', 'SoftError', PARENT, type, timing)
  }

  /** A parent's Post Insert/Update/Delete: the handler (callback, child), then the declarative handler. */
  private parentPostWrite(code: string, type: EventActionType, group: readonly string[] | null): void {
    this.parentEvent(code, Post, type, group)
    this.callback(PARENT, code, type)
    if (this.setting.spawn) this.insertChild(childCode(code, this.step), code)
    if ((type === Insert || type === Update) && group?.includes('value')) this.fault('parent-decl', 'HardError', PARENT, type, Post)
  }

  private insertChild(code: string, parentCode: string): void {
    const group = ['code', 'name', 'parentCode']
    const name = `child of ${parentCode}`
    this.events.push(eventLabel(CHILD, code, Pre, Insert, group))
    this.fault('child-pre', 'SoftError', CHILD, Insert, Pre)
    this.fault('child-decl', 'HardError', CHILD, Insert, Pre)
    this.children.set(code, { name, parentCode })
    this.audit(CHILD, code, 'insert', { code: { old: null, new: code }, name: { old: null, new: name }, parentCode: { old: null, new: parentCode } })
    this.events.push(eventLabel(CHILD, code, Post, Insert, group))
    this.fault('child-post', 'SoftError', CHILD, Insert, Post)
    this.callback(CHILD, code, Insert)
  }

  /** `save()` of a new instance. */
  insertParent(code: string, draft: Draft): void {
    this.parentEvent(code, Pre, Insert, ['code', 'name', 'value'])
    const row: ParentRow = { name: draft.name.toLowerCase(), value: draft.value, deleted: false }
    this.parents.set(code, row)
    this.audit(PARENT, code, 'insert', { code: { old: null, new: code }, name: { old: null, new: row.name }, value: { old: null, new: row.value } })
    this.parentPostWrite(code, Insert, ['code', 'deletedAt', 'name', 'value'])
  }

  /**
   * The Pre half of `save()` of a loaded instance with `next` values: the
   * group is what differs from the row; the Pre handler stores the name in
   * lower case. Returns what is left to write: TypeORM recomputes the changes
   * after Pre, and writes (and fires Post for) only what still differs.
   */
  preUpdate(code: string, next: Draft): readonly string[] {
    const row = this.parents.get(code)!
    const group = changed(row, next)
    if (group.length === 0) return []
    this.parentEvent(code, Pre, Update, group)
    return changed(row, group.includes('name') ? { ...next, name: next.name.toLowerCase() } : next)
  }

  /** The SQL and Post half of an update of `group`. */
  postUpdate(code: string, next: Draft, group: readonly string[]): void {
    if (group.length === 0) return
    const row = this.parents.get(code)!
    const written: ParentRow = { ...row, ...(group.includes('name') ? { name: next.name.toLowerCase() } : {}), ...(group.includes('value') ? { value: next.value } : {}) }
    this.parents.set(code, written)
    const changes: ExpectedAudit['changes'] = {}
    for (const attr of group) changes[attr] = { old: row[attr as 'name' | 'value'], new: written[attr as 'name' | 'value'] }
    this.audit(PARENT, code, 'update', changes)
    this.parentPostWrite(code, Update, group)
  }

  /** `EventActions.update(row, ['value'])`: written and audited even when unchanged. */
  targetedUpdate(code: string, value: number): void {
    const row = this.parents.get(code)!
    this.parentEvent(code, Pre, Update, ['value'])
    this.parents.set(code, { ...row, value })
    this.audit(PARENT, code, 'update', { value: { old: row.value, new: value } })
    this.parentPostWrite(code, Update, ['value'])
  }

  /** `remove()` / `softRemove()`: the entry records the last values. */
  deleteParent(code: string, soft: boolean): void {
    const row = this.parents.get(code)!
    this.parentEvent(code, Pre, Delete, null)
    if (soft) this.parents.set(code, { ...row, deleted: true })
    else this.parents.delete(code)
    this.audit(PARENT, code, 'delete', { code: { old: code, new: null }, name: { old: row.name, new: null }, value: { old: row.value, new: null } })
    this.parentPostWrite(code, Delete, null)
  }

  /** `recover()`: an Update of deletedAt, which the audit excludes. */
  recoverParent(code: string): void {
    const row = this.parents.get(code)!
    this.parentEvent(code, Pre, Update, ['deletedAt'])
    this.parents.set(code, { ...row, deleted: false })
    this.audit(PARENT, code, 'update', {})
    this.parentPostWrite(code, Update, ['deletedAt'])
  }

  /** What committing leaves: the callbacks run in order; a failing one is reported. */
  committed(): { calls: string[]; reported: string[] } {
    const calls: string[] = []
    const reported: string[] = []
    for (const c of this.callbacks) {
      calls.push(c.label)
      if (c.fails) reported.push(`${c.origin}: ${callbackFaultMessage(this.setting.nth, c.label)}`)
    }
    return { calls, reported }
  }
}

/** The attributes of `next` that differ from `row`, in name order. */
function changed(row: Draft, next: Draft): string[] {
  const group: string[] = []
  if (next.name !== row.name) group.push('name')
  if (next.value !== row.value) group.push('value')
  return group
}

/** The request id an operation inside runAction carries. */
export function requestIdOf(step: number): string {
  return `req-${step}`
}

/** The state the database, the drafts and the logs must be in. */
export class Model {
  readonly parents = new Map<string, ParentRow>()
  readonly children = new Map<string, ChildRow>()
  readonly drafts = new Map<string, Draft>()
  readonly markers = new Set<string>()
  readonly audits: ExpectedAudit[] = []
  readonly calls: string[] = []
  readonly reported: string[] = []
  private nextCode = 1
  step = 0
  /** How many operations of each kind ran, and how many failed by an injected fault (for the run's summary). */
  static readonly stats = { ops: new Map<string, number>(), faults: new Map<string, number>() }

  /** Codes of parents, in code order, that satisfy `filter`. */
  codes(filter: (row: ParentRow) => boolean): string[] {
    return [...this.parents].filter(([, row]) => filter(row)).map(([code]) => code).sort(byCode)
  }

  live(): string[] {
    return this.codes((r) => !r.deleted)
  }

  /** Whether the operation has anything to work on (fast-check skips it otherwise). */
  applicable(op: Op): boolean {
    switch (op.kind) {
      case 'create':
      case 'updateWhere':
      case 'deleteWhere':
        return true
      case 'saveNew':
        return this.drafts.size > 0
      case 'remove':
        return this.parents.size > 0
      case 'recover':
        return this.codes((r) => r.deleted).length > 0
      default:
        return this.live().length > 0
    }
  }

  /** The rows or drafts the operation works on, chosen now, before it runs. */
  resolve(op: Op): Resolved {
    const pick = (list: readonly string[], n: number) => list[n % list.length]!
    switch (op.kind) {
      case 'create':
        return { newCode: this.newCode() }
      case 'copy':
        return { code: pick(this.live(), op.pick), newCode: this.newCode() }
      case 'saveNew':
        return { code: pick([...this.drafts.keys()].sort(byCode), op.pick) }
      case 'remove':
        return { code: pick(this.codes(() => true), op.pick) }
      case 'recover':
        return { code: pick(this.codes((r) => r.deleted), op.pick) }
      case 'fromRecordSet': {
        const live = this.live()
        return { codes: [...new Set(op.picks.map((p) => pick(live, p)))].sort(byCode) }
      }
      case 'updateWhere':
      case 'deleteWhere':
        return { matched: this.codes((r) => !r.deleted && r.value === op.value) }
      default:
        return { code: pick(this.live(), op.pick) }
    }
  }

  private newCode(): string {
    return `p${String(this.nextCode++).padStart(3, '0')}`
  }

  /**
   * Runs `op` through the model and, when it succeeds, commits its effects.
   * `order` is the order the real system visited the matched rows of
   * updateWhere/deleteWhere (a find without ORDER BY: the database decides;
   * the test checks it visited exactly the matched rows).
   */
  apply(op: Op, setting: Setting, resolved: Resolved, order: readonly string[] | undefined): Outcome {
    const sim = new Simulation(this, setting, op, this.step)
    if (setting.wrap !== 'none') sim.insertMarker(markerCode(this.step))
    const rollbackToSavepoint = sim.mark()
    let result: unknown
    let error: ExpectedError | null = null
    try {
      result = this.simulate(sim, op, resolved, order)
    } catch (e) {
      if (!(e instanceof Fault)) throw e
      error = e.expected
      result = op.kind === 'reset' ? this.resetLeft(sim, op, resolved) : undefined
    }
    Model.stats.ops.set(op.kind, (Model.stats.ops.get(op.kind) ?? 0) + 1)
    if (error) Model.stats.faults.set(setting.fault, (Model.stats.faults.get(setting.fault) ?? 0) + 1)
    if (error && setting.wrap !== 'savepoint') return { events: sim.events, error, result, audits: [], calls: [], reported: [] }
    // In a savepoint, the failed operation is undone and the transaction commits what came before it.
    if (error) rollbackToSavepoint()
    this.parents.clear()
    for (const [k, v] of sim.parents) this.parents.set(k, v)
    this.children.clear()
    for (const [k, v] of sim.children) this.children.set(k, v)
    for (const m of sim.markers) this.markers.add(m)
    this.audits.push(...sim.audits)
    const { calls, reported } = sim.committed()
    if (reported.length) Model.stats.faults.set('callback', (Model.stats.faults.get('callback') ?? 0) + reported.length)
    this.calls.push(...calls)
    this.reported.push(...reported)
    return { events: sim.events, error, result, audits: sim.audits, calls, reported }
  }

  /** reset: the values the instance holds after a failed reset (unchanged when Pre failed, reverted when Post failed). */
  private resetLeft(sim: Simulation, op: Extract<Op, { kind: 'reset' }>, resolved: Resolved): Draft {
    const row = this.parents.get(resolved.code!)!
    const postRan = sim.events.some((e) => e.includes(`${Post} ${Reset}`))
    return postRan ? { name: row.name, value: row.value } : { name: op.name ?? row.name, value: op.value }
  }

  private simulate(sim: Simulation, op: Op, resolved: Resolved, order: readonly string[] | undefined): unknown {
    switch (op.kind) {
      case 'create': {
        const code = resolved.newCode!
        sim.parentEvent('?', Pre, Create, null)
        sim.parentEvent(code, Post, Create, null)
        this.drafts.set(code, { name: op.name, value: op.value })
        return undefined
      }
      case 'saveNew': {
        const code = resolved.code!
        const draft = this.drafts.get(code)!
        // Gone whatever happens: TypeORM may change an instance whose save then rolls back, so a failed draft is dropped.
        this.drafts.delete(code)
        sim.insertParent(code, draft)
        return undefined
      }
      case 'change': {
        const code = resolved.code!
        const row = this.parents.get(code)!
        const next = { name: op.name ?? row.name, value: op.value ?? row.value }
        sim.postUpdate(code, next, sim.preUpdate(code, next))
        return undefined
      }
      case 'remove':
        sim.deleteParent(resolved.code!, false)
        return undefined
      case 'softRemove':
        sim.deleteParent(resolved.code!, true)
        return undefined
      case 'recover':
        sim.recoverParent(resolved.code!)
        return undefined
      case 'reset': {
        const code = resolved.code!
        const row = this.parents.get(code)!
        const group = changed(row, { name: op.name ?? row.name, value: op.value })
        if (group.length > 0) {
          sim.parentEvent(code, Pre, Reset, group)
          sim.parentEvent(code, Post, Reset, group)
        }
        return { name: row.name, value: row.value }
      }
      case 'copy': {
        const code = resolved.newCode!
        const source = this.parents.get(resolved.code!)!
        sim.parentEvent('?', Pre, Create, null)
        sim.parentEvent(code, Post, Create, null)
        sim.parentEvent(code, Pre, BO2BO, ['name', 'value'])
        sim.parentEvent(code, Post, BO2BO, ['name', 'value'])
        this.drafts.set(code, { name: source.name, value: source.value })
        return undefined
      }
      case 'fromRecordSet': {
        const codes = resolved.codes!
        for (const code of codes) {
          sim.parentEvent('?', Pre, RS2BO, ['code', 'deletedAt', 'name', 'value'])
          sim.parentEvent(code, Post, RS2BO, ['code', 'deletedAt', 'name', 'value'])
        }
        // One save() of every instance: all Pre events, the UPDATEs, then all Post events.
        const next = codes.map((code) => {
          const row = this.parents.get(code)!
          return { name: row.name, value: row.value + op.delta }
        })
        const groups = codes.map((code, i) => sim.preUpdate(code, next[i]!))
        codes.forEach((code, i) => sim.postUpdate(code, next[i]!, groups[i]!))
        return undefined
      }
      case 'update':
        sim.targetedUpdate(resolved.code!, op.value)
        return undefined
      case 'updateWhere': {
        for (const code of order!) {
          const row = this.parents.get(code)!
          const next = { name: row.name, value: op.newValue }
          sim.postUpdate(code, next, sim.preUpdate(code, next))
        }
        return order!.length
      }
      case 'deleteWhere':
        for (const code of order!) sim.deleteParent(code, false)
        return order!.length
    }
  }
}

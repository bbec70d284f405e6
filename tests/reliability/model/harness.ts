/**
 * What the model-based test injects into, and observes from, the real
 * system: the fault plan of the running operation, and every event, load,
 * after-commit call and reported after-commit error, in the order they happened.
 * One module-level instance: entity handlers cannot be handed anything else.
 */
import { HardError, SoftError, type EventActionTiming, type EventActionType } from '../../../src'

/**
 * Where an operation's injected fault fires: the `nth` time (counted from 0,
 * per operation) the named point is reached.
 * - `parent-pre` / `parent-post`: a SoftError from ModelParent._eventAction (any non-Load event)
 * - `child-pre` / `child-post`: a SoftError from ModelChild._eventAction (the child a parent writes)
 * - `parent-decl`: a HardError from ModelParent's `@OnEventAction` Post Insert/Update handler (when value)
 * - `child-decl`: a HardError from ModelChild's `@OnEventAction` Pre Insert handler
 * - `callback`: the nth after-commit callback throws (the commit stands)
 */
export type FaultTarget = 'none' | 'parent-pre' | 'parent-post' | 'child-pre' | 'child-post' | 'parent-decl' | 'child-decl' | 'callback'

export const FAULT_TARGETS: readonly FaultTarget[] = [
  'none',
  'parent-pre',
  'parent-post',
  'child-pre',
  'child-post',
  'parent-decl',
  'child-decl',
  'callback',
]

/** How the handlers behave during one operation. */
export interface Plan {
  readonly fault: FaultTarget
  readonly nth: number
  /** Parent Post Insert/Update/Delete handlers write a ModelChild through ctx.manager (a nested save, depth 2). */
  readonly spawn: boolean
  /** Handlers await a tick first, so that the dispatcher's asynchronous path runs. */
  readonly async: boolean
  /** The operation's number in the sequence; child codes include it, so they never collide. */
  readonly step: number
}

export const IDLE: Plan = { fault: 'none', nth: 0, spawn: false, async: false, step: 0 }

/** The message of an injected fault: the model builds the same one. */
export function faultMessage(target: FaultTarget, nth: number): string {
  return `injected ${target} #${nth}`
}

/** The message of an after-commit callback's injected error. */
export function callbackFaultMessage(nth: number, label: string): string {
  return `${faultMessage('callback', nth)} in ${label}`
}

/** The code of the child a parent's Post handler writes in operation `step`. */
export function childCode(parentCode: string, step: number): string {
  return `${parentCode}.${step}`
}

/** An event as the model and the harness write it down. */
export function eventLabel(entity: string, code: string, timing: EventActionTiming, type: EventActionType, group: Iterable<string> | null): string {
  return `${entity} ${code} ${timing} ${type} ${group ? `[${[...group].sort().join(',')}]` : 'null'}`
}

/** The label an after-commit callback records when it runs. */
export function callbackLabel(entity: string, code: string, type: EventActionType): string {
  return `${entity} ${code} ${type}`
}

class Harness {
  plan: Plan = IDLE
  private counters = new Map<FaultTarget, number>()
  /** Write and business-object events (not Load), in handler order. */
  readonly events: string[] = []
  /** Codes of ModelParent rows loaded (Post Load), in order: the order updateWhere/deleteWhere visit rows. */
  readonly loads: string[] = []
  /** After-commit callbacks that ran, in order. */
  readonly calls: string[] = []
  /** After-commit callbacks whose error reached onAfterCommitError. */
  readonly reported: string[] = []

  /** Starts an operation: its plan, fresh counters, empty logs of events and loads. */
  begin(plan: Plan): void {
    this.plan = plan
    this.counters.clear()
    this.events.length = 0
    this.loads.length = 0
  }

  /** Between operations: no fault can fire (the test's own reads and loads). */
  end(): void {
    this.plan = IDLE
  }

  /** Forgets everything (a new sequence). */
  reset(): void {
    this.end()
    this.counters.clear()
    this.events.length = 0
    this.loads.length = 0
    this.calls.length = 0
    this.reported.length = 0
  }

  /** Counts one pass through `target`; true when this is the pass the plan's fault is for. */
  private due(target: FaultTarget): boolean {
    if (this.plan.fault !== target) return false
    const n = this.counters.get(target) ?? 0
    this.counters.set(target, n + 1)
    return n === this.plan.nth
  }

  softFault(target: FaultTarget): void {
    if (this.due(target)) throw new SoftError(faultMessage(target, this.plan.nth))
  }

  hardFault(target: FaultTarget): void {
    if (this.due(target)) throw new HardError(faultMessage(target, this.plan.nth))
  }

  /** An after-commit callback recording `label`; the plan's nth one throws after recording. */
  callback(label: string): () => void {
    const fails = this.due('callback')
    const message = callbackFaultMessage(this.plan.nth, label)
    return () => {
      this.calls.push(label)
      if (fails) throw new Error(message)
    }
  }
}

export const harness = new Harness()

/** The DataSource's onAfterCommitError: what reached it, as the model writes it down. */
export function reportAfterCommitError(error: unknown, origin: { entityName: string; timing: EventActionTiming; type: EventActionType }): void {
  harness.reported.push(`${origin.entityName} ${origin.timing} ${origin.type}: ${error instanceof Error ? error.message : String(error)}`)
}

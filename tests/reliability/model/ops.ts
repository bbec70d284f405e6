/**
 * The operations of the model-based test, as plain data: what fast-check
 * generates, shrinks and prints. A `pick` chooses among the rows (or drafts)
 * that qualify when the operation runs, modulo their number, so that a
 * shrunk sequence stays meaningful.
 */
import type { FaultTarget } from './harness'

export type OpKind =
  | 'create'
  | 'saveNew'
  | 'change'
  | 'remove'
  | 'softRemove'
  | 'recover'
  | 'reset'
  | 'copy'
  | 'fromRecordSet'
  | 'update'
  | 'updateWhere'
  | 'deleteWhere'

export type Op =
  /** `EventActions.create(ModelParent, { code, name, value })`: a draft, not saved. */
  | { readonly kind: 'create'; readonly name: string; readonly value: number }
  /** `repository.save(draft)`. */
  | { readonly kind: 'saveNew'; readonly pick: number }
  /** Load a live row, change name and/or value, `repository.save()`. */
  | { readonly kind: 'change'; readonly pick: number; readonly name: string | null; readonly value: number | null }
  /** `repository.remove()` of any row, soft-deleted ones included. */
  | { readonly kind: 'remove'; readonly pick: number }
  | { readonly kind: 'softRemove'; readonly pick: number }
  | { readonly kind: 'recover'; readonly pick: number }
  /** Load a live row, change it in memory, `EventActions.reset()`, then `save()` (which must write nothing). */
  | { readonly kind: 'reset'; readonly pick: number; readonly name: string | null; readonly value: number }
  /** `EventActions.copy(row, await create(ModelParent, { code }))`: a draft. */
  | { readonly kind: 'copy'; readonly pick: number }
  /** Raw rows of some live parents, `fromRecordSet`, value += delta, one `save([...])`. */
  | { readonly kind: 'fromRecordSet'; readonly picks: readonly number[]; readonly delta: number }
  /** Load a live row, `EventActions.update(row, ['value'])` (written even if unchanged). */
  | { readonly kind: 'update'; readonly pick: number; readonly value: number }
  | { readonly kind: 'updateWhere'; readonly value: number; readonly newValue: number }
  | { readonly kind: 'deleteWhere'; readonly value: number }

/**
 * Where an operation runs: on its own; in a transaction that first writes a
 * marker row (a failure rolls back both); or in a savepoint of such a
 * transaction, which catches the failure, commits the marker, and rethrows
 * the error to the caller after the commit.
 */
export type Wrap = 'none' | 'transaction' | 'savepoint'

/** How an operation runs: its acting user (null: outside runAction), its transaction, and the handlers' plan. */
export interface Setting {
  readonly user: string | null
  readonly wrap: Wrap
  readonly fault: FaultTarget
  readonly nth: number
  readonly spawn: boolean
  readonly async: boolean
}

/** The runAction name of an operation. */
export function actionName(op: Op): string {
  return `model:${op.kind}`
}

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'create':
      return `create(name=${op.name}, value=${op.value})`
    case 'saveNew':
    case 'remove':
    case 'softRemove':
    case 'recover':
    case 'copy':
      return `${op.kind}(#${op.pick})`
    case 'change':
      return `change(#${op.pick}${op.name === null ? '' : `, name=${op.name}`}${op.value === null ? '' : `, value=${op.value}`})`
    case 'reset':
      return `reset(#${op.pick}${op.name === null ? '' : `, name=${op.name}`}, value=${op.value})`
    case 'fromRecordSet':
      return `fromRecordSet(#${op.picks.join(' #')}, delta=${op.delta})`
    case 'update':
      return `update(#${op.pick}, value=${op.value})`
    case 'updateWhere':
      return `updateWhere(value=${op.value} -> ${op.newValue})`
    case 'deleteWhere':
      return `deleteWhere(value=${op.value})`
  }
}

function describeSetting(s: Setting): string {
  const parts = [s.user === null ? 'no action' : `as ${s.user}`]
  if (s.wrap !== 'none') parts.push(`in ${s.wrap}`)
  if (s.fault !== 'none') parts.push(`fault ${s.fault}#${s.nth}`)
  if (s.spawn) parts.push('spawn child')
  if (s.async) parts.push('async')
  return parts.join(', ')
}

/** One line, as the counterexample prints it. */
export function describeStep(op: Op, setting: Setting, resolved?: string): string {
  return `${describeOp(op)}${resolved ? ` -> ${resolved}` : ''} [${describeSetting(setting)}]`
}

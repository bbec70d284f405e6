/**
 * The real system: one DataSource with event actions, and the drafts (unsaved
 * instances) an application would hold. Runs an operation the way an
 * application would, and reads back what a user can see.
 */
import { MoreThan, type DataSource, type EntityManager } from 'typeorm'
import { AuditEntry, EventActions, runAction } from '../../../src'
import { ModelMarker, ModelParent } from './entities'
import { harness } from './harness'
import { byCode, markerCode, requestIdOf, type ChildRow, type Draft, type ParentRow, type Resolved } from './model'
import { actionName, type Op, type Setting, type Wrap } from './ops'

/** What one operation did, as seen from outside. */
export interface Observed {
  readonly events: readonly string[]
  readonly loads: readonly string[]
  readonly error: unknown
  readonly result: unknown
}

export class RealSystem {
  readonly drafts = new Map<string, ModelParent>()

  constructor(readonly ds: DataSource) {}

  async run(op: Op, setting: Setting, resolved: Resolved, step: number): Promise<Observed> {
    harness.begin({ fault: setting.fault, nth: setting.nth, spawn: setting.spawn, async: setting.async, step })
    const left: { values?: Draft } = {}
    let result: unknown
    let error: unknown
    try {
      const work = () => this.wrapped(setting.wrap, step, (manager) => new Operation(manager, this.drafts).execute(op, resolved, left))
      result =
        setting.user === null
          ? await work()
          : await runAction({ name: actionName(op), user: { id: setting.user }, requestId: requestIdOf(step) }, work)
    } catch (e) {
      error = e
    } finally {
      harness.end()
    }
    // reset answers with the values the instance holds afterwards, whether or not it failed.
    if (op.kind === 'reset') result = left.values
    return { events: [...harness.events], loads: [...harness.loads], error, result }
  }

  /**
   * Runs the operation on its own (`none`), inside a transaction that first
   * writes a marker (`transaction`), or in a savepoint of such a transaction
   * (`savepoint`): there a failed operation is caught, the transaction
   * commits the marker, and the caller gets the operation's error afterwards.
   */
  private async wrapped(wrap: Wrap, step: number, body: (manager: EntityManager) => Promise<unknown>): Promise<unknown> {
    if (wrap === 'none') return body(this.ds.manager)
    const marker = (manager: EntityManager) => manager.save(manager.create(ModelMarker, { code: markerCode(step) }))
    if (wrap === 'transaction') {
      return this.ds.transaction(async (manager) => {
        await marker(manager)
        return body(manager)
      })
    }
    let failure: { error: unknown } | undefined
    const result = await this.ds.transaction(async (manager) => {
      await marker(manager)
      try {
        return await manager.transaction((inner) => body(inner))
      } catch (error) {
        failure = { error }
        return undefined
      }
    })
    if (failure) throw failure.error
    return result
  }
  /** Every parent row, read with SQL. */
  async parentRows(): Promise<Record<string, ParentRow>> {
    const e = (name: string) => this.ds.driver.escape(name)
    const rows: { code: string; name: string; value: number | string; deletedAt: unknown }[] = await this.ds.query(
      `SELECT ${e('code')} AS ${e('code')}, ${e('name')} AS ${e('name')}, ${e('value')} AS ${e('value')}, ${e('deletedAt')} AS ${e('deletedAt')} FROM ${e('rm_parent')}`,
    )
    return Object.fromEntries(rows.map((r) => [r.code, { name: r.name, value: Number(r.value), deleted: r.deletedAt !== null }]))
  }

  /** Every child row, read with SQL. */
  async childRows(): Promise<Record<string, ChildRow>> {
    const e = (name: string) => this.ds.driver.escape(name)
    const rows: { code: string; name: string; parentCode: string }[] = await this.ds.query(
      `SELECT ${e('code')} AS ${e('code')}, ${e('name')} AS ${e('name')}, ${e('parentCode')} AS ${e('parentCode')} FROM ${e('rm_child')}`,
    )
    return Object.fromEntries(rows.map((r) => [r.code, { name: r.name, parentCode: r.parentCode }]))
  }

  /** Every marker row (written by the transaction around an operation), read with SQL. */
  async markerRows(): Promise<string[]> {
    const e = (name: string) => this.ds.driver.escape(name)
    const rows: { code: string }[] = await this.ds.query(`SELECT ${e('code')} AS ${e('code')} FROM ${e('rm_marker')}`)
    return rows.map((r) => r.code).sort(byCode)
  }

  /** Audit entries with an id above `after`, oldest first. */
  auditsAfter(after: number): Promise<AuditEntry[]> {
    return this.ds.getRepository(AuditEntry).find({ where: { id: MoreThan(after) }, order: { id: 'ASC' } })
  }

  /** The after-commit calls so far (the harness records them as they run). */
  callsSoFar(): string[] {
    return [...harness.calls]
  }

  /** The after-commit errors onAfterCommitError got so far. */
  reportedSoFar(): string[] {
    return [...harness.reported]
  }

  /** Empties the tables (a new sequence). */
  async clear(): Promise<void> {
    for (const table of ['rm_marker', 'rm_child', 'rm_parent', 'audit_entry']) await this.ds.query(`DELETE FROM ${this.ds.driver.escape(table)}`)
    this.drafts.clear()
  }
}

/** One operation, the way an application writes it, on one EntityManager (the DataSource's, or a transaction's). */
class Operation {
  private readonly actions: EventActions

  constructor(
    private readonly manager: EntityManager,
    private readonly drafts: Map<string, ModelParent>,
  ) {
    this.actions = new EventActions(manager)
  }

  private get parents() {
    return this.manager.getRepository(ModelParent)
  }

  /** A fresh instance of a row (soft-deleted ones too), as an application loads it. */
  private load(code: string): Promise<ModelParent> {
    return this.parents.findOneOrFail({ where: { code }, withDeleted: true })
  }

  async execute(op: Op, resolved: Resolved, left: { values?: Draft }): Promise<unknown> {
    switch (op.kind) {
      case 'create': {
        const draft = await this.actions.create(ModelParent, { code: resolved.newCode!, name: op.name, value: op.value })
        this.drafts.set(resolved.newCode!, draft)
        return undefined
      }
      case 'saveNew': {
        const draft = this.drafts.get(resolved.code!)!
        this.drafts.delete(resolved.code!)
        await this.parents.save(draft)
        return undefined
      }
      case 'change': {
        const entity = await this.load(resolved.code!)
        if (op.name !== null) entity.name = op.name
        if (op.value !== null) entity.value = op.value
        await this.parents.save(entity)
        return undefined
      }
      case 'remove':
        await this.parents.remove(await this.load(resolved.code!))
        return undefined
      case 'softRemove':
        await this.parents.softRemove(await this.load(resolved.code!))
        return undefined
      case 'recover':
        await this.parents.recover(await this.load(resolved.code!))
        return undefined
      case 'reset': {
        const entity = await this.load(resolved.code!)
        if (op.name !== null) entity.name = op.name
        entity.value = op.value
        try {
          await this.actions.reset(entity)
        } finally {
          left.values = { name: entity.name, value: entity.value }
        }
        // Back to the stored state: saving it must write nothing (no event, no entry).
        await this.parents.save(entity)
        return undefined
      }
      case 'copy': {
        const source = await this.load(resolved.code!)
        const target = await this.actions.create(ModelParent, { code: resolved.newCode! })
        await this.actions.copy(source, target)
        this.drafts.set(resolved.newCode!, target)
        return undefined
      }
      case 'fromRecordSet': {
        const e = (name: string) => this.manager.connection.driver.escape(name)
        const rows: { code: string }[] = await this.manager.query(`SELECT * FROM ${e('rm_parent')} WHERE ${e('deletedAt')} IS NULL`)
        const wanted = rows.filter((r) => resolved.codes!.includes(r.code)).sort((a, b) => byCode(a.code, b.code))
        const instances = await this.actions.fromRecordSet(ModelParent, wanted)
        for (const instance of instances) instance.value += op.delta
        await this.parents.save(instances)
        return undefined
      }
      case 'update': {
        const entity = await this.load(resolved.code!)
        entity.value = op.value
        await this.actions.update(entity, ['value'])
        return undefined
      }
      case 'updateWhere':
        return this.actions.updateWhere(ModelParent, { value: op.value }, { value: op.newValue })
      case 'deleteWhere':
        return this.actions.deleteWhere(ModelParent, { value: op.value })
    }
  }

}

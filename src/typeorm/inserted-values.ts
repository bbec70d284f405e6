import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import { SubjectExecutor } from 'typeorm/persistence/SubjectExecutor'
import { entityInfo, type EntityInfo } from '../metadata/entity-info'
import { patchMethod } from './patch-method'

/** The parts of SubjectExecutor read here; all exist on 0.3.20+ and 1.x. */
interface Executor {
  insertSubjects: readonly { metadata: EntityMetadata; entity?: ObjectLiteral; insertedValueSet?: ObjectLiteral }[]
}

// What each INSERT wrote, per inserted instance, from the end of the INSERTs until its Post Insert reads it.
const insertedValues = new WeakMap<ObjectLiteral, ObjectLiteral>()

/**
 * @internal Wraps SubjectExecutor.broadcastAfterEventsForAll to note, for the
 * inserted entities with event actions, the values their INSERT wrote: a
 * cascade (`order.lines = [line]`) writes the line's `order` foreign key
 * although the line instance holds no `order`.
 */
export function noteInsertedValues(): void {
  type Broadcast = (this: Executor) => unknown
  patchMethod<Broadcast>(SubjectExecutor.prototype, 'broadcastAfterEventsForAll', (original) =>
    function (this: Executor) {
      for (const subject of this.insertSubjects) {
        if (subject.entity && subject.insertedValueSet && entityInfo(subject.metadata).active) insertedValues.set(subject.entity, subject.insertedValueSet)
      }
      return original.call(this)
    },
    'inserted-values',
  )
}

/** @internal What the INSERT wrote that the instance does not show: relation names, and a view of the instance with them. */
export interface InsertedRelations {
  readonly names: readonly string[]
  /** Reads as the instance, plus the related rows the INSERT referenced (for the audit entry). */
  readonly view: ObjectLiteral
}

/** @internal The relations of `entity`'s INSERT set by TypeORM (cascades) and not held by the instance; read once. */
export function insertedRelations(info: EntityInfo, entity: ObjectLiteral): InsertedRelations | undefined {
  const values = insertedValues.get(entity)
  if (!values) return undefined
  insertedValues.delete(entity)
  const names: string[] = []
  let view: ObjectLiteral | undefined
  for (const relation of info.metadata.relationsWithJoinColumns) {
    if (relation.getEntityValue(entity) !== undefined) continue
    const value: unknown = relation.getEntityValue(values)
    if (value === undefined || value === null) continue
    names.push(relation.propertyPath)
    view ??= Object.create(entity) as ObjectLiteral
    relation.setEntityValue(view, value)
  }
  return view ? { names, view } : undefined
}

import type { EntityManager, ObjectLiteral } from 'typeorm'
import { AttributeGroup } from '../basics/attribute-group'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
import { describeValue } from '../basics/describe-value'
import { EventActionError, HardError } from '../basics/errors'
import type { AutomaticAttribute } from '../metadata/declared-automatics'
import type { EntityInfo } from '../metadata/entity-info'
import type { Dispatcher } from './dispatcher'

const { Pre, Post } = EventActionTiming

/**
 * @internal Sets the `@Automatic` attributes of `entity` that are still
 * undefined (all with `force`), between Pre and Post SetAutomatics. Used by
 * `create`, `setAutomatics` and before Pre Insert.
 */
export async function applyAutomatics(
  dispatcher: Dispatcher,
  info: EntityInfo,
  entity: ObjectLiteral,
  manager: EntityManager,
  force: boolean,
): Promise<void> {
  const due = info.automatics.filter((a) => force || info.read(entity, a.attribute) === undefined)
  if (due.length === 0) return
  const group = new AttributeGroup(due.map((a) => a.attribute))
  await dispatcher.run(info, entity, Pre, EventActionType.SetAutomatics, group, manager, false, undefined)
  const ctx = dispatcher.contextFor(info, entity, Pre, EventActionType.SetAutomatics, group, manager)
  for (const a of due) info.write(entity, a.attribute, await computeAutomatic(info, entity, a, ctx))
  await dispatcher.run(info, entity, Post, EventActionType.SetAutomatics, group, manager, false, undefined)
}

/**
 * One `@Automatic` value. What its function throws reaches the caller as the
 * library's error: an EventActionError gets the entity, attribute and event
 * filled in; a thrown non-Error (a string, `undefined`) is wrapped in a
 * HardError that names them, with the value as `cause`.
 */
async function computeAutomatic(info: EntityInfo, entity: ObjectLiteral, automatic: AutomaticAttribute, ctx: object): Promise<unknown> {
  try {
    return await automatic.fn(entity, ctx)
  } catch (error) {
    if (error instanceof EventActionError) {
      error.entityName ??= info.name
      error.type ??= EventActionType.SetAutomatics
      error.timing ??= Pre
      throw error
    }
    if (error instanceof Error) throw error
    const wrapped = new HardError(`@Automatic ${info.name}.${automatic.attribute} threw ${describeValue(error)}, which is not an Error`, {
      entityName: info.name,
      attribute: automatic.attribute,
      type: EventActionType.SetAutomatics,
      timing: Pre,
      cause: error,
    })
    // `throw undefined` too: Error drops an undefined cause, but what was thrown is the point.
    if (!Object.prototype.hasOwnProperty.call(wrapped, 'cause')) Object.defineProperty(wrapped, 'cause', { value: error, writable: true, configurable: true })
    throw wrapped
  }
}

import type { EntityManager, ObjectLiteral } from 'typeorm'
import { AttributeGroup } from '../basics/attribute-group'
import { EventActionTiming } from '../basics/event-action-timing'
import { EventActionType } from '../basics/event-action-type'
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
  for (const a of due) info.write(entity, a.attribute, await a.fn(entity, ctx))
  await dispatcher.run(info, entity, Post, EventActionType.SetAutomatics, group, manager, false, undefined)
}

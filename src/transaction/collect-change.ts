import type { ObjectLiteral, QueryRunner } from 'typeorm'
import type { ActionChange } from '../scope/action-change'
import { scopes } from '../scope/async-scope'
import type { AttributeGroup } from '../basics/attribute-group'
import { auditChanges, operationOf } from './audit-record'
import type { EntityInfo } from '../metadata/entity-info'
import type { AttributeChange } from '../basics/attribute-change'
import type { EventActionType } from '../basics/event-action-type'
import { recordChange } from './transaction-state'

/**
 * @internal Hands a finished write to the running action, when one is
 * collecting (a Post-action handler is bound to it): it reaches the action at
 * commit. The subscriber calls it for TypeORM's writes, `EventActions.update`
 * for its own UPDATE, which no listener sees.
 */
export function collectChange(
  info: EntityInfo,
  entity: ObjectLiteral,
  type: EventActionType,
  group: AttributeGroup | null,
  previous: ObjectLiteral | undefined,
  queryRunner: QueryRunner,
  changes?: Record<string, AttributeChange>,
): void {
  const collectors = scopes.getStore()?.changeLists
  if (!collectors) return
  const { metadata } = info
  const id = metadata.getEntityIdMixedMap(entity) ?? (previous ? metadata.getEntityIdMixedMap(previous) : undefined)
  const change: ActionChange = Object.freeze({
    entityName: info.name,
    id,
    operation: operationOf(type) as ActionChange['operation'],
    group: group ? group.toArray() : null,
    changes: changes ?? auditChanges(info, entity, type, group, previous),
  })
  for (const collector of collectors) recordChange(queryRunner, collector, change)
}

/**
 * @internal True when a running action collects the entities written: only
 * then is a write of an entity without event actions looked at at all.
 */
export function isCollecting(): boolean {
  return scopes.getStore()?.changeLists !== undefined
}

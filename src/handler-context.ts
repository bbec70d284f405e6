import type { EntityManager, ObjectLiteral } from 'typeorm'
import type { AttributeGroup } from './attribute-group'
import type { AttributeChange, EventActionContext } from './event-action-context'
import type { EventActionTiming } from './event-action-timing'
import type { EventActionType } from './event-action-type'
import type { EntityInfo } from './entity-info'
import { HardError } from './errors'

/**
 * @internal The context object handed to `_eventAction`. A class rather than
 * an object literal so that the methods live once on the prototype: a Load
 * of N rows allocates N small objects and nothing else.
 */
export class HandlerContext<E extends ObjectLiteral = ObjectLiteral> implements EventActionContext<E> {
  constructor(
    private readonly info: EntityInfo,
    readonly entity: E,
    readonly timing: EventActionTiming,
    readonly type: EventActionType,
    readonly group: AttributeGroup | null,
    readonly manager: EntityManager,
    readonly depth: number,
    readonly data: ObjectLiteral,
    readonly soft: boolean,
    private readonly previousSource: ObjectLiteral | undefined,
  ) {}

  get entityName(): string {
    return this.info.name
  }

  previous<K extends keyof E & string>(attr: K): E[K] | undefined {
    if (!this.info.attributes.has(attr)) throw HardError.unknownAttribute(this.info.name, attr, 'ctx.previous')
    return this.previousSource === undefined ? undefined : (this.info.read(this.previousSource, attr) as E[K])
  }

  changes(): Record<string, AttributeChange> {
    const out: Record<string, AttributeChange> = {}
    if (!this.group) return out
    for (const attr of this.group) {
      out[attr] = {
        old: this.previousSource === undefined ? undefined : this.info.read(this.previousSource, attr),
        new: this.info.read(this.entity, attr),
      }
    }
    return out
  }
}

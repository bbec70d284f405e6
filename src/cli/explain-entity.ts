import type { EntityMetadata } from 'typeorm'
import type { EventActionDescription } from '../entity/on-event-action'
import type { EventActionsLibrary } from './library-instance'

/** One step of an event, in the order it happens. */
export interface ExplainStep {
  /** `Pre Insert`, `validate`, `INSERT`, `audit entry`, ... */
  readonly step: string
  /** The handlers that run (`_eventAction`, `formatPostcode (when postcode)`), or what the step does. */
  readonly detail: string
}

/** What happens for one event type. */
export interface ExplainEvent {
  /** The event type, e.g. `Insert`. */
  readonly event: string
  /** What fires it. */
  readonly trigger: string
  readonly steps: readonly ExplainStep[]
}

/** One `@OnEventAction` method and the events it runs for. */
export interface ExplainHandler {
  readonly method: string
  /** `Pre Insert`-style keys. */
  readonly events: readonly string[]
  /** The attributes that make it run, or null for every group. */
  readonly when: readonly string[] | null
}

/** Everything `explain` says about an entity. */
export interface Explanation {
  readonly entity: string
  readonly table: string
  readonly primaryKey: readonly string[]
  /** True when the DataSource has the event-action subscriber. */
  readonly subscribed: boolean
  /** True when events of the entity do anything: a handler, an audit or automatic attributes. */
  readonly active: boolean
  readonly eventAction: boolean
  readonly handlers: readonly ExplainHandler[]
  readonly automatics: readonly string[]
  readonly audited: { readonly exclude?: readonly string[]; readonly only?: readonly string[] } | null
  readonly validation: { readonly runs: boolean; readonly attributes: readonly string[]; readonly note: string }
  readonly bulkWrites: { readonly refused: boolean; readonly note: string }
  /** Empty when nothing fires; `notes` says why. */
  readonly events: readonly ExplainEvent[]
  readonly notes: readonly string[]
}

/** The declarative handlers, one entry per method, from the per-event lists of describeEventActions. */
function handlersOf(description: EventActionDescription): ExplainHandler[] {
  const byMethod = new Map<string, { method: string; events: string[]; when: readonly string[] | null }>()
  for (const [event, list] of Object.entries(description.handlers)) {
    for (const h of list) {
      const key = `${h.method}\u0000${JSON.stringify(h.when)}`
      const found = byMethod.get(key) ?? { method: h.method, events: [], when: h.when }
      found.events.push(event)
      byMethod.set(key, found)
    }
  }
  return [...byMethod.values()]
}

function validationOf(library: EventActionsLibrary, target: Function, active: boolean): Explanation['validation'] {
  const attributes = library.validatedAttributes(target)
  const own = library.entitySettings(target)?.validate
  if (attributes === undefined) return { runs: false, attributes: [], note: 'none: class-validator is not installed' }
  if (attributes.length === 0) return { runs: false, attributes, note: 'none: no class-validator constraints' }
  if (own === false) return { runs: false, attributes, note: 'off for this entity (@EventActionOptions validate: false)' }
  if (own === undefined && library.validate === false) {
    return { runs: false, attributes, note: 'off for the data source (withEventActions validate: false)' }
  }
  // Entities the library does nothing for (no handler, audit or automatic) are left to TypeORM alone.
  if (!active) return { runs: false, attributes, note: 'not run: the entity has no event actions, @Audited or @Automatic' }
  const unknown = own === undefined && library.validate === undefined ? ' (unless withEventActions has validate: false)' : ''
  return { runs: true, attributes, note: `after Pre Insert and Pre Update: ${attributes.join(', ')}${unknown}` }
}

/**
 * What `explain` shows, built from describeEventActions of the library copy
 * the DataSource uses, the entity's TypeORM metadata and the event order of
 * the subscriber (see README "The event order").
 */
export function explainEntity(metadata: EntityMetadata, library: EventActionsLibrary): Explanation {
  const base = { entity: metadata.name, table: metadata.tableName, primaryKey: metadata.primaryColumns.map((c) => c.propertyPath), subscribed: library.subscribed }
  const target = metadata.target
  if (typeof target !== 'function') {
    return {
      ...base,
      active: false,
      eventAction: false,
      handlers: [],
      automatics: [],
      audited: null,
      validation: { runs: false, attributes: [], note: 'none' },
      bulkWrites: { refused: false, note: 'allowed' },
      events: [],
      notes: [`${metadata.name} has no class (EntitySchema): decorators and _eventAction need one, so its events do nothing`],
    }
  }
  const description = library.api.describeEventActions(target)
  const handlers = handlersOf(description)
  const hasHandler = description.eventAction || handlers.length > 0
  const active = hasHandler || description.audited !== null || description.automatics.length > 0
  const validation = validationOf(library, target, active)
  const settings = library.entitySettings(target)
  const refusal = "refused with BulkWriteError (@EventActionOptions bulkWrites: 'forbid')"
  const withEvents = "each matching row fires its events, with set-based SQL (update(criteria), delete(criteria), QueryBuilder writes, plain objects), unless the DataSource's config says bulkWrites: 'forbid'"
  const bulkWrites = !active || !library.subscribed
    ? { refused: false, note: 'allowed: nothing to bypass' }
    : settings?.bulkWrites === 'allow'
      ? { refused: false, note: "allowed without events (@EventActionOptions bulkWrites: 'allow')" }
      : settings?.bulkWrites === 'forbid'
        ? { refused: true, note: refusal }
        : { refused: false, note: withEvents }
  const notes: string[] = []
  if (!library.subscribed) notes.push('the data source has no event-action subscriber, so no event fires: create its options with withEventActions(options)')
  else if (!active) notes.push(`${metadata.name} has no _eventAction, @OnEventAction, @Automatic or @Audited, so its events do nothing`)
  const events = library.subscribed && active ? eventsOf(metadata.name, description, handlers, validation, hasHandler) : []
  return {
    ...base,
    active,
    eventAction: description.eventAction,
    handlers,
    automatics: description.automatics,
    audited: description.audited,
    validation,
    bulkWrites,
    events,
    notes,
  }
}

// Long: one table of every event type's steps, in the order the printed diagram reads.
function eventsOf(
  name: string,
  description: EventActionDescription,
  handlers: readonly ExplainHandler[],
  validation: Explanation['validation'],
  hasHandler: boolean,
): ExplainEvent[] {
  const run = (event: string): string => {
    const names = description.eventAction ? ['_eventAction'] : []
    for (const h of handlers) {
      if (h.events.includes(event)) names.push(h.when ? `${h.method} (when ${h.when.join(', ')})` : h.method)
    }
    return names.length ? names.join(', ') : '-'
  }
  /** Pre handlers, what happens between, Post handlers. */
  const around = (type: string, ...middle: ExplainStep[]): ExplainStep[] => [
    { step: `Pre ${type}`, detail: run(`Pre ${type}`) },
    ...middle,
    { step: `Post ${type}`, detail: run(`Post ${type}`) },
  ]
  const automatics = description.automatics
  const setAutomatics = (which: string): ExplainStep[] =>
    automatics.length ? around('SetAutomatics', { step: 'set automatics', detail: `${automatics.join(', ')} (${which})` }) : []
  const validate = (what: string): ExplainStep[] => (validation.runs ? [{ step: 'validate', detail: `class-validator: ${what}` }] : [])
  const audit = (what: string): ExplainStep[] =>
    description.audited ? [{ step: 'audit entry', detail: what }] : []
  /** A database write: Pre, validation, the SQL, the audit entry (recorded before the Post handler runs), Post. */
  const write = (type: string, validation: ExplainStep[], sql: ExplainStep, audited: ExplainStep[]): ExplainStep[] => {
    const [pre, post] = around(type) as [ExplainStep, ExplainStep]
    return [pre, ...validation, sql, ...audited, post]
  }

  const events: ExplainEvent[] = [
    {
      event: 'Insert',
      trigger: `save() of a new ${name}, insert() of instances`,
      steps: [
        ...setAutomatics('those still undefined; these three steps only when one is'),
        ...write('Insert', validate('every attribute'), { step: 'INSERT', detail: '' }, audit('insert: the written values')),
      ],
    },
    {
      event: 'Update',
      trigger: `save() of a changed ${name}, recover(), EventActions.update(); no change, no events`,
      steps: write(
        'Update',
        validate('the changed attributes and those Pre changed'),
        { step: 'UPDATE', detail: '' },
        audit('update: old -> new of the changed attributes'),
      ),
    },
    {
      event: 'Delete',
      trigger: 'remove(), softRemove()',
      steps: write('Delete', [], { step: 'DELETE', detail: 'softRemove(): an UPDATE of the delete date' }, audit('delete: the last values')),
    },
  ]
  const setAutomaticsEvent: ExplainEvent[] = automatics.length
    ? [{ event: 'SetAutomatics', trigger: 'EventActions.setAutomatics(), before Pre Insert, in create()', steps: setAutomatics('those still undefined, or all with force') }]
    : []
  // Without a handler only audit and automatics act, and neither has anything to do on these events.
  if (hasHandler) {
    events.push(
      { event: 'Load', trigger: 'find*(), QueryBuilder getOne()/getMany(); not for the reloads inside save()', steps: around('Load') },
      { event: 'Create', trigger: `EventActions.create(${name}, values)`, steps: around('Create', { step: 'assign values', detail: '' }, ...setAutomatics('those still undefined')) },
      ...setAutomaticsEvent,
      { event: 'Reset', trigger: 'EventActions.reset()', steps: around('Reset', { step: 'revert attributes', detail: 'to the last loaded or saved state' }) },
      { event: 'BO2BO', trigger: 'EventActions.copy(source, target), on the target', steps: around('BO2BO', { step: 'copy attributes', detail: '' }) },
      { event: 'RS2BO', trigger: `EventActions.fromRecordSet(${name}, rows), per row`, steps: around('RS2BO', { step: 'assign row values', detail: '' }) },
    )
  } else if (automatics.length) {
    events.push(
      { event: 'Create', trigger: `EventActions.create(${name}, values)`, steps: [{ step: 'assign values', detail: '' }, ...setAutomatics('those still undefined')] },
      ...setAutomaticsEvent,
    )
  }
  return events
}

import type { Explanation } from './explain-entity'
import { renderTable } from './text-table'

function auditLine(audited: Explanation['audited']): string {
  if (!audited) return 'no'
  if (audited.only) return `yes, only ${audited.only.join(', ')}`
  if (audited.exclude?.length) return `yes, all but ${audited.exclude.join(', ')}`
  return 'yes, every attribute'
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => (line ? by + line : line))
    .join('\n')
}

/** `explain` as text: the entity's settings, then each event's steps in order. */
export function renderExplanation(e: Explanation): string {
  const key = e.primaryKey.length ? `key ${e.primaryKey.join(', ')}` : 'no primary key'
  const out: string[] = [`${e.entity} (table ${e.table}, ${key})`, '']
  const settings = renderTable(
    ['', ''],
    [
      ['_eventAction', e.eventAction ? 'yes' : 'no'],
      ['@OnEventAction', e.handlers.length ? e.handlers.map((h) => `${h.method}: ${h.events.join(', ')}${h.when ? `; when ${h.when.join(', ')}` : ''}`) : 'none'],
      ['@Automatic', e.automatics.length ? e.automatics.join(', ') : 'none'],
      ['@Audited', auditLine(e.audited)],
      ['validation', e.validation.note],
      ['bulk writes', e.bulkWrites.note],
    ],
  )
  // The header row of an unnamed table is blank: drop it.
  out.push(indent(settings.split('\n').slice(1).join('\n'), '  '), '')
  for (const note of e.notes) out.push(`Note: ${note}`)
  if (e.events.length) {
    out.push('Event order (one handler at a time, inside the transaction of the write):', '')
    for (const event of e.events) {
      out.push(`  ${event.event}: ${event.trigger}`)
      const steps = renderTable(
        ['', '', ''],
        event.steps.map((s, i) => [`${i + 1}.`, s.step, s.detail]),
      )
      out.push(indent(steps.split('\n').slice(1).join('\n'), '    '), '')
    }
    if (e.audited) out.push("A transaction's audit entries are stored in one batched INSERT just before its COMMIT; a rollback leaves none.")
  }
  return `${out.join('\n').trimEnd()}\n`
}

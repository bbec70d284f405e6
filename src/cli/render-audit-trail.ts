import type { AuditEntry } from '../audit/audit-entry'
import { renderTable } from './text-table'

const MAX_VALUE = 60

/** A recorded value as JSON, cut short so that one long text cannot wreck the table (`--json` has it whole). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 3)}...` : text
}

/** `at` as UTC with seconds: one time zone for everyone reading the same trail. */
function when(at: Date | string): string {
  const date = at instanceof Date ? at : new Date(at)
  return Number.isNaN(date.getTime()) ? String(at) : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`
}

/** `attribute: old -> new`, one line per recorded attribute. */
export function changeLines(entry: Pick<AuditEntry, 'changes'>): string[] {
  const changes = Object.entries(entry.changes ?? {})
  if (changes.length === 0) return ['(no attributes recorded)']
  return changes.map(([attr, change]) => `${attr}: ${shown(change.old)} -> ${shown(change.new)}`)
}

/** The trail as a table, oldest first: when, who, action, operation, what changed. */
export function renderAuditTable(entityName: string, id: string, entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return `no audit entries for ${entityName} ${id}\n`
  const title = `${entityName} ${id}: ${entries.length} audit ${entries.length === 1 ? 'entry' : 'entries'}, oldest first`
  const table = renderTable(
    ['when (UTC)', 'who', 'action', 'operation', 'attribute: old -> new'],
    entries.map((e) => [when(e.at), e.userId ?? '-', e.actionName ?? '-', e.operation, changeLines(e)]),
  )
  return `${title}\n\n${table}\n`
}

/** The trail for scripts: every column of every entry, `at` as an ISO string. */
export function auditJson(entries: readonly AuditEntry[]): string {
  return `${JSON.stringify(
    entries.map((e) => ({
      id: e.id,
      at: e.at instanceof Date ? e.at.toISOString() : e.at,
      entityName: e.entityName,
      entityId: e.entityId,
      operation: e.operation,
      userId: e.userId,
      actionName: e.actionName,
      requestId: e.requestId,
      transactionId: e.transactionId,
      changes: e.changes,
    })),
    null,
    2,
  )}\n`
}

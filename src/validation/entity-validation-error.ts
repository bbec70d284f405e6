import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'
import { SoftError, type LocalizedErrorEntry } from '../basics/errors'
import { translate, type MessageParams } from '../basics/translator'

/** One class-validator constraint an attribute broke. */
export interface ConstraintViolation {
  /** class-validator's constraint name, e.g. `'isEmail'`, `'minLength'`. */
  readonly constraint: string
  /** The message key: `'validation.' + constraint`. */
  readonly key: string
  /**
   * What a translation can use: `attribute`, `value`, `entityName`, and the
   * decorator's arguments as `constraint1`, `constraint2`, ... (class-validator's
   * `$constraint1` tokens).
   */
  readonly params: MessageParams
  /** class-validator's own English message. */
  readonly message: string
}

/** One attribute that failed validation, with class-validator's messages. */
export interface ValidationFailure {
  /** The attribute (property name) that failed. */
  readonly attribute: string
  /** The value that was judged. */
  readonly value: unknown
  /** The human-readable messages, one per failed constraint. */
  readonly constraints: string[]
  /** The failed constraints with their message keys; filled in by the library's validation. */
  readonly violations?: readonly ConstraintViolation[]
}

/**
 * class-validator rejected the entity after its Pre Insert/Pre Update handler
 * ran. Lists every failed attribute; nothing was written. Each failure's
 * `violations` carry the keys `validation.<constraint>` for translation.
 */
export class EntityValidationError extends SoftError {
  /** Always 'EntityValidationError': stable across versions, for checks that cannot use instanceof. */
  override name = 'EntityValidationError'
  /** Every attribute that failed, with class-validator's messages. */
  readonly failures: readonly ValidationFailure[]

  constructor(
    entityName: string,
    type: EventActionType,
    timing: EventActionTiming,
    failures: readonly ValidationFailure[],
  ) {
    super(
      `${entityName} failed validation on ${timing} ${type}: ${failures
        .map((f) => `${f.attribute} (${f.constraints.join('; ')})`)
        .join(', ')}`,
      { entityName, type, timing, attribute: failures[0]?.attribute, key: 'validation.failed' },
    )
    this.failures = failures
  }

  override localize(locale: string): string {
    const details = this.failures
      .map((f) => `${f.attribute} (${entriesOf(f, locale).map((e) => e.message).join('; ')})`)
      .join(', ')
    const params = { entityName: this.entityName, type: this.type, timing: this.timing, details }
    return translate('validation.failed', params, locale, '{entityName} failed validation on {timing} {type}: {details}')
  }

  override localizedEntries(locale: string): LocalizedErrorEntry[] {
    return this.failures.flatMap((f) => entriesOf(f, locale))
  }
}

function entriesOf(failure: ValidationFailure, locale: string): LocalizedErrorEntry[] {
  if (!failure.violations) return failure.constraints.map((message) => ({ attribute: failure.attribute, key: null, message }))
  return failure.violations.map((v) => ({
    attribute: failure.attribute,
    key: v.key,
    message: translate(v.key, v.params, locale, v.message),
  }))
}

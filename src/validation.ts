import type { ObjectLiteral } from 'typeorm'
import type { ValidationError as ClassValidatorError } from 'class-validator'
import type { AttributeGroup } from './attribute-group'
import { EntityValidationError, type ValidationFailure } from './errors'
import type { EventActionTiming } from './event-action-timing'
import type { EventActionType } from './event-action-type'

type ClassValidator = typeof import('class-validator')

/** How an entity class is validated: not at all, synchronously, or (with async constraints) asynchronously. */
type Plan = 'none' | 'sync' | 'async'

let classValidator: ClassValidator | null | undefined
const planByClass = new WeakMap<Function, Plan>()

// class-validator is an optional peer dependency: without it nothing is validated.
function loadClassValidator(): ClassValidator | null {
  if (classValidator === undefined) {
    try {
      classValidator = require('class-validator') as ClassValidator
    } catch {
      classValidator = null
    }
  }
  return classValidator
}

function planFor(target: Function): Plan {
  let plan = planByClass.get(target)
  if (plan === undefined) {
    const cv = loadClassValidator()
    if (!cv) plan = 'none'
    else {
      const storage = cv.getMetadataStorage()
      const metas = storage.getTargetValidationMetadatas(target, '', true, false)
      if (metas.length === 0) plan = 'none'
      else {
        const hasAsync = metas.some(
          (m) => m.constraintCls && storage.getTargetValidatorConstraints(m.constraintCls).some((c) => c.async),
        )
        plan = hasAsync ? 'async' : 'sync'
      }
    }
    planByClass.set(target, plan)
  }
  return plan
}

const validatorOptions = {
  forbidUnknownValues: false,
  validationError: { target: false, value: true },
} as const

/** True when the attribute at `path` is touched: in the group itself, inside an embedded in it, or holding one in it. */
function judged(path: string, group: AttributeGroup | null): boolean {
  if (group === null || group.has(path)) return true
  for (const name of group) if (name.startsWith(`${path}.`) || path.startsWith(`${name}.`)) return true
  return false
}

function toFailures(errors: ClassValidatorError[], group: AttributeGroup | null): ValidationFailure[] {
  const failures: ValidationFailure[] = []
  // Only the attributes the event touches are judged: an old invalid value in
  // an untouched column must not block an unrelated change. Embedded columns
  // come back nested (address -> postcode) and are matched by their path.
  const visit = (list: ClassValidatorError[], prefix: string): void => {
    for (const error of list) {
      const attribute = prefix + error.property
      if (!judged(attribute, group)) continue
      if (error.constraints) {
        failures.push({ attribute, value: error.value, constraints: Object.values(error.constraints) })
      }
      if (error.children?.length) visit(error.children, `${attribute}.`)
    }
  }
  visit(errors, '')
  return failures
}

/**
 * @internal Validates `entity` with class-validator. `group` limits which
 * attributes are judged (null: all of them). Returns undefined when there is
 * nothing to wait for; throws/rejects with EntityValidationError on failure.
 */
export function validateEntity(
  entity: ObjectLiteral,
  target: Function,
  entityName: string,
  type: EventActionType,
  timing: EventActionTiming,
  group: AttributeGroup | null,
): void | Promise<void> {
  const plan = planFor(target)
  if (plan === 'none') return
  const cv = loadClassValidator()!
  const judge = (errors: ClassValidatorError[]): void => {
    const failures = toFailures(errors, group)
    if (failures.length) throw new EntityValidationError(entityName, type, timing, failures)
  }
  if (plan === 'sync') return judge(cv.validateSync(entity, validatorOptions))
  return cv.validate(entity, validatorOptions).then(judge)
}

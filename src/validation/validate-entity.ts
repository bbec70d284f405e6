import type { ObjectLiteral } from 'typeorm'
import type { ValidationError as ClassValidatorError } from 'class-validator'
import type { AttributeGroup } from '../basics/attribute-group'
import { EntityValidationError, type ConstraintViolation, type ValidationFailure } from './entity-validation-error'
import type { EventActionTiming } from '../basics/event-action-timing'
import type { EventActionType } from '../basics/event-action-type'

type ClassValidator = typeof import('class-validator')

/** How an entity class is validated: not at all, synchronously, or (with async constraints) asynchronously. */
type Plan = 'none' | 'sync' | 'async'

// The optional class-validator peer, loaded once (null: not installed), and the caches of what each class needs.
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

type ConstraintArgs = Map<string, Map<string, readonly unknown[]>>
// The one cache of constraint arguments per class.
const argsByClass = new WeakMap<Function, ConstraintArgs>()

/**
 * The decorator arguments of each (property, constraint) of a class, e.g.
 * `name -> minLength -> [3]`: class-validator's errors carry only the
 * finished English text, and a translation needs the numbers.
 */
function constraintArgs(target: Function): ConstraintArgs {
  let map = argsByClass.get(target)
  if (!map) {
    map = new Map()
    const cv = loadClassValidator()
    if (cv) {
      const storage = cv.getMetadataStorage()
      for (const m of storage.getTargetValidationMetadatas(target, '', true, false)) {
        // The same rule as class-validator's getConstraintType: the constraint class's name, else the metadata type.
        const name = (m.constraintCls && storage.getTargetValidatorConstraints(m.constraintCls)[0]?.name) || m.type
        let byName = map.get(m.propertyName)
        if (!byName) map.set(m.propertyName, (byName = new Map()))
        byName.set(name, m.constraints ?? [])
      }
    }
    argsByClass.set(target, map)
  }
  return map
}

function violationsOf(
  error: ClassValidatorError,
  owner: Function | undefined,
  attribute: string,
  entityName: string,
): ConstraintViolation[] {
  const args = owner ? constraintArgs(owner).get(error.property) : undefined
  return Object.entries(error.constraints ?? {}).map(([constraint, message]) => {
    const params: Record<string, unknown> = { attribute, value: error.value, entityName }
    ;(args?.get(constraint) ?? []).forEach((arg, i) => (params[`constraint${i + 1}`] = arg))
    return Object.freeze({ constraint, key: `validation.${constraint}`, params: Object.freeze(params), message })
  })
}

function toFailures(errors: ClassValidatorError[], group: AttributeGroup | null, target: Function, entityName: string): ValidationFailure[] {
  const failures: ValidationFailure[] = []
  // Only the attributes the event touches are judged: an old invalid value in
  // an untouched column must not block an unrelated change. Embedded columns
  // come back nested (address -> postcode) and are matched by their path.
  const visit = (list: ClassValidatorError[], prefix: string, owner: Function | undefined): void => {
    for (const error of list) {
      const attribute = prefix + error.property
      if (!judged(attribute, group)) continue
      if (error.constraints) {
        failures.push({
          attribute,
          value: error.value,
          constraints: Object.values(error.constraints),
          violations: violationsOf(error, owner, attribute, entityName),
        })
      }
      if (error.children?.length) {
        // A nested object's rules are declared on its own class, which its value tells.
        const value: unknown = error.value
        const child = value !== null && typeof value === 'object' ? (value as object).constructor : undefined
        visit(error.children, `${attribute}.`, child)
      }
    }
  }
  visit(errors, '', target)
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
    const failures = toFailures(errors, group, target, entityName)
    if (failures.length) throw new EntityValidationError(entityName, type, timing, failures)
  }
  if (plan === 'sync') return judge(cv.validateSync(entity, validatorOptions))
  return cv.validate(entity, validatorOptions).then(judge)
}

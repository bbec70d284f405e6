// An ES module consumer of the packed library. The package is CommonJS: these
// named imports link only if Node's CommonJS export detection finds the names
// in dist/index.js, and they must be the very objects `require` returns (one
// module instance, so one action context and one set of error classes).
import 'reflect-metadata'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { IsNotEmpty } from 'class-validator'
import { DataSource, EntitySchema } from 'typeorm'
import {
  Audited,
  EntityValidationError,
  EventActionTiming,
  EventActionType,
  SoftError,
  auditTrail,
  currentAction,
  runAction,
  withEventActions,
} from 'typeorm-event-actions'

const required = createRequire(import.meta.url)('typeorm-event-actions')
assert.equal(required.runAction, runAction)
assert.equal(required.SoftError, SoftError)

const calls = []

class Task {
  _eventAction(timing, type, group, ctx) {
    calls.push(`${timing} ${type} ${ctx.user ? ctx.user.id : '-'}`)
    if (timing === EventActionTiming.Pre && type === EventActionType.Insert && this.title === 'later') {
      throw new SoftError('not now', { attribute: 'title' })
    }
  }
}
IsNotEmpty()(Task.prototype, 'title')
Audited()(Task)

const TaskSchema = new EntitySchema({
  name: 'Task',
  target: Task,
  columns: {
    id: { type: Number, primary: true, generated: true },
    title: { type: String },
  },
})

const task = (title) => Object.assign(new Task(), { title })

const dataSource = new DataSource(
  withEventActions({ type: 'sqlite', database: ':memory:', entities: [TaskSchema], synchronize: true }),
)
await dataSource.initialize()
try {
  const tasks = dataSource.getRepository(Task)

  const invalid = await tasks.save(task('')).then(() => undefined, (error) => error)
  assert.ok(invalid instanceof EntityValidationError, `expected EntityValidationError, got ${invalid}`)
  assert.equal(await tasks.count(), 0)

  const refused = await tasks.save(task('later')).then(() => undefined, (error) => error)
  assert.ok(refused instanceof SoftError && !(refused instanceof EntityValidationError), `expected SoftError, got ${refused}`)
  assert.equal(await tasks.count(), 0)

  calls.length = 0
  const saved = await runAction({ name: 'tasks:create', user: { id: 'esm' } }, async () => {
    assert.equal(currentAction()?.name, 'tasks:create')
    return tasks.save(task('write docs'))
  })
  assert.equal(currentAction(), undefined)
  assert.deepEqual(calls, ['Pre Insert esm', 'Post Insert esm'])
  const trail = await auditTrail(dataSource, Task, saved.id)
  assert.deepEqual(trail.map((e) => [e.operation, e.userId, e.actionName]), [['insert', 'esm', 'tasks:create']])
} finally {
  await dataSource.destroy()
}
console.log('package app ok: esm')

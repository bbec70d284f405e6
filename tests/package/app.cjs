// A plain JavaScript (CommonJS) consumer of the packed library: no decorators,
// so the entity is an EntitySchema and class-validator's decorator is applied
// by hand, as a JavaScript project would.
'use strict'
require('reflect-metadata')
const assert = require('node:assert/strict')
const { IsNotEmpty } = require('class-validator')
const { DataSource, EntitySchema } = require('typeorm')
const {
  Audited,
  EntityValidationError,
  EventActionTiming,
  EventActionType,
  SoftError,
  auditTrail,
  runAction,
  withEventActions,
} = require('typeorm-event-actions')

const calls = []

class Note {
  _eventAction(timing, type, group, ctx) {
    calls.push(`${timing} ${type} ${ctx.user ? ctx.user.id : '-'}`)
    if (timing === EventActionTiming.Pre && type === EventActionType.Insert && this.title === 'draft') {
      throw new SoftError('drafts are not saved', { attribute: 'title' })
    }
  }
}
IsNotEmpty()(Note.prototype, 'title')
Audited()(Note)

const NoteSchema = new EntitySchema({
  name: 'Note',
  target: Note,
  columns: {
    id: { type: Number, primary: true, generated: true },
    title: { type: String },
  },
})

function note(title) {
  return Object.assign(new Note(), { title })
}

async function main() {
  const dataSource = new DataSource(
    withEventActions({ type: 'sqlite', database: ':memory:', entities: [NoteSchema], synchronize: true }),
  )
  await dataSource.initialize()
  try {
    const notes = dataSource.getRepository(Note)

    const invalid = await notes.save(note('')).then(() => undefined, (error) => error)
    assert.ok(invalid instanceof EntityValidationError, `expected EntityValidationError, got ${invalid}`)
    assert.deepEqual(invalid.failures.map((f) => f.attribute), ['title'])
    assert.equal(await notes.count(), 0)

    const refused = await notes.save(note('draft')).then(() => undefined, (error) => error)
    assert.ok(refused instanceof SoftError && !(refused instanceof EntityValidationError), `expected SoftError, got ${refused}`)
    assert.equal(refused.attribute, 'title')
    assert.equal(await notes.count(), 0)

    calls.length = 0
    const saved = await runAction({ name: 'notes:create', user: { id: 7 } }, () => notes.save(note('hello')))
    assert.deepEqual(calls, ['Pre Insert 7', 'Post Insert 7'])
    const trail = await auditTrail(dataSource, Note, saved.id)
    assert.deepEqual(trail.map((e) => [e.operation, e.userId, e.actionName]), [['insert', '7', 'notes:create']])
    assert.deepEqual(trail[0].changes.title, { old: null, new: 'hello' })
  } finally {
    await dataSource.destroy()
  }
  console.log('package app ok: commonjs')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

// The NestJS smoke app (scripts/nest-smoke/run.mjs copies it into a scratch
// app that has NestJS 12 and the packed library installed). NestJS 12 is
// ES modules only; the library is CommonJS and loads @nestjs/core,
// @nestjs/typeorm and rxjs with require(), which Node 22.12 and later resolve to
// the ES modules (require(esm)): one module instance with this file's imports.
//
// Plain JavaScript: Nest's and TypeORM's decorators are called as functions.
// What it checks, as docs/nestjs.md promises: a request runs as an action
// (the entity's _eventAction sees the request's user, the audit entry has
// it, the response carries x-request-id), and a SoftError thrown by
// _eventAction answers 400 { errors: [{ attribute, key, message }] }, writes
// nothing and is logged as one warn line. Exits non-zero on any mismatch.
import 'reflect-metadata'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Body, Controller, Inject, Module, Post } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm'
import { EntitySchema } from 'typeorm'
import {
  Audited,
  EventActions,
  EventActionsModule,
  EventActionTiming,
  EventActionType,
  SoftError,
  auditTrail,
  currentAction,
  withEventActions,
} from 'typeorm-event-actions'

// Read from the app's node_modules (typeorm's exports map has no ./package.json).
const version = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version
const versions = ['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', '@nestjs/platform-express', 'typeorm', 'typeorm-event-actions']
console.log(`Node ${process.version}: ${versions.map((p) => `${p} ${version(p)}`).join(', ')}`)

class Note {
  _eventAction(timing, type, _group, ctx) {
    if (timing !== EventActionTiming.Pre || type !== EventActionType.Insert) return
    if (!this.title?.trim()) throw new SoftError('title must not be empty', { attribute: 'title' })
    this.author = ctx.user ? String(ctx.user.id) : null
  }
}
Audited()(Note)

const NoteSchema = new EntitySchema({
  name: 'Note',
  target: Note,
  tableName: 'smoke_note',
  columns: {
    id: { type: Number, primary: true, generated: true },
    title: { type: String },
    author: { type: String, nullable: true },
  },
})

class NotesController {
  constructor(actions, dataSource) {
    this.actions = actions
    this.dataSource = dataSource
  }

  async create(body) {
    const note = await this.actions.create(Note, { title: body.title ?? '' })
    const saved = await this.dataSource.getRepository(Note).save(note)
    return { ...saved, action: currentAction()?.name ?? null }
  }
}
Controller('notes')(NotesController)
Inject(EventActions)(NotesController, undefined, 0)
Inject(getDataSourceToken())(NotesController, undefined, 1)
Body()(NotesController.prototype, 'create', 0)
Post()(NotesController.prototype, 'create', Object.getOwnPropertyDescriptor(NotesController.prototype, 'create'))

// What the module's exception filter logs.
const logged = []
const logger = {
  info: (line) => logged.push(['info', line]),
  warn: (line) => logged.push(['warn', line]),
  error: (line) => logged.push(['error', line]),
}

class AppModule {}
Module({
  imports: [
    TypeOrmModule.forRoot(withEventActions({ type: 'sqlite', database: ':memory:', entities: [NoteSchema], synchronize: true })),
    EventActionsModule.forRoot({
      logger,
      resolveUser: (req) => (req.headers['x-user'] ? { id: req.headers['x-user'] } : undefined),
    }),
  ],
  controllers: [NotesController],
})(AppModule)

async function post(base, body, headers) {
  const response = await fetch(`${base}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: text ? JSON.parse(text) : undefined }
}

const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false, forceCloseConnections: true })
try {
  await app.listen(0, '127.0.0.1')
  const base = `http://127.0.0.1:${app.getHttpServer().address().port}`
  const dataSource = app.get(getDataSourceToken())
  const notes = dataSource.getRepository(Note)

  const saved = await post(base, { title: 'first' }, { 'x-user': 'alice', 'x-request-id': 'smoke-1' })
  assert.equal(saved.status, 201, `POST /notes answered ${saved.status}: ${JSON.stringify(saved.body)}`)
  assert.equal(saved.requestId, 'smoke-1')
  assert.deepEqual(saved.body, { id: saved.body.id, title: 'first', author: 'alice', action: 'notes:create' })
  const trail = await auditTrail(dataSource, Note, saved.body.id)
  assert.deepEqual(
    trail.map((e) => [e.operation, e.userId, e.actionName, e.requestId]),
    [['insert', 'alice', 'notes:create', 'smoke-1']],
  )
  console.log('ok    POST /notes saves through _eventAction: 201, author and audit entry from the request')

  const refused = await post(base, { title: '  ' }, { 'x-user': 'alice', 'x-request-id': 'smoke-2' })
  assert.equal(refused.status, 400, `POST /notes with an empty title answered ${refused.status}: ${JSON.stringify(refused.body)}`)
  assert.deepEqual(refused.body, { errors: [{ attribute: 'title', key: null, message: 'title must not be empty' }] })
  assert.equal(await notes.count(), 1)
  assert.deepEqual(logged, [['warn', 'typeorm-event-actions: POST /notes 400 request smoke-2 (notes:create)']])
  console.log('ok    POST /notes against the rule: 400 with the field error, nothing written, one warn line')
} finally {
  await app.close()
}
console.log('nest smoke ok')

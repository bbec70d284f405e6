/**
 * EventActionsModule (issue 8): a real NestJS app (platform-express) on a
 * loopback port, called with fetch, with TypeOrmModule on the database chosen
 * by DB. What a user sees: audit entries with the request's user, HTTP
 * answers for SoftError / HardError / Nest's own exceptions, action events
 * around a route, and startups refused with an error naming what is missing.
 */
import { Logger, Module } from '@nestjs/common'
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm'
import type { DataSource, DataSourceOptions } from 'typeorm'
import { databaseOptions } from '../../ormconfig'
import {
  ActionEvents,
  AuditEntry,
  auditTrail,
  EventActions,
  EventActionSubscriber,
  EventActionTiming,
  HardError,
  setTranslator,
  withEventActions,
  type Translator,
} from '../../src'
import { EventActionsModule } from '../../src/integrations/nestjs/event-actions-module'
import { countRows, DB, TYPEORM_MAJOR } from '../support/database'
import { insertLocales, Note, noteEvents } from './nestjs/note'
import { RecordingLogger } from '../support/recording-logger'
import { storedJobs, tableJobs } from '../support/table-jobs'
import { call, gate, openedDataSources, published, startApp, timeline, typeOrmModule, type RunningApp } from './nestjs/notes-app'

// TypeOrmModule warns through Nest's static logger when a module is declared, before any app's `logger: false` applies.
Logger.overrideLogger(false)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** The events of one `POST /notes`: EventActions.create, then the save; each exactly once. */
const ONE_CREATE_AND_SAVE = ['Pre Create', 'Post Create', 'Pre Insert', 'Post Insert']

let running: RunningApp | undefined

async function start(...args: Parameters<typeof startApp>): Promise<RunningApp> {
  running = await startApp(...args)
  return running
}

async function stop(): Promise<void> {
  const app = running?.app
  running = undefined
  if (app) await app.close()
  for (const { dataSource, ready } of openedDataSources.splice(0)) {
    // A startup that failed early may have left a DataSource still connecting.
    await Promise.allSettled([ready])
    if (dataSource.isInitialized) await dataSource.destroy()
  }
}

const dataSourceOf = (name = 'default'): DataSource => running!.app.get<DataSource>(getDataSourceToken(name))
const subscriberCount = (dataSource: DataSource): number => dataSource.subscribers.filter((s) => s instanceof EventActionSubscriber).length
const trail = async (dataSource: DataSource, id: number) =>
  (await auditTrail(dataSource, Note, id)).map((e) => ({ operation: e.operation, userId: e.userId, actionName: e.actionName, requestId: e.requestId }))

const RUSSIAN: Record<string, string> = { 'note.titleEmpty': 'заголовок не может быть пустым', 'error.internal': 'Внутренняя ошибка сервера' }
const russian: Translator = (key, _params, locale) => (locale === 'ru' ? RUSSIAN[key] : undefined)

beforeEach(() => {
  noteEvents.length = 0
  insertLocales.length = 0
  timeline.length = 0
  published.length = 0
})

afterEach(() => {
  jest.restoreAllMocks()
  setTranslator(undefined)
})

describe(`EventActionsModule.forRoot on NestJS (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  let base: string
  let ds: DataSource
  const logger = new RecordingLogger()

  beforeAll(async () => {
    // The DataSource has AuditEntry but no subscriber: the module adds it.
    base = (await start([typeOrmModule({ entities: [Note, AuditEntry] }), EventActionsModule.forRoot({ logger })])).base
    ds = dataSourceOf()
  })
  afterAll(stop)
  beforeEach(() => logger.clear())

  it("a request's write is audited with the request's user, action and request id; the handler sees the user", async () => {
    const res = await call(base, 'POST', '/notes', { user: 'alice', body: { title: 'first' }, headers: { 'x-request-id': 'req-1' } })

    expect(res.status).toBe(201)
    expect(res.requestId).toBe('req-1')
    expect(res.body).toMatchObject({ title: 'first', author: 'alice', action: 'notes:create' })
    expect(await trail(ds, res.body.id)).toEqual([{ operation: 'insert', userId: 'alice', actionName: 'notes:create', requestId: 'req-1' }])
    // The injected EventActions fired Create; the save fired Insert; the module's subscriber is there once.
    expect(noteEvents).toEqual(ONE_CREATE_AND_SAVE)
    expect(subscriberCount(ds)).toBe(1)
  })

  it('without a user the entry has none; without x-request-id the request gets a new id, the same in the header and the entry', async () => {
    const res = await call(base, 'POST', '/notes', { body: { title: 'anonymous' } })

    expect(res.status).toBe(201)
    expect(res.body.author).toBeNull()
    expect(res.requestId).toMatch(UUID)
    expect(await trail(ds, res.body.id)).toEqual([{ operation: 'insert', userId: null, actionName: 'notes:create', requestId: res.requestId }])
  })

  it('a SoftError answers 400 with the field error, and nothing is written', async () => {
    const [notes, entries] = [await countRows(ds, 'nest_note'), await countRows(ds, 'audit_entry')]

    const res = await call(base, 'POST', '/notes', { user: 'alice', body: { title: '  ' } })

    expect(res.status).toBe(400)
    expect(res.body).toEqual({ errors: [{ attribute: 'title', key: 'note.titleEmpty', message: 'title must not be empty' }] })
    expect(await countRows(ds, 'nest_note')).toBe(notes)
    expect(await countRows(ds, 'audit_entry')).toBe(entries)
  })

  it('a HardError answers 500 without internals; the server log has the error with the action and request id', async () => {
    const notes = await countRows(ds, 'nest_note')

    const res = await call(base, 'POST', '/notes', { user: 'alice', body: { title: 'boom' }, headers: { 'x-request-id': 'req-boom' } })

    expect(res.status).toBe(500)
    expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.internal', message: 'Internal Server Error' }] })
    expect(res.text).not.toMatch(/hunter2|db-internal|HardError/)
    expect(res.requestId).toBe('req-boom')
    // One entry: the request, then the error with its stack.
    expect(logger.lines).toEqual([
      {
        level: 'error',
        args: [expect.stringMatching(/^typeorm-event-actions: POST \/notes 500 request req-boom \(notes:create\) failed\n\w*Error: connection to db-internal-7 refused \(password hunter2\)\n +at /)],
      },
    ])
    expect(await countRows(ds, 'nest_note')).toBe(notes)
  })

  it('answers and ctx.locale follow Accept-Language', async () => {
    setTranslator(russian)

    const refused = await call(base, 'POST', '/notes', { body: { title: '' }, headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' } })
    const failed = await call(base, 'POST', '/notes', { body: { title: 'boom' }, headers: { 'accept-language': 'ru' } })
    const english = await call(base, 'POST', '/notes', { body: { title: '' } })
    const saved = await call(base, 'POST', '/notes', { body: { title: 'привет' }, headers: { 'accept-language': 'ru' } })

    expect(refused.status).toBe(400)
    expect(refused.body).toEqual({ errors: [{ attribute: 'title', key: 'note.titleEmpty', message: 'заголовок не может быть пустым' }] })
    expect(failed.status).toBe(500)
    expect(failed.body).toEqual({ errors: [{ attribute: null, key: 'error.internal', message: 'Внутренняя ошибка сервера' }] })
    expect(english.body).toEqual({ errors: [{ attribute: 'title', key: 'note.titleEmpty', message: 'title must not be empty' }] })
    expect(saved.status).toBe(201)
    expect(insertLocales).toEqual(['ru'])
  })

  it("Nest's own HttpExceptions keep their status and body (a route's NotFoundException, an unknown route), logged as one line each", async () => {
    const missing = await call(base, 'GET', '/notes/missing/9', { headers: { 'x-request-id': 'req-missing' } })
    const nowhere = await call(base, 'GET', '/nowhere', { headers: { 'x-request-id': 'req-nowhere' } })

    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ statusCode: 404, message: 'no note 9', error: 'Not Found' })
    expect(nowhere.status).toBe(404)
    expect(nowhere.body).toMatchObject({ statusCode: 404, error: 'Not Found' })
    // No route, so no interceptor: the filter still echoes the request id.
    expect([missing.requestId, nowhere.requestId]).toEqual(['req-missing', 'req-nowhere'])
    expect(logger.lines).toEqual([
      { level: 'warn', args: ['typeorm-event-actions: GET /notes/missing/9 404 request req-missing (notes:missing)'] },
      { level: 'warn', args: ['typeorm-event-actions: GET /nowhere 404 request req-nowhere (no action)'] },
    ])
  })

  it("malformed JSON keeps its 400 (Nest turns body-parser's SyntaxError into a BadRequestException) and is logged as one line", async () => {
    const notes = await countRows(ds, 'nest_note')

    const res = await fetch(`${base}/notes`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-json' }, body: '{"title": ' })

    expect(res.status).toBe(400)
    expect(res.headers.get('x-request-id')).toBe('req-json')
    expect(await res.json()).toEqual({ statusCode: 400, message: expect.stringMatching(/JSON/), error: 'Bad Request' })
    expect(await countRows(ds, 'nest_note')).toBe(notes)
    expect(logger.lines).toEqual([{ level: 'warn', args: ['typeorm-event-actions: POST /notes 400 request req-json (no action)'] }])
  })

  it('a body over the limit keeps its 413, with the { errors } body of a SoftError, logged as one line', async () => {
    const res = await call(base, 'POST', '/notes', { body: { title: 'x'.repeat(200_000) }, headers: { 'x-request-id': 'req-big' } })

    expect(res.status).toBe(413)
    expect(res.requestId).toBe('req-big')
    expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.payloadTooLarge', message: 'request entity too large' }] })
    expect(noteEvents).toEqual([])
    expect(logger.lines).toEqual([{ level: 'warn', args: ['typeorm-event-actions: POST /notes 413 request req-big (no action) error.payloadTooLarge'] }])
  })

  it("a route's http-errors 404 keeps its status, with the { errors } body of a SoftError, logged as one line", async () => {
    const res = await call(base, 'GET', '/notes/gone/7', { headers: { 'x-request-id': 'req-gone' } })

    expect(res.status).toBe(404)
    expect(res.requestId).toBe('req-gone')
    expect(res.body).toEqual({ errors: [{ attribute: null, key: 'error.notFound', message: 'note 7 is gone' }] })
    expect(logger.lines).toEqual([{ level: 'warn', args: ['typeorm-event-actions: GET /notes/gone/7 404 request req-gone (notes:gone) error.notFound'] }])
  })

  it("action events bound from a service to the injected ActionEvents: a Pre veto answers 400 and the route never runs", async () => {
    const note = (await call(base, 'POST', '/notes', { user: 'alice', body: { title: 'draft' } })).body
    timeline.length = 0

    const res = await call(base, 'POST', `/notes/${note.id}/publish`)

    expect(res.status).toBe(400)
    expect(res.body).toEqual({ errors: [{ attribute: 'user', key: null, message: 'sign in to publish' }] })
    expect(timeline).toEqual(['pre undefined'])
    expect(published).toEqual([])
    expect((await ds.getRepository(Note).findOneByOrFail({ id: note.id })).published).toBe(false)
  })

  it('action events: Pre, the route and Post run in order, the Post handler gets the result and the changes', async () => {
    const note = (await call(base, 'POST', '/notes', { user: 'alice', body: { title: 'ready' } })).body
    timeline.length = 0

    const res = await call(base, 'POST', `/notes/${note.id}/publish`, { user: 'bob', headers: { 'x-request-id': 'req-pub' } })

    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ id: note.id, published: true })
    expect(timeline).toEqual(['pre bob', 'route bob', 'post bob'])
    expect(published).toHaveLength(1)
    const post = published[0]!
    expect(post).toMatchObject({ action: 'notes:publish', user: { id: 'bob' }, requestId: 'req-pub', params: { id: String(note.id) } })
    expect(post.result).toMatchObject({ id: note.id, published: true })
    expect(post.changes.map((c) => [c.entityName, c.operation, c.changes.published])).toEqual([
      ['Note', 'update', { old: false, new: true }],
    ])
    expect((await trail(ds, note.id)).map((e) => [e.operation, e.userId, e.actionName])).toEqual([
      ['insert', 'alice', 'notes:create'],
      ['update', 'bob', 'notes:publish'],
    ])
  })

  it('two requests in flight at once, by different users, are each attributed to their own user', async () => {
    // The gate holds each request in its route until both arrived; on SQLite their saves then take turns.
    gate.reset(2)

    const [a, b] = await Promise.all([
      call(base, 'POST', '/notes/together', { user: 'ann', body: { title: 'by ann' } }),
      call(base, 'POST', '/notes/together', { user: 'ben', body: { title: 'by ben' } }),
    ])

    expect([a.status, b.status]).toEqual([201, 201])
    expect([a.body.author, a.body.userAtEnd]).toEqual(['ann', 'ann'])
    expect([b.body.author, b.body.userAtEnd]).toEqual(['ben', 'ben'])
    expect((await trail(ds, a.body.id)).map((e) => e.userId)).toEqual(['ann'])
    expect((await trail(ds, b.body.id)).map((e) => e.userId)).toEqual(['ben'])
  })
})

describe(`durable action bindings over NestJS (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  afterAll(stop)

  it("a { mode: 'durable' } binding of a route's action writes one job with the request's user, after the route", async () => {
    const jobs = tableJobs()
    const { base } = await start([typeOrmModule({ entities: [Note, AuditEntry], withEventActions: { jobs } }), EventActionsModule.forRoot()])
    const ds = dataSourceOf()
    running!.app.get(ActionEvents).bind('notes:create', EventActionTiming.Post, () => undefined, { mode: 'durable' })

    const res = await call(base, 'POST', '/notes', { user: 'carol', body: { title: 'durable' }, headers: { 'x-request-id': 'req-durable' } })

    expect(res.status).toBe(201)
    const stored = await storedJobs(ds)
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ name: 'notes:create', kind: 'durable', action: { name: 'notes:create', user: { id: 'carol' }, requestId: 'req-durable' } })
    expect(stored[0]!.payload).toMatchObject({ result: { id: res.body.id, title: 'durable' }, changes: [{ entityName: 'Note', operation: 'insert' }] })
  })
})

describe(`the subscriber is never registered twice (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  afterEach(stop)

  const options = (): DataSourceOptions =>
    ({ ...databaseOptions(DB), entities: [Note], synchronize: true, dropSchema: true }) as DataSourceOptions

  it('TypeOrmModule.forRoot(withEventActions(options)) plus EventActionsModule.forRoot(): one subscriber, every event once', async () => {
    const { base } = await start([TypeOrmModule.forRoot({ ...withEventActions(options()), retryAttempts: 0 }), EventActionsModule.forRoot()])

    const res = await call(base, 'POST', '/notes', { user: 'dora', body: { title: 'once' } })

    expect(res.status).toBe(201)
    expect(noteEvents).toEqual(ONE_CREATE_AND_SAVE)
    expect(subscriberCount(dataSourceOf())).toBe(1)
    expect((await trail(dataSourceOf(), res.body.id)).map((e) => e.userId)).toEqual(['dora'])
  })

  it('EventActionsModule imported twice: still one subscriber, every event once', async () => {
    const { base } = await start([
      typeOrmModule({ entities: [Note, AuditEntry] }),
      EventActionsModule.forRoot(),
      EventActionsModule.forRoot({ filter: false }),
    ])

    const res = await call(base, 'POST', '/notes', { user: 'dora', body: { title: 'twice imported' } })

    expect(res.status).toBe(201)
    expect(noteEvents).toEqual(ONE_CREATE_AND_SAVE)
    expect(subscriberCount(dataSourceOf())).toBe(1)
    expect((await trail(dataSourceOf(), res.body.id)).map((e) => e.userId)).toEqual(['dora'])
  })
})

describe(`forRootAsync, named data sources, manual initialization (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  afterEach(stop)

  it('forRootAsync: the factory gets the injected providers and its resolvers decide user and action', async () => {
    @Module({ providers: [{ provide: 'USER_HEADER', useValue: 'x-api-user' }], exports: ['USER_HEADER'] })
    class AuthConfigModule {}

    const { base } = await start([
      typeOrmModule({ withEventActions: {} }),
      EventActionsModule.forRootAsync({
        imports: [AuthConfigModule],
        inject: ['USER_HEADER'],
        useFactory: async (header: string) => ({
          resolveUser: (req) => {
            const id = req.headers[header]
            return typeof id === 'string' ? { id } : undefined
          },
          resolveAction: (req) => (req.method === 'GET' ? 'notes:read' : 'notes:write'),
          locales: ['en', 'de'],
        }),
      }),
    ])

    // The guard would sign in mallory; the factory's resolver takes the API user instead.
    const res = await call(base, 'POST', '/notes', {
      user: 'mallory',
      body: { title: 'async' },
      headers: { 'x-api-user': 'carol', 'accept-language': 'fr, de-AT;q=0.8' },
    })

    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ author: 'carol', action: 'notes:write' })
    expect((await trail(dataSourceOf(), res.body.id)).map((e) => [e.userId, e.actionName])).toEqual([['carol', 'notes:write']])
    // French is not among the locales; German is, and de-AT finds it.
    expect(insertLocales).toEqual(['de'])
    expect(running!.app.get(EventActions)).toBeInstanceOf(EventActions)
    expect(running!.app.get(ActionEvents)).toBeInstanceOf(ActionEvents)
  })

  it("without a logger of its own, the module's filter logs to config.logger", async () => {
    const logger = new RecordingLogger()
    const { base } = await start([typeOrmModule({ entities: [Note, AuditEntry] }), EventActionsModule.forRoot({ config: { logger } })])

    const res = await call(base, 'POST', '/notes', { body: { title: 'boom' }, headers: { 'x-request-id': 'req-config' } })

    expect(res.status).toBe(500)
    expect(logger.of('error')).toEqual([[expect.stringContaining('POST /notes 500 request req-config (notes:create) failed\n')]])
  })

  it("a named data source: EventActionsModule.forRoot({ dataSource: 'notes' })", async () => {
    const { base } = await start([typeOrmModule({ name: 'notes', entities: [Note, AuditEntry] }), EventActionsModule.forRoot({ dataSource: 'notes' })], {
      dataSource: 'notes',
    })

    const res = await call(base, 'POST', '/notes', { user: 'erin', body: { title: 'named' } })

    expect(res.status).toBe(201)
    expect(noteEvents).toEqual(ONE_CREATE_AND_SAVE)
    expect(subscriberCount(dataSourceOf('notes'))).toBe(1)
    expect((await trail(dataSourceOf('notes'), res.body.id)).map((e) => [e.userId, e.actionName])).toEqual([['erin', 'notes:create']])
  })

  it('manualInitialization: the module puts the subscriber and AuditEntry into the options, initialize() takes them', async () => {
    const { base } = await start([typeOrmModule({ entities: [Note], manualInitialization: true }), EventActionsModule.forRoot()])
    const ds = dataSourceOf()
    expect(ds.isInitialized).toBe(false)
    await ds.initialize()

    const res = await call(base, 'POST', '/notes', { user: 'finn', body: { title: 'late' } })

    expect(res.status).toBe(201)
    expect(noteEvents).toEqual(ONE_CREATE_AND_SAVE)
    expect(subscriberCount(ds)).toBe(1)
    expect((await trail(ds, res.body.id)).map((e) => e.userId)).toEqual(['finn'])
  })
})

describe(`startups refused with an error naming what is missing (${DB}, TypeORM ${TYPEORM_MAJOR}.x)`, () => {
  afterEach(stop)

  it('a DataSource without AuditEntry', async () => {
    const started = start([typeOrmModule({ entities: [Note] }), EventActionsModule.forRoot()])
    await expect(started).rejects.toThrow(HardError)
    await expect(started).rejects.toThrow(/no AuditEntry entity.*entities: \[\.\.\., AuditEntry\]/)
  })

  it('the subscriber listed twice in the DataSource options', async () => {
    const started = start([
      typeOrmModule({ entities: [Note, AuditEntry], subscribers: [EventActionSubscriber, EventActionSubscriber.withConfig({ maxDepth: 8 })] }),
      EventActionsModule.forRoot(),
    ])
    await expect(started).rejects.toThrow(/event-action subscriber 2 times, so every event would fire 2 times/)
  })

  it('a config both in withEventActions and in forRoot', async () => {
    const started = start([typeOrmModule({ withEventActions: { maxDepth: 4 } }), EventActionsModule.forRoot({ config: { maxDepth: 8 } })])
    await expect(started).rejects.toThrow(/give the config in one place/)
  })

  it('no TypeOrmModule', async () => {
    const started = start([EventActionsModule.forRoot()], { controller: false })
    await expect(started).rejects.toThrow(/found no TypeORM DataSource 'default': import TypeOrmModule.forRoot\(\)/)
  })

  it('no TypeOrmModule for the named data source', async () => {
    const started = start([typeOrmModule({ entities: [Note, AuditEntry] }), EventActionsModule.forRoot({ dataSource: 'reports' })], {
      controller: false,
    })
    await expect(started).rejects.toThrow(/found no TypeORM DataSource 'reports': import TypeOrmModule.forRoot\(\{ name: 'reports'/)
  })

  it('options that are not what they should be, at declaration', () => {
    expect(() => EventActionsModule.forRoot({ resolveUser: 'req.user' as never })).toThrow(/resolveUser must be a function/)
    expect(() => EventActionsModule.forRoot({ events: {} as never })).toThrow(/events must be an ActionEvents registry/)
    expect(() => EventActionsModule.forRoot({ logger: { info() {}, warn() {} } as never })).toThrow(
      'EventActionsModule.forRoot: logger must have info, warn and error methods (console, pino and winston do), got object without error',
    )
    expect(() => EventActionsModule.forRoot({ config: { logger: console.log as never } })).toThrow(/EventActionsModule\.forRoot: config\.logger must have info, warn and error/)
    expect(() => EventActionsModule.forRootAsync({} as never)).toThrow(/needs \{ useFactory/)
  })
})

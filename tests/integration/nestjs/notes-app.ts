/**
 * A small NestJS app for the EventActionsModule tests: a notes controller
 * that writes through the injected EventActions and the DataSource, a guard
 * that signs the user in from the `x-user` header (as Passport sets
 * `req.user`), and action-event rules bound from a service.
 */
import type { AddressInfo } from 'node:net'
import {
  Body,
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type ModuleMetadata,
  type OnModuleInit,
  type Type,
} from '@nestjs/common'
import { APP_GUARD, NestFactory } from '@nestjs/core'
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm'
import createError from 'http-errors'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { databaseOptions } from '../../../ormconfig'
import {
  ActionEvents,
  currentAction,
  EventActions,
  EventActionTiming,
  HardError,
  SoftError,
  withEventActions,
  type ActionUser,
  type EventActionsConfig,
  type PostActionEventContext,
} from '../../../src'
import { DB } from '../../support/database'
import { Note } from './note'

/** Signs the user in from the `x-user` header, the way an authentication guard sets `req.user`. */
@Injectable()
export class HeaderUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: ActionUser }>()
    const id = req.headers['x-user']
    if (id) req.user = { id }
    return true
  }
}

/** Lets `size` requests through together, once all of them arrived: they are then surely in flight at once. */
export class Gate {
  private waiting: (() => void)[] = []
  constructor(private size = 1) {}

  reset(size: number): void {
    this.size = size
    this.waiting = []
  }

  arrive(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A deadlock guard, not a timing assert: requests that never meet fail the test with a reason.
      const guard = setTimeout(() => reject(new HardError('Gate: the other requests never arrived')), 20_000)
      this.waiting.push(() => {
        clearTimeout(guard)
        resolve()
      })
      if (this.waiting.length >= this.size) this.waiting.forEach((open) => open())
    })
  }
}

/** The gate of `POST /notes/together`. */
export const gate = new Gate()

let sqliteQueue: Promise<unknown> = Promise.resolve()

/** TypeORM's SQLite drivers share one connection: saves of concurrent requests take turns there. */
function saveInTurn<T>(save: () => Promise<T>): Promise<T> {
  if (DB !== 'sqlite') return save()
  const run = sqliteQueue.then(save, save)
  sqliteQueue = run.catch(() => undefined)
  return run
}

/** What the routes and the action-event rules did, in order. */
export const timeline: string[] = []

/** The contexts the `notes:publish` Post-action handler got. */
export const published: PostActionEventContext[] = []

/** Action-event rules bound from a service, with the module's injected registry. */
@Injectable()
export class PublishRules implements OnModuleInit {
  constructor(@Inject(ActionEvents) private readonly events: ActionEvents) {}

  onModuleInit(): void {
    this.events.bind('notes:publish', EventActionTiming.Pre, ({ user }) => {
      timeline.push(`pre ${String(user?.id)}`)
      if (!user) throw new SoftError('sign in to publish', { attribute: 'user' })
    })
    this.events.bind('notes:publish', EventActionTiming.Post, (ctx) => {
      timeline.push(`post ${String(ctx.user?.id)}`)
      published.push(ctx)
    })
  }
}

/** The notes controller, on the data source `dataSourceName`. */
export function notesController(dataSourceName = 'default'): Type<unknown> {
  @Controller('notes')
  class NotesController {
    constructor(
      @Inject(EventActions) private readonly actions: EventActions,
      @Inject(getDataSourceToken(dataSourceName)) private readonly dataSource: DataSource,
    ) {}

    @Post()
    async create(@Body() body: { title?: string }) {
      const note = await this.actions.create(Note, { title: body.title ?? '' })
      const saved = await this.dataSource.getRepository(Note).save(note)
      return { ...saved, action: currentAction()?.name ?? null }
    }

    @Post('together')
    async together(@Body() body: { title: string }) {
      await gate.arrive()
      const note = await this.actions.create(Note, { title: body.title })
      const saved = await saveInTurn(() => this.dataSource.getRepository(Note).save(note))
      // Read after the other request ran meanwhile: still this request's user.
      return { ...saved, userAtEnd: currentAction()?.user?.id ?? null }
    }

    @Get('missing/:id')
    missing(@Param('id') id: string): never {
      throw new NotFoundException(`no note ${id}`)
    }

    @Get('gone/:id')
    gone(@Param('id') id: string): never {
      // Not a Nest HttpException: an http-errors error, as a library built on it throws.
      throw createError(404, `note ${id} is gone`)
    }

    @Post(':id/publish')
    async publish(@Param('id') id: string) {
      timeline.push(`route ${String(currentAction()?.user?.id)}`)
      const repository = this.dataSource.getRepository(Note)
      const note = await repository.findOneByOrFail({ id: Number(id) })
      note.published = true
      return repository.save(note)
    }
  }
  return NotesController
}

/** Every DataSource the test apps made, with its initialization, to destroy those a failed startup left open. */
export const openedDataSources: { dataSource: DataSource; ready: Promise<unknown> }[] = []

/** How {@link typeOrmModule} builds the DataSource. */
export interface TypeOrmSetup {
  /** The data source name. */
  name?: string
  /** Defaults to `[Note]`: without AuditEntry. */
  entities?: DataSourceOptions['entities']
  /** Pass the options through withEventActions (with this config). */
  withEventActions?: EventActionsConfig
  subscribers?: DataSourceOptions['subscribers']
  manualInitialization?: boolean
}

/** TypeOrmModule on the database under test, fresh schema; the DataSource is kept in {@link openedDataSources}. */
export function typeOrmModule(setup: TypeOrmSetup = {}) {
  const base = {
    ...databaseOptions(DB),
    entities: setup.entities ?? [Note],
    subscribers: setup.subscribers ?? [],
    synchronize: true,
    dropSchema: true,
  } as DataSourceOptions
  const options = setup.withEventActions ? withEventActions(base, setup.withEventActions) : base
  return TypeOrmModule.forRootAsync({
    name: setup.name,
    // TypeOrmModule wants the name in the options as well, or it cannot find the DataSource at shutdown.
    useFactory: () => ({ ...options, name: setup.name, retryAttempts: 0, manualInitialization: setup.manualInitialization }),
    dataSourceFactory: async (made) => {
      const dataSource = new DataSource(made!)
      // Initialized here, not by TypeOrmModule, so that a startup that fails meanwhile can still wait for it and close it.
      const ready = setup.manualInitialization ? Promise.resolve() : dataSource.initialize()
      openedDataSources.push({ dataSource, ready })
      await ready
      return dataSource
    },
  })
}

/** A running app on a loopback port. */
export interface RunningApp {
  app: INestApplication
  base: string
}

/** Starts an app with `imports`, the notes controller (on `dataSource`), the header guard and the publishing rules. */
export async function startApp(
  imports: NonNullable<ModuleMetadata['imports']>,
  options: { dataSource?: string; controller?: boolean } = {},
): Promise<RunningApp> {
  @Module({
    imports,
    controllers: options.controller === false ? [] : [notesController(options.dataSource)],
    providers: [{ provide: APP_GUARD, useClass: HeaderUserGuard }, PublishRules],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false, forceCloseConnections: true })
  try {
    await app.listen(0, '127.0.0.1')
  } catch (error) {
    await app.close()
    throw error
  }
  const { port } = app.getHttpServer().address() as AddressInfo
  return { app, base: `http://127.0.0.1:${port}` }
}

/** One HTTP call's answer. */
export interface Answer {
  status: number
  requestId: string | null
  text: string
  body: any
}

/** Calls the app with fetch, as `user` (the `x-user` header) and with `headers`. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { user?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.user !== undefined) headers['x-user'] = options.user
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await response.text()
  return { status: response.status, requestId: response.headers.get('x-request-id'), text, body: text ? JSON.parse(text) : undefined }
}

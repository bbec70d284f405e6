import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import { SoftError, type LocalizedErrorEntry } from '../../basics/errors'
import { DEFAULT_LOCALE, translate } from '../../basics/translator'
import type { DataSource } from 'typeorm'
import { checkLogger, type EventActionsConfig } from '../../setup/event-actions-config'
import { CONFIGURED_LOGGER, ourSubscriber } from '../../typeorm/our-subscriber'
import { localeFromAcceptLanguage } from './accept-language'
import { carriedStatus, statusMessage } from './http-status'

/** One entry of an HTTP error response: `{ attribute, key, message }`, the message in the request's language. */
export type HttpErrorEntry = LocalizedErrorEntry

/** @internal What an error becomes in an HTTP response. */
export interface HttpErrorResponse {
  readonly status: number
  readonly body: { errors: HttpErrorEntry[] }
}

const VERB_BY_METHOD: Record<string, [collection: string, item: string]> = {
  GET: ['list', 'get'],
  HEAD: ['list', 'get'],
  POST: ['create', 'create'],
  PUT: ['update', 'update'],
  PATCH: ['update', 'update'],
  DELETE: ['destroy', 'destroy'],
}

// Path segments that are record ids, not action words: numbers and UUIDs.
const ID_SEGMENT = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

/**
 * @internal The default action name of a request, NocoBase style:
 * `${resource}:${verb}`. `POST /orders` is `orders:create`, `GET /orders/7`
 * `orders:get`, `PATCH /orders/7` `orders:update`, `DELETE /orders/7`
 * `orders:destroy`, and a trailing word names the verb: `POST
 * /orders/7/submit` is `orders:submit`.
 */
export function defaultActionName(method: string, path: string): string {
  const segments = path.split('?')[0]!.split('/').filter(Boolean)
  const resource = segments[0] ?? 'root'
  const rest = segments.slice(1)
  const words = rest.filter((s) => !ID_SEGMENT.test(s))
  if (words.length) return `${resource}:${words[words.length - 1]}`
  const [collection, item] = VERB_BY_METHOD[method.toUpperCase()] ?? ['call', 'call']
  return `${resource}:${rest.length ? item : collection}`
}

/** @internal The request id: the client's `x-request-id` when it sent a sane one, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID()
}

/**
 * @internal What an error answers: a SoftError (a business rule said no, or
 * validation failed) 400 with its field errors in `locale`; an error that
 * carries an HTTP status by the ecosystem's convention (http-errors,
 * body-parser, Koa's `ctx.throw`, NestJS's `HttpException`; see
 * {@link carriedStatus}) that status, with the message key of the status and
 * the error's message when it is meant for the client; anything else 500
 * with no internals.
 */
export function errorResponse(error: unknown, locale: string = DEFAULT_LOCALE): HttpErrorResponse {
  if (error instanceof SoftError) return { status: 400, body: { errors: error.localizedEntries(locale) } }
  const carried = carriedStatus(error)
  const status = carried?.status ?? 500
  const [key, text] = statusMessage(status)
  const detail = carried?.exposed ? carried.message : undefined
  const message = translate(key, detail === undefined ? { status } : { status, detail }, locale, detail || text)
  return { status, body: { errors: [{ attribute: null, key, message }] } }
}

/** @internal How the HTTP middleware learns the request's language. */
export interface LocaleOptions<R> {
  resolveLocale?: (req: R) => string | undefined
  locales?: readonly string[]
}

/**
 * @internal The request's locale: `resolveLocale(req)` when given, else
 * `Accept-Language` negotiated against `locales`. A resolver that throws is
 * the application's bug and reaches the 500 path like any other.
 */
export function requestLocale<R>(options: LocaleOptions<R>, req: R, header: string | string[] | undefined): string | undefined {
  if (options.resolveLocale) return options.resolveLocale(req) || undefined
  return localeFromAcceptLanguage(header, options.locales)
}

/** @internal The logger the integrations write to: {@link EventActionsConfig.logger}'s shape. */
export type HttpLogger = NonNullable<EventActionsConfig['logger']>

/**
 * @internal `logger` checked; without one, the `logger` given to
 * `withEventActions` for `dataSource` (asked at each entry: the subscriber
 * exists once the DataSource is initialized), else `console`.
 */
export function httpLogger(logger: EventActionsConfig['logger'], where: string, dataSource?: DataSource): HttpLogger {
  if (logger !== undefined) {
    checkLogger(logger, where)
    return logger
  }
  if (!dataSource) return console
  const configured = (): HttpLogger => (ourSubscriber(dataSource)?.[CONFIGURED_LOGGER] as HttpLogger | undefined) ?? console
  return {
    info: (message) => configured().info(message),
    warn: (message) => configured().warn(message),
    error: (message) => configured().error(message),
  }
}

/** @internal The request an error answer is logged for. */
export interface LoggedRequest {
  readonly method: string
  readonly path: string
  readonly requestId: string
  /** The action's name, or undefined when the request failed before it had one. */
  readonly action: string | undefined
}

// Control characters (a newline in a path) would split the one line, or forge another.
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]/g, '?')

/**
 * @internal Logs an error answer: a 4xx as one warning line (method, path,
 * status, request id, action, message key), anything else as an error with
 * the error's stack, which the client never sees.
 */
export function logErrorAnswer(logger: HttpLogger, request: LoggedRequest, status: number, key: string | null, error: unknown): void {
  const line = `typeorm-event-actions: ${oneLine(`${request.method} ${request.path}`)} ${status} request ${request.requestId} (${request.action ?? 'no action'})`
  if (status < 500) logger.warn(`${line}${key ? ` ${key}` : ''}`)
  else logger.error(`${line} failed\n${inspect(error)}`)
}

// The one queue per request of its running actions.
const queues = new WeakMap<object, Promise<unknown>>()

/**
 * @internal Runs `work` after the DataSource's previous request transaction
 * on SQLite, whose TypeORM drivers share one connection: two transactions
 * there at once would end each other. Other databases run requests
 * concurrently, each on its own pooled connection.
 */
export function oneAtATimeOnSqlite<T>(dataSource: { options: { type: string } } | undefined, work: () => Promise<T>): Promise<T> {
  const type = dataSource?.options.type
  if (!dataSource || (type !== 'sqlite' && type !== 'better-sqlite3')) return work()
  const previous = queues.get(dataSource) ?? Promise.resolve()
  const run = previous.then(work, work)
  queues.set(dataSource, run.catch(() => undefined))
  return run
}

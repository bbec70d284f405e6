// The message keys and English texts of the HTTP error statuses the integrations answer with.
// A fixed table rather than Node's http.STATUS_CODES, whose texts change between Node
// versions (RFC 9110 renamed 413 and 422), so that a key never depends on the Node in use.
const STATUSES: Readonly<Record<number, readonly [key: string, text: string]>> = {
  400: ['error.badRequest', 'Bad Request'],
  401: ['error.unauthorized', 'Unauthorized'],
  403: ['error.forbidden', 'Forbidden'],
  404: ['error.notFound', 'Not Found'],
  405: ['error.methodNotAllowed', 'Method Not Allowed'],
  406: ['error.notAcceptable', 'Not Acceptable'],
  408: ['error.requestTimeout', 'Request Timeout'],
  409: ['error.conflict', 'Conflict'],
  410: ['error.gone', 'Gone'],
  411: ['error.lengthRequired', 'Length Required'],
  412: ['error.preconditionFailed', 'Precondition Failed'],
  413: ['error.payloadTooLarge', 'Payload Too Large'],
  414: ['error.uriTooLong', 'URI Too Long'],
  415: ['error.unsupportedMediaType', 'Unsupported Media Type'],
  416: ['error.rangeNotSatisfiable', 'Range Not Satisfiable'],
  422: ['error.unprocessableEntity', 'Unprocessable Entity'],
  428: ['error.preconditionRequired', 'Precondition Required'],
  429: ['error.tooManyRequests', 'Too Many Requests'],
  431: ['error.requestHeaderFieldsTooLarge', 'Request Header Fields Too Large'],
  500: ['error.internal', 'Internal Server Error'],
  501: ['error.notImplemented', 'Not Implemented'],
  502: ['error.badGateway', 'Bad Gateway'],
  503: ['error.serviceUnavailable', 'Service Unavailable'],
  504: ['error.gatewayTimeout', 'Gateway Timeout'],
}

/**
 * @internal The message key and English text of an error status: `404` is
 * `['error.notFound', 'Not Found']`, `500` `['error.internal', ...]`; a
 * status outside the table `error.http<status>` with a generic text.
 */
export function statusMessage(status: number): readonly [key: string, text: string] {
  return STATUSES[status] ?? [`error.http${status}`, status < 500 ? 'Client Error' : 'Server Error']
}

/** @internal What an error that carries an HTTP status says about it. */
export interface CarriedStatus {
  /** The status, 400 to 599. */
  readonly status: number
  /** Whether the error's message is meant for the client (`expose`). */
  readonly exposed: boolean
  /** The error's own message. */
  readonly message: string | undefined
}

const isErrorStatus = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 400 && (value as number) <= 599

function nestMessage(response: unknown, fallback: unknown): string | undefined {
  if (typeof response === 'string') return response
  const message = (response as { message?: unknown } | null)?.message
  if (typeof message === 'string') return message
  if (Array.isArray(message)) return message.map(String).join('; ')
  return typeof fallback === 'string' ? fallback : undefined
}

/**
 * @internal The HTTP status an error carries by the ecosystem's convention,
 * or undefined for any other error (which answers 500):
 * - `http-errors` and what follows its convention (body-parser and raw-body,
 *   co-body, Koa's `ctx.throw(404)`): a `status` or `statusCode` from 400 to
 *   599; its message is meant for the client only when `expose` is true
 *   (http-errors sets it below 500);
 * - NestJS's `HttpException` (`getStatus()`, `getResponse()`), recognized by
 *   shape; its message is meant for the client below 500.
 *
 * This is the rule Koa's, Express's and Nest's own error handlers apply.
 */
export function carriedStatus(error: unknown): CarriedStatus | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as Record<string, unknown>
  if (typeof e.getStatus === 'function' && typeof e.getResponse === 'function') {
    const status: unknown = (e.getStatus as () => unknown).call(error)
    if (!isErrorStatus(status)) return undefined
    return { status, exposed: status < 500, message: nestMessage((e.getResponse as () => unknown).call(error), e.message) }
  }
  const status = e.status ?? e.statusCode
  if (!isErrorStatus(status)) return undefined
  return { status, exposed: e.expose === true, message: typeof e.message === 'string' ? e.message : undefined }
}

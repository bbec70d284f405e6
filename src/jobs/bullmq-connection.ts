import { inspect } from 'node:util'
import { HardError } from '../basics/errors'
import type { BullConnection } from './bullmq-types'

function refuse(rule: string, value: unknown): never {
  throw new HardError(`bullMqJobs(): connection must be ${rule}, got ${inspect(value, { depth: 0 })}`)
}

/**
 * A `redis://` / `rediss://` URL as ioredis options, read the way ioredis
 * reads one (query parameters become options). Parsed here rather than left
 * to BullMQ: only its later 5.x releases read `url`, and the earlier ones
 * would silently connect to localhost instead.
 */
function fromUrl(text: string): Record<string, unknown> {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    refuse("a valid 'redis://' or 'rediss://' URL", text)
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') refuse("a 'redis://' or 'rediss://' URL, or connection options", text)
  const options: Record<string, unknown> = {}
  url.searchParams.forEach((value, key) => (options[key] = key === 'family' && /^\d+$/.test(value) ? Number(value) : value))
  if (url.username || url.password) {
    options.username = decodeURIComponent(url.username)
    options.password = decodeURIComponent(url.password)
  }
  const db = url.pathname.slice(1)
  if (db !== '') {
    if (!/^\d+$/.test(db)) refuse('a URL whose path is a database number (redis://host:6379/0)', text)
    options.db = Number(db)
  }
  if (url.hostname) options.host = url.hostname.replace(/^\[|\]$/g, '')
  if (url.port) options.port = Number(url.port)
  if (url.protocol === 'rediss:') options.tls = {}
  return options
}

/** @internal The `connection` option of bullMqJobs, checked, as ioredis options. */
export function checkConnection(connection: unknown): BullConnection {
  if (typeof connection === 'string') return fromUrl(connection)
  if (connection === null || typeof connection !== 'object' || Array.isArray(connection)) {
    refuse("Redis connection options ({ host, port }) or a 'redis://' URL", connection)
  }
  const { url, ...options } = connection as Record<string, unknown>
  // A client instance cannot be given the per-connection settings the producer and the workers need.
  if (typeof options.connect === 'function' || typeof options.duplicate === 'function') {
    refuse('connection options, not a Redis client (the backend opens its own connections)', connection)
  }
  if (options.keyPrefix !== undefined) refuse("free of keyPrefix (BullMQ refuses it; use bullMqJobs' prefix option)", options.keyPrefix)
  if (url === undefined) return options
  if (typeof url !== 'string') refuse("options whose url is a 'redis://' URL", url)
  // As in ioredis: what the options say outright wins over what the URL says.
  return { ...fromUrl(url), ...options }
}

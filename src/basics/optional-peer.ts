import { HardError } from './errors'

/**
 * @internal Loads an optional peer dependency on first use, so that an
 * application without it can import the rest of the library. Only the
 * package itself missing becomes a HardError naming it and `what` needs it;
 * a broken install inside it keeps its own error.
 */
export function loadOptionalPeer<T>(name: string, what: string): T {
  try {
    return require(name) as T
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
    if (code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`)) {
      throw new HardError(`${what} needs the package '${name}': npm install ${name}`, { cause: error })
    }
    throw error
  }
}

/** Why the command line tool stopped; decides the exit code. */
export type CliErrorKind = 'usage' | 'failure'

/**
 * An error the command line tool reports as one readable line on stderr,
 * without a stack trace (unless `--verbose`). `usage` errors (a bad argument)
 * exit with 2, every other failure with 1, so that scripts can tell "you
 * called it wrong" from "it could not do it".
 */
export class CliError extends Error {
  override name = 'CliError'
  /** `usage`: the command line was wrong; `failure`: the command could not do its work. */
  readonly kind: CliErrorKind

  constructor(message: string, options: { kind?: CliErrorKind; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = options.kind ?? 'failure'
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return this.kind === 'usage' ? 2 : 1
  }

  /** A wrong command line: the message says what to type instead. */
  static usage(message: string): CliError {
    return new CliError(message, { kind: 'usage' })
  }
}

/** The message of anything thrown, on one line (driver errors often span several). */
export function oneLine(error: unknown): string {
  // Not `instanceof Error`: errors made in another realm (a vm context, a test runner) are errors too.
  const { message, name } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown; name?: unknown }
  const text = typeof message === 'string' && message ? message : typeof name === 'string' ? name : String(error)
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

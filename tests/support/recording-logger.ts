/** A log level of the loggers the integrations take (`console`, pino, winston). */
export type LogLevel = 'info' | 'warn' | 'error'

/**
 * A logger shaped like pino's or winston's, for the HTTP and NestJS tests:
 * its methods use `this`, as pino's do, so a call that lost its receiver
 * fails. Keeps what each call got, in order.
 */
export class RecordingLogger {
  readonly lines: { level: LogLevel; args: unknown[] }[] = []

  info(...args: unknown[]): void {
    this.lines.push({ level: 'info', args })
  }

  warn(...args: unknown[]): void {
    this.lines.push({ level: 'warn', args })
  }

  error(...args: unknown[]): void {
    this.lines.push({ level: 'error', args })
  }

  /** The arguments of every call at `level`. */
  of(level: LogLevel): unknown[][] {
    return this.lines.filter((l) => l.level === level).map((l) => l.args)
  }

  clear(): void {
    this.lines.length = 0
  }
}

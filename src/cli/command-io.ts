/** Where a command writes: the process's streams, or a buffer in tests. */
export interface CommandIo {
  out(text: string): void
  err(text: string): void
}

/** What every command gets from the command line. */
export interface CommandOptions {
  /** The `-d` data source file, as typed. */
  readonly dataSourceFile: string
  readonly json: boolean
  readonly verbose: boolean
}

/** What `worker` gets besides the common options. */
export interface WorkerCommandOptions extends CommandOptions {
  /** The `--handlers` module, as typed. */
  readonly handlersFile: string
  /** `--concurrency`, or undefined for startWorker's default. */
  readonly concurrency: number | undefined
}

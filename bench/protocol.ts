/** Messages between run.ts and its workers. */
export type Role = 'plain' | 'events'

export interface WorkerInit {
  type: 'init'
  id: number
  role: Role
  loadNs: number[]
  chunk: number
}

export type Request =
  | WorkerInit
  | { type: 'run'; id: number; scenario: string; n: number; warmup: boolean }
  | { type: 'memory'; id: number; scenario: string; n: number; repeats: number }
  | { type: 'close'; id: number }

export type Reply =
  | { type: 'ready'; id: number }
  | {
      type: 'result'
      id: number
      ms: number
      cpuMs: number
      /** The timed operation's start and end on the clock of process.hrtime(), in µs (that of a .cpuprofile). */
      startUs: number
      endUs: number
      parts?: Record<string, number>
    }
  | { type: 'memory'; id: number; baseline: number; held: number[]; after: number[] }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string }

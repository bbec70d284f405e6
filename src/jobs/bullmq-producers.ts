import type { DataSource } from 'typeorm'
import type { JobRecord } from '../transaction/pending-job'
import type { BullMqSettings } from './bullmq-options'
import type { BullMqModule, BullQueue } from './bullmq-types'
import { handOverRecords } from './outbox-relay'
import { settleWithin } from './outbox-timeouts'

const CLOSE_GRACE_MS = 2000
// Ids waiting for the running hand-over; past this many (Redis away, commits going on) the oldest
// are left to a sweep rather than kept in memory.
const MAX_WAITING_IDS = 10_000
// The hand-over waits this long after the first commit that needs one, so that the commits of a
// busy process share one addBulk and one UPDATE instead of paying both per commit.
const GATHER_MS = 10

interface Producer {
  readonly queue: BullQueue
  /** Records committed while a hand-over runs: the next one takes them all. */
  waiting: JobRecord[]
  /** The hand-over running now, if any: close() lets it finish first. */
  running: Promise<void> | undefined
}

/** @internal The producer Queue options: a write fails at once while Redis is away, rather than waiting in memory. */
export function producerOptions(settings: BullMqSettings): { connection: Readonly<Record<string, unknown>>; prefix: string } {
  return { connection: { ...settings.connection, enableOfflineQueue: false }, prefix: settings.prefix }
}

/**
 * @internal The producer Queue of each DataSource (opened on first use), and
 * the hand-overs right after a commit that run on it.
 */
export class Producers {
  private readonly byDataSource = new Map<DataSource, Producer>()

  constructor(
    private readonly bullmq: BullMqModule,
    private readonly settings: BullMqSettings,
  ) {}

  /** The Queue of `dataSource`, opened now if needed. */
  queue(dataSource: DataSource): BullQueue {
    return this.producer(dataSource).queue
  }

  /**
   * Relays the rows of `records` now, in the background; errors go to
   * onRelayError (the sweep sends what this missed). One hand-over runs at a
   * time per DataSource, so that a burst of commits takes one pooled
   * connection, not one each: what commits meanwhile goes in the next batch.
   */
  relayCommitted(dataSource: DataSource, records: readonly JobRecord[]): void {
    if (records.length === 0) return
    try {
      const producer = this.producer(dataSource)
      producer.waiting.push(...records)
      if (producer.waiting.length > MAX_WAITING_IDS) producer.waiting.splice(0, producer.waiting.length - MAX_WAITING_IDS)
      producer.running ??= new Promise<void>((resolve) => setTimeout(resolve, GATHER_MS)).then(() => this.handOver(dataSource, producer))
    } catch (error) {
      this.report(error)
    }
  }

  private async handOver(dataSource: DataSource, producer: Producer): Promise<void> {
    while (producer.waiting.length) {
      const records = producer.waiting.splice(0)
      try {
        await handOverRecords(dataSource, producer.queue, this.settings.relay, records)
      } catch (error) {
        this.report(error)
      }
    }
    producer.running = undefined
  }

  /** Gives the running hand-overs of `dataSource` a moment to finish, then closes its Queue. */
  async close(dataSource: DataSource): Promise<void> {
    const producer = this.byDataSource.get(dataSource)
    if (!producer) return
    this.byDataSource.delete(dataSource)
    // One still waiting for Redis then fails (or times out): its rows stay unsent, for a sweep.
    if (producer.running) await settleWithin([producer.running], CLOSE_GRACE_MS)
    await producer.queue.close()
  }

  private producer(dataSource: DataSource): Producer {
    let producer = this.byDataSource.get(dataSource)
    if (!producer) {
      const queue = new this.bullmq.Queue(this.settings.queueName, producerOptions(this.settings))
      // Without a listener, each failed reconnect would be printed by BullMQ itself.
      queue.on('error', (error) => this.report(error))
      producer = { queue, waiting: [], running: undefined }
      this.byDataSource.set(dataSource, producer)
    }
    return producer
  }

  private report(error: unknown): void {
    try {
      this.settings.onRelayError(error)
    } catch (handlerError) {
      // The data is committed and the jobs are in the outbox: a failing report must not surface as the commit's error.
      console.error('typeorm-event-actions: onRelayError threw while reporting', error, handlerError)
    }
  }
}

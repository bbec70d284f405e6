/**
 * A JobBackend for tests of the engine-independent part of durable jobs:
 * it writes each job as a row of `tj_job` through the transaction's query
 * runner (so a rollback takes it back, as the real engines' rows), and its
 * consumer runs the rows in this process. Not an engine: no retries.
 */
import { Column, Entity, PrimaryColumn, type DataSource, type QueryRunner } from 'typeorm'
import type { JobBackend, JobRecord } from '../../src'

@Entity('tj_job')
export class TableJob {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string
  @Column({ type: 'varchar', length: 255 }) name!: string
  @Column({ type: 'varchar', length: 20 }) kind!: string
  @Column({ type: 'varchar', length: 255 }) key!: string
  @Column({ type: 'text' }) record!: string
  @Column({ type: 'int', default: 0 }) attempts!: number
  @Column({ type: 'varchar', length: 20, default: 'pending' }) state!: string
}

export interface TableJobs extends JobBackend {
  /** The records `committed` was told about, in order. */
  readonly committedRecords: JobRecord[]
}

export function tableJobs(maxPayloadBytes = 65536): TableJobs {
  const committedRecords: JobRecord[] = []
  return {
    engine: 'table',
    maxPayloadBytes,
    entities: [TableJob],
    committedRecords,
    async write(queryRunner: QueryRunner, records: readonly JobRecord[]) {
      const rows = records.map((r) => ({ id: r.id, name: r.name, kind: r.kind, key: r.key, record: JSON.stringify(r) }))
      await queryRunner.manager.createQueryBuilder().insert().into(TableJob).values(rows).execute()
    },
    committed(_queryRunner, records) {
      committedRecords.push(...records)
    },
    async consume(dataSource: DataSource, run, options) {
      let stopped = false
      const inFlight = new Set<Promise<void>>()
      const loop = async (): Promise<void> => {
        while (!stopped) {
          const rows = await dataSource.getRepository(TableJob).find({ where: { state: 'pending' }, take: options.concurrency })
          if (rows.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 10))
            continue
          }
          await Promise.all(
            rows.map(async (row) => {
              const attempt = row.attempts + 1
              let state = 'done'
              const work = run(JSON.parse(row.record) as JobRecord, { attempt }).catch(() => void (state = 'failed'))
              inFlight.add(work)
              await work
              inFlight.delete(work)
              await dataSource.getRepository(TableJob).update(row.id, { attempts: attempt, state })
            }),
          )
        }
      }
      const running = loop().catch(options.onError)
      return {
        async stop() {
          stopped = true
          await running
        },
      }
    },
    async counts() {
      return []
    },
    async failed() {
      return []
    },
    async retry() {
      return false
    },
    async discard() {
      return false
    },
    async close() {},
  }
}

/** The stored jobs, oldest first by name then key, as the records the worker would get. */
export async function storedJobs(ds: DataSource): Promise<(JobRecord & { state: string; attempts: number })[]> {
  const rows = await ds.getRepository(TableJob).find()
  return rows.map((r) => ({ ...(JSON.parse(r.record) as JobRecord), state: r.state, attempts: r.attempts }))
}

/**
 * Guards the TypeORM internals that src/typeorm/ (and the
 * subscriber's afterLoad) depend on. When a TypeORM release moves one of
 * them, a test here fails with a message that names the missing piece,
 * instead of event actions silently firing in the wrong places.
 *
 * The modules under test are required lazily, inside the tests, so that a
 * moved module is reported by name here rather than as an import error of
 * the whole file.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  EventSubscriber,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
  type DataSource,
  type EntitySubscriberInterface,
  type LoadEvent,
} from 'typeorm'
import type * as Lib from '../../src'
import type * as Internals from '../../src/typeorm/internal-work'
import type * as Db from '../support/database'

/** The version of the TypeORM that `import 'typeorm'` loads in this run. */
const TYPEORM_VERSION: string = (
  JSON.parse(readFileSync(join(dirname(require.resolve('typeorm')), 'package.json'), 'utf8')) as { version: string }
).version

/** Throws, loudly and by name, when an internal is missing. */
function need(ok: unknown, piece: string, why: string): void {
  if (!ok) {
    throw new Error(
      `TypeORM ${TYPEORM_VERSION} changed an internal that typeorm-event-actions depends on: ${piece}. ${why} ` +
        `Update src/typeorm/ (and this test) for this TypeORM release.`,
    )
  }
}

/** Requires a TypeORM module and one of its exports, naming both when either is gone. */
function internal<T = unknown>(path: string, exportName: string, why: string): T {
  let mod: Record<string, unknown> | undefined
  try {
    mod = require(path) as Record<string, unknown>
  } catch (error) {
    need(false, `module '${path}' cannot be loaded (${(error as Error).message.split('\n')[0]})`, why)
  }
  need(typeof mod![exportName] === 'function', `'${path}' no longer exports ${exportName}`, why)
  return mod![exportName] as T
}

type Proto = { prototype: Record<string, unknown> }
type Builder = { expressionMap: { callListeners: boolean; useTransaction: boolean } }
type Execute = (this: Builder) => Promise<unknown>

const LOADER_PATH = 'typeorm/persistence/SubjectDatabaseEntityLoader'
const SOFT_DELETE_PATH = 'typeorm/query-builder/SoftDeleteQueryBuilder'
const TRANSFORMER_PATH = 'typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer'
const DRIVER_UTILS_PATH = 'typeorm/driver/DriverUtils'
const METADATA_BUILDER_PATH = 'typeorm/connection/ConnectionMetadataBuilder'
const DIFF_PATH = 'typeorm/persistence/SubjectChangedColumnsComputer'
const PERSIST_PATH = 'typeorm/persistence/EntityPersistExecutor'
const SUBJECT_EXECUTOR_PATH = 'typeorm/persistence/SubjectExecutor'
const TREE_EXECUTORS: [string, string, string[]][] = [
  ['typeorm/persistence/tree/ClosureSubjectExecutor', 'ClosureSubjectExecutor', ['insert', 'update', 'remove']],
  ['typeorm/persistence/tree/MaterializedPathSubjectExecutor', 'MaterializedPathSubjectExecutor', ['insert', 'update']],
  ['typeorm/persistence/tree/NestedSetSubjectExecutor', 'NestedSetSubjectExecutor', ['insert', 'update', 'remove']],
]

const WHY = {
  loader:
    'save()/remove() reload the database copy through SubjectDatabaseEntityLoader.load; the library marks that reload so that it does not fire Load.',
  execute: 'The library refuses bulk writes (BulkWriteError) by wrapping the execute() of the write QueryBuilders.',
  valueSets: 'insert() of instances is told apart from insert() of plain objects by InsertQueryBuilder.getValueSets().',
  expressionMap:
    'The bulk-write guard reads expressionMap.callListeners / mainAlias and sets expressionMap.useTransaction to make insert() atomic.',
  afterLoad: "The Load event is built from afterLoad's event argument (metadata, queryRunner, manager).",
  transformer:
    'The Load group is the selection the query made: RawSqlResultsToEntityTransformer.transform(rawResults, alias) is wrapped to note, per entity, ' +
    'which column aliases the raw rows hold, and afterLoad (called right after transform) reads it.',
  pojo: 'The subscriber ignores afterLoad of non-instances because they are the read-backs of generated values.',
  trees: "A save() of a tree entity keeps the tree with QueryBuilder writes; the library runs the tree executors' methods as internal work, which the bulk-write guard lets through.",
  diff: 'The Post Update group is what the UPDATE wrote, asked of SubjectChangedColumnsComputer.computeDiffColumns(subject) with a subject-shaped object.',
  persist:
    'A save()/remove() inside a caller\'s transaction that rejects makes it rollback-only: EntityPersistExecutor.prototype.execute is wrapped.',
  inserted: 'The Post Insert group holds foreign keys set by cascades: SubjectExecutor.prototype.broadcastAfterEventsForAll is wrapped to read insertSubjects[].insertedValueSet.',
  bulk:
    'Bulk writes with events read the write builder\'s expressionMap (wheres, parameters, orderBys, valuesSet, onUpdate), ' +
    'broadcast per-row events through queryRunner.broadcaster.broadcastBefore/After<Kind>Event(result, ...) with a BroadcasterResult, ' +
    'and hydrate computed values with driver.prepareHydratedValue; relation().add()/remove() of a many-to-many wrap RelationUpdater.update / RelationRemover.remove.',
  clear: 'clear() is refused for entities with event actions: EntityManager.prototype.clear is wrapped.',
  subscribers:
    'ConnectionMetadataBuilder.buildSubscribers(list) is wrapped to place the library\'s subscriber where it is listed and to build a configured one without registering it globally.',
}

/** The four write QueryBuilder classes the library wraps. */
function writeBuilders(): [string, Proto][] {
  const typeorm = require('typeorm') as Record<string, Proto | undefined>
  const out: [string, Proto][] = []
  for (const name of ['InsertQueryBuilder', 'UpdateQueryBuilder', 'DeleteQueryBuilder']) {
    need(typeof typeorm[name] === 'function', `'typeorm' no longer exports ${name}`, WHY.execute)
    out.push([name, typeorm[name]!])
  }
  out.push(['SoftDeleteQueryBuilder', internal<Proto>(SOFT_DELETE_PATH, 'SoftDeleteQueryBuilder', WHY.execute)])
  return out
}

describe(`TypeORM internals (TypeORM ${TYPEORM_VERSION})`, () => {
  it('reports which TypeORM is loaded, and it is the one this run asked for', () => {
    const { TYPEORM_MAJOR, DB } = require('../support/database') as typeof Db
    // Printed so that a run shows 0.3.x vs 1.x.
    console.log(`typeorm-event-actions: TypeORM ${TYPEORM_VERSION} (TYPEORM_MAJOR=${TYPEORM_MAJOR}), DB=${DB}`)
    const [major, minor, patch] = TYPEORM_VERSION.split('.').map((n) => parseInt(n, 10)) as [number, number, number]
    expect(TYPEORM_MAJOR).toBe(major)
    expect(TYPEORM_MAJOR).toBe(process.env.TYPEORM === '1' ? 1 : 0)
    need(
      (major === 0 && minor === 3 && patch >= 20) || major === 1,
      `version ${TYPEORM_VERSION} is outside the supported range ^0.3.20 || ^1.0.0`,
      'Check the internals below against this release before widening the range.',
    )
  })

  it('SubjectDatabaseEntityLoader.prototype.load exists', () => {
    const Loader = internal<Proto>(LOADER_PATH, 'SubjectDatabaseEntityLoader', WHY.loader)
    need(typeof Loader.prototype.load === 'function', 'SubjectDatabaseEntityLoader.prototype.load is missing', WHY.loader)
  })

  it('Insert/Update/Delete/SoftDeleteQueryBuilder.prototype.execute exist', () => {
    const builders = writeBuilders()
    expect(builders.map(([name]) => name)).toEqual([
      'InsertQueryBuilder',
      'UpdateQueryBuilder',
      'DeleteQueryBuilder',
      'SoftDeleteQueryBuilder',
    ])
    for (const [name, cls] of builders) {
      need(typeof cls.prototype.execute === 'function', `${name}.prototype.execute is missing`, WHY.execute)
    }
  })

  it('the tree subject executors, computeDiffColumns, the persist and subject executors, clear() and buildSubscribers exist', () => {
    for (const [path, name, methods] of TREE_EXECUTORS) {
      const Executor = internal<Proto>(path, name, WHY.trees)
      for (const method of methods) need(typeof Executor.prototype[method] === 'function', `${name}.prototype.${method} is missing`, WHY.trees)
    }
    const Diff = internal<Proto>(DIFF_PATH, 'SubjectChangedColumnsComputer', WHY.diff)
    need(typeof Diff.prototype.computeDiffColumns === 'function', 'SubjectChangedColumnsComputer.prototype.computeDiffColumns is missing', WHY.diff)
    const Persist = internal<Proto>(PERSIST_PATH, 'EntityPersistExecutor', WHY.persist)
    need(typeof Persist.prototype.execute === 'function', 'EntityPersistExecutor.prototype.execute is missing', WHY.persist)
    const Executor = internal<Proto>(SUBJECT_EXECUTOR_PATH, 'SubjectExecutor', WHY.inserted)
    need(typeof Executor.prototype.broadcastAfterEventsForAll === 'function', 'SubjectExecutor.prototype.broadcastAfterEventsForAll is missing', WHY.inserted)
    const { EntityManager } = require('typeorm') as Record<string, Proto>
    need(typeof EntityManager?.prototype.clear === 'function', 'EntityManager.prototype.clear is missing', WHY.clear)
    const Builder = internal<Proto>(METADATA_BUILDER_PATH, 'ConnectionMetadataBuilder', WHY.subscribers)
    need(typeof Builder.prototype.buildSubscribers === 'function', 'ConnectionMetadataBuilder.prototype.buildSubscribers is missing', WHY.subscribers)
  })

  it('InsertQueryBuilder has getValueSets', () => {
    const { InsertQueryBuilder } = require('typeorm') as Record<string, Proto>
    need(
      typeof InsertQueryBuilder!.prototype.getValueSets === 'function',
      'InsertQueryBuilder.prototype.getValueSets is missing',
      WHY.valueSets,
    )
  })

  it('RawSqlResultsToEntityTransformer.prototype.transform and DriverUtils.buildAlias exist', () => {
    const Transformer = internal<Proto>(TRANSFORMER_PATH, 'RawSqlResultsToEntityTransformer', WHY.transformer)
    need(typeof Transformer.prototype.transform === 'function', 'RawSqlResultsToEntityTransformer.prototype.transform is missing', WHY.transformer)
    need((Transformer.prototype.transform as Function).length === 2, 'RawSqlResultsToEntityTransformer.prototype.transform no longer takes (rawResults, alias)', WHY.transformer)
    const DriverUtils = internal<{ buildAlias?: unknown }>(DRIVER_UTILS_PATH, 'DriverUtils', WHY.transformer)
    need(typeof DriverUtils.buildAlias === 'function', 'DriverUtils.buildAlias is missing', WHY.transformer)
  })
})

// ---------------------------------------------------------------------------
// Behavioural checks, on a real database
// ---------------------------------------------------------------------------

interface AfterLoadCall {
  instance: boolean
  internal: boolean
  event: LoadEvent<Item> | undefined
}
const calls: AfterLoadCall[] = []
let isInternalLoad: () => boolean = () => false

@Entity('int_item')
class Item {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @Column({ default: 0 }) visits!: number
  @CreateDateColumn() createdAt!: Date
  @UpdateDateColumn() updatedAt!: Date
  @VersionColumn() version!: number
  @DeleteDateColumn() deletedAt!: Date | null
  events: string[] = []

  _eventAction(timing: string, type: string) {
    this.events.push(`${timing} ${type}`)
  }
}

/** A plain TypeORM subscriber next to the library's: sees every afterLoad TypeORM broadcasts. */
@EventSubscriber()
class Probe implements EntitySubscriberInterface<Item> {
  listenTo() {
    return Item
  }
  afterLoad(entity: Item, event?: LoadEvent<Item>) {
    calls.push({ instance: entity instanceof Item, internal: isInternalLoad(), event })
  }
}

describe(`TypeORM internals, behaviour (TypeORM ${TYPEORM_VERSION})`, () => {
  let ds: DataSource
  let lib: typeof Lib

  beforeAll(async () => {
    lib = require('../../src') as typeof Lib
    isInternalLoad = (require('../../src/typeorm/internal-work') as typeof Internals).isInternalLoad
    const db = require('../support/database') as typeof Db
    ds = await db.openDataSource([Item], {}, { subscribers: [Probe] })
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('int_item')}`)
    calls.length = 0
  })

  const names = async () =>
    (await ds.query(`SELECT ${ds.driver.escape('name')} AS n FROM ${ds.driver.escape('int_item')} ORDER BY 1`)).map(
      (r: { n: string }) => r.n,
    )

  it('afterLoad receives an event with metadata, queryRunner and manager', async () => {
    const repo = ds.getRepository(Item)
    await repo.save(repo.create({ name: 'a' }))
    calls.length = 0
    const [found] = await repo.find()
    need(calls.length === 1, `afterLoad was called ${calls.length} times for one found row, expected once`, WHY.afterLoad)
    const event = calls[0]!.event
    need(event !== undefined, 'afterLoad no longer receives an event argument', WHY.afterLoad)
    need(event!.metadata === repo.metadata, 'LoadEvent.metadata is missing or is not the entity metadata', WHY.afterLoad)
    need(typeof event!.queryRunner?.query === 'function', 'LoadEvent.queryRunner is missing', WHY.afterLoad)
    need(typeof event!.manager?.find === 'function', 'LoadEvent.manager is missing', WHY.afterLoad)
    need(event!.entity === found, 'LoadEvent.entity is not the loaded instance', WHY.afterLoad)
    // ...and the library turned it into Pre/Post Load on the instance the caller got.
    expect(found!.events).toEqual(['Pre Load', 'Post Load'])
  })

  it('save()/softRemove()/recover()/remove() reload through SubjectDatabaseEntityLoader.load, marked internal', async () => {
    const Loader = internal<Proto>(LOADER_PATH, 'SubjectDatabaseEntityLoader', WHY.loader)
    const repo = ds.getRepository(Item)
    const item = await repo.save(repo.create({ name: 'a' }))
    const spy = jest.spyOn(Loader.prototype as { load: () => Promise<void> }, 'load')
    try {
      calls.length = 0
      item.events = []
      item.name = 'b'
      await repo.save(item)
      need(spy.mock.calls.length > 0, 'save() no longer calls SubjectDatabaseEntityLoader.prototype.load', WHY.loader)
      const leaked = calls.filter((c) => c.instance && !c.internal)
      need(
        leaked.length === 0,
        `save() broadcast afterLoad for ${leaked.length} entity instance(s) outside SubjectDatabaseEntityLoader.load`,
        WHY.loader,
      )
      // TypeORM does broadcast afterLoad for the reload: the marker is what keeps it from being a Load.
      expect(calls.filter((c) => c.internal).length).toBeGreaterThan(0)
      expect(item.events).toEqual(['Pre Update', 'Post Update'])
      expect(item.version).toBe(2)

      calls.length = 0
      spy.mockClear()
      item.events = []
      await repo.softRemove(item)
      await repo.recover(item)
      await repo.remove(item)
      need(spy.mock.calls.length >= 3, 'softRemove()/recover()/remove() no longer call SubjectDatabaseEntityLoader.prototype.load', WHY.loader)
      const leakedOnRemove = calls.filter((c) => c.instance && !c.internal)
      need(
        leakedOnRemove.length === 0,
        `softRemove()/recover()/remove() broadcast afterLoad for ${leakedOnRemove.length} instance(s) outside SubjectDatabaseEntityLoader.load`,
        WHY.loader,
      )
      expect(item.events).toEqual(['Pre Delete', 'Post Delete', 'Pre Update', 'Post Update', 'Pre Delete', 'Post Delete'])
      expect(await names()).toEqual([])
    } finally {
      spy.mockRestore()
    }
    // The marker is scoped to the reload: it is off again afterwards.
    expect(isInternalLoad()).toBe(false)
  })

  it('transform(rawResults, alias) sees the selected column aliases, and afterLoad follows it in the same turn', async () => {
    const Transformer = internal<Proto>(TRANSFORMER_PATH, 'RawSqlResultsToEntityTransformer', WHY.transformer)
    const { DriverUtils } = require(DRIVER_UTILS_PATH) as {
      DriverUtils: { buildAlias: (driver: unknown, options: undefined, ...alias: string[]) => string }
    }
    const repo = ds.getRepository(Item)
    await repo.save(repo.create({ name: 'a' }))
    calls.length = 0
    type Seen = { rawResults: Record<string, unknown>[]; alias: { name: string; hasMetadata: boolean; metadata: unknown }; self: Record<string, unknown> }
    const seen: Seen[] = []
    const order: string[] = []
    let sameTurn = false
    const proto = Transformer.prototype as unknown as { transform: (this: Record<string, unknown>, ...args: unknown[]) => unknown }
    const original = proto.transform
    const spy = jest.spyOn(proto, 'transform').mockImplementation(function (this: Record<string, unknown>, ...args: unknown[]) {
      seen.push({ rawResults: args[0] as Seen['rawResults'], alias: args[1] as Seen['alias'], self: this })
      order.push('transform')
      sameTurn = true
      queueMicrotask(() => (sameTurn = false))
      return original.apply(this, args)
    })
    const probeLoad = Probe.prototype.afterLoad
    const probe = jest.spyOn(Probe.prototype, 'afterLoad').mockImplementation(function (this: Probe, entity, event) {
      order.push(sameTurn ? 'afterLoad (same turn)' : 'afterLoad (later turn)')
      return probeLoad.call(this, entity, event)
    })
    try {
      const found = await repo.find({ select: { id: true, name: true } })
      expect(found).toHaveLength(1)
      need(seen.length === 1, `find() called RawSqlResultsToEntityTransformer.transform ${seen.length} times, expected once`, WHY.transformer)
      const { rawResults, alias, self } = seen[0]!
      need(Array.isArray(rawResults) && rawResults.length === 1, 'transform() no longer receives the raw rows as its first argument', WHY.transformer)
      need(typeof alias?.name === 'string' && alias.hasMetadata === true, 'transform() no longer receives the alias (name, hasMetadata) as its second argument', WHY.transformer)
      need(alias.metadata === repo.metadata, 'the alias passed to transform() no longer carries the entity metadata', WHY.transformer)
      need(typeof self.buildAlias === 'function' || self.driver === ds.driver, 'RawSqlResultsToEntityTransformer has neither buildAlias() nor driver', WHY.transformer)
      const keyOf = (column: string) => DriverUtils.buildAlias(ds.driver, undefined, alias.name, column)
      const selected = repo.metadata.columns.filter((c) => rawResults[0]![keyOf(c.databaseName)] !== undefined).map((c) => c.propertyName)
      need(
        JSON.stringify(selected.sort()) === JSON.stringify(['id', 'name']),
        `the raw rows no longer hold selected columns under DriverUtils.buildAlias(alias, column) (found ${JSON.stringify(selected)} for select id, name; keys ${JSON.stringify(Object.keys(rawResults[0]!))})`,
        WHY.transformer,
      )
      need(
        JSON.stringify(order) === JSON.stringify(['transform', 'afterLoad (same turn)']),
        `afterLoad no longer runs synchronously right after transform (saw ${JSON.stringify(order)})`,
        WHY.transformer,
      )
      expect(found[0]!.events).toEqual(['Pre Load', 'Post Load'])
    } finally {
      spy.mockRestore()
      probe.mockRestore()
    }
  })

  it('the generated values read back after INSERT come as plain objects, never as instances', async () => {
    const repo = ds.getRepository(Item)
    const item = repo.create({ name: 'a' })
    await repo.save(item)
    // The values were read back (or returned): TypeORM filled them in...
    expect(item.version).toBe(1)
    expect(item.visits).toBe(0)
    expect(item.createdAt).toBeInstanceOf(Date)
    // ...without broadcasting an afterLoad the library would take for a user's load.
    const instances = calls.filter((c) => c.instance && !c.internal)
    need(
      instances.length === 0,
      `save() of a new entity broadcast afterLoad for ${instances.length} entity instance(s) while reading back generated ` +
        `values (ReturningResultsEntityUpdator no longer uses setOption('create-pojo')?)`,
      WHY.pojo,
    )
    expect(item.events).toEqual(['Pre Insert', 'Post Insert'])
  })

  it('save()/remove() run their write QueryBuilders with listeners off; repository bulk writes reach the guard', async () => {
    const seen: string[] = []
    const spies = writeBuilders().map(([name, cls]) => {
      const proto = cls.prototype as unknown as { execute: Execute }
      const original = proto.execute
      return jest.spyOn(proto, 'execute').mockImplementation(function (this: Builder) {
        seen.push(`${name} listeners=${this.expressionMap.callListeners}`)
        return original.call(this)
      })
    })
    try {
      const repo = ds.getRepository(Item)
      const item = await repo.save(repo.create({ name: 'a' }))
      item.name = 'b'
      await repo.save(item)
      await repo.softRemove(item)
      await repo.recover(item)
      await repo.remove(item)
      need(seen.length > 0, 'save()/remove() no longer run through the write QueryBuilders', WHY.execute)
      const listening = seen.filter((s) => s.endsWith('listeners=true'))
      need(
        listening.length === 0,
        `save()/remove() ran write QueryBuilders with listeners on (${listening.join(', ')}); the bulk-write guard would refuse them`,
        WHY.execute,
      )

      // The repository bulk writes reach the patched execute() with listeners on, and run with events
      // (their own statements run with listeners off).
      const kept = await repo.save(repo.create({ name: 'kept' }))
      seen.length = 0
      await repo.update({ id: kept.id }, { name: 'x' })
      await repo.softDelete({ id: kept.id })
      await repo.restore({ id: kept.id })
      await repo.insert({ name: 'plain object' })
      await repo.delete({ name: 'plain object' })
      expect(seen.filter((s) => s.endsWith('listeners=true'))).toEqual([
        'UpdateQueryBuilder listeners=true',
        'SoftDeleteQueryBuilder listeners=true',
        'SoftDeleteQueryBuilder listeners=true',
        'InsertQueryBuilder listeners=true',
        'DeleteQueryBuilder listeners=true',
      ])
      expect(await names()).toEqual(['x'])
      const row = await repo.findOneByOrFail({ id: kept.id })
      expect(row.deletedAt).toBeNull()
      expect(row.events).toEqual(['Pre Load', 'Post Load'])
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })

  it('expressionMap has callListeners, useTransaction and mainAlias; getValueSets() returns the rows to insert', async () => {
    const repo = ds.getRepository(Item)
    const a = repo.create({ name: 'a' })
    const qb = repo.createQueryBuilder().insert().values([a, { name: 'b' }]) as unknown as {
      expressionMap: Record<string, unknown> & { mainAlias?: { hasMetadata: boolean; metadata: unknown } }
      getValueSets: () => unknown[]
      callListeners: (on: boolean) => unknown
    }
    const map = qb.expressionMap
    need(typeof map.callListeners === 'boolean', 'QueryExpressionMap.callListeners is missing', WHY.expressionMap)
    need(typeof map.useTransaction === 'boolean', 'QueryExpressionMap.useTransaction is missing', WHY.expressionMap)
    need(map.mainAlias !== undefined, 'QueryExpressionMap.mainAlias is missing', WHY.expressionMap)
    need(map.mainAlias!.hasMetadata === true, 'QueryExpressionMap.mainAlias.hasMetadata is missing or false', WHY.expressionMap)
    need(map.mainAlias!.metadata === repo.metadata, 'QueryExpressionMap.mainAlias.metadata is not the entity metadata', WHY.expressionMap)
    expect(map.callListeners).toBe(true)
    qb.callListeners(false)
    need(map.callListeners === false, '.callListeners(false) no longer sets expressionMap.callListeners', WHY.expressionMap)

    const sets = qb.getValueSets()
    need(Array.isArray(sets) && sets.length === 2, 'InsertQueryBuilder.getValueSets() no longer returns the value sets', WHY.valueSets)
    expect(sets[0]).toBe(a)
    expect(sets[1]).toEqual({ name: 'b' })
    expect(sets[1]).not.toBeInstanceOf(Item)

    // The guard makes insert() of an instance transactional by setting expressionMap.useTransaction.
    const { InsertQueryBuilder } = require('typeorm') as Record<string, Proto>
    const proto = InsertQueryBuilder!.prototype as unknown as { execute: Execute }
    const original = proto.execute
    const used: boolean[] = []
    const spy = jest.spyOn(proto, 'execute').mockImplementation(async function (this: Builder) {
      const result = await original.call(this)
      used.push(this.expressionMap.useTransaction)
      return result
    })
    try {
      const ok = repo.create({ name: 'inserted' })
      await repo.insert(ok)
      expect(ok.events).toEqual(['Pre Insert', 'Post Insert'])
      need(used.length === 1 && used[0] === true, 'insert() did not run with expressionMap.useTransaction = true', WHY.expressionMap)
    } finally {
      spy.mockRestore()
    }
    expect(await names()).toEqual(['inserted'])
  })

  it('what bulk writes with events read: the builders\' WHERE and values, the broadcaster, BroadcasterResult', async () => {
    const repo = ds.getRepository(Item)
    const update = repo.createQueryBuilder().update().set({ name: 'x', visits: () => 'visits + 1' }).where('name = :n', { n: 'a' }) as unknown as Builder & {
      expressionMap: Record<string, unknown>
    }
    const map = update.expressionMap
    need(Array.isArray(map.wheres) && (map.wheres as unknown[]).length === 1, 'UpdateQueryBuilder expressionMap.wheres is missing', WHY.bulk)
    need((map.parameters as Record<string, unknown>).n === 'a', 'expressionMap.parameters is missing', WHY.bulk)
    need(typeof map.orderBys === 'object', 'expressionMap.orderBys is missing', WHY.bulk)
    need((map.valuesSet as Record<string, unknown>).name === 'x', 'UpdateQueryBuilder expressionMap.valuesSet is missing', WHY.bulk)
    need(map.aliasNamePrefixingEnabled === false, 'UPDATE conditions are no longer written without an alias prefix', WHY.bulk)
    const upsert = repo.createQueryBuilder().insert().values({ name: 'a' }).orUpdate(['name'], ['id']) as unknown as { expressionMap: { onUpdate?: { conflict?: unknown; overwrite?: unknown } } }
    need(JSON.stringify(upsert.expressionMap.onUpdate?.conflict) === '["id"]', 'expressionMap.onUpdate.conflict is missing', WHY.bulk)
    need(JSON.stringify(upsert.expressionMap.onUpdate?.overwrite) === '["name"]', 'expressionMap.onUpdate.overwrite is missing', WHY.bulk)
    const queryRunner = ds.createQueryRunner()
    try {
      const broadcaster = queryRunner.broadcaster as unknown as Record<string, unknown>
      for (const when of ['Before', 'After']) {
        for (const kind of ['Update', 'Remove', 'SoftRemove', 'Recover']) {
          need(typeof broadcaster[`broadcast${when}${kind}Event`] === 'function', `Broadcaster.broadcast${when}${kind}Event is missing`, WHY.bulk)
        }
      }
    } finally {
      await queryRunner.release()
    }
    internal('typeorm/subscriber/BroadcasterResult', 'BroadcasterResult', WHY.bulk)
    const updater = internal<Proto>('typeorm/query-builder/RelationUpdater', 'RelationUpdater', WHY.bulk)
    const remover = internal<Proto>('typeorm/query-builder/RelationRemover', 'RelationRemover', WHY.bulk)
    need(typeof updater.prototype.update === 'function', 'RelationUpdater.prototype.update is missing', WHY.bulk)
    need(typeof remover.prototype.remove === 'function', 'RelationRemover.prototype.remove is missing', WHY.bulk)
    need(typeof (ds.driver as unknown as Record<string, unknown>).prepareHydratedValue === 'function', 'driver.prepareHydratedValue is missing', WHY.bulk)
  })
})

/**
 * A save()/remove() that rejects inside the caller's own transaction leaves
 * nothing of its own, whether or not the caller catches (issue 17, item 9):
 * caught, it makes the transaction rollback-only (COMMIT fails with
 * TransactionRollbackOnlyError, nothing is kept); in a nested transaction (a
 * savepoint) it leaves no row change, no audit entry and no after-commit
 * callback, and the rest of the transaction commits.
 */
import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { AuditEntry, Audited, EventActionTiming, EventActionType, SoftError, TransactionRollbackOnlyError, type EventActionContext } from '../../src'
import { DB, openDataSource } from '../support/database'

const { Post } = EventActionTiming

/** After-commit callbacks that ran. */
const committed: string[] = []
/** `'<type> <title>'` pairs whose Post handler throws, after the row was written. */
const refused = new Set<string>()

@Audited()
@Entity('atomic_note')
class Note {
  @PrimaryGeneratedColumn() id!: number
  @Column() title!: string
  @ManyToOne(() => Folder, (f) => f.notes, { nullable: true, onDelete: 'CASCADE' }) folder?: Folder | null

  _eventAction(timing: EventActionTiming, type: EventActionType, _group: unknown, ctx: EventActionContext<Note>) {
    if (timing !== Post || type === EventActionType.Load) return
    ctx.afterCommit(() => committed.push(`${type} ${this.title}`))
    if (refused.has(`${type} ${this.title}`)) throw new SoftError(`${this.title}: ${type} refused`)
  }
}

@Entity('atomic_folder')
class Folder {
  @PrimaryGeneratedColumn() id!: number
  @Column() name!: string
  @OneToMany(() => Note, (n) => n.folder, { cascade: true }) notes!: Note[]
}

describe(`a rejected write inside the caller's transaction (${DB})`, () => {
  let ds: DataSource
  beforeAll(async () => {
    ds = await openDataSource([Note, Folder])
  })
  afterAll(() => ds?.destroy())
  beforeEach(async () => {
    await ds.query(`DELETE FROM ${ds.driver.escape('atomic_note')}`)
    await ds.query(`DELETE FROM ${ds.driver.escape('atomic_folder')}`)
    await ds.query(`DELETE FROM ${ds.driver.escape('audit_entry')}`)
    committed.length = 0
    refused.clear()
  })

  const titles = async () => (await ds.manager.find(Note, { order: { title: 'ASC' } })).map((n) => n.title)
  /** The audit trail as `'<operation> <id>'`, oldest first. */
  const trail = async () => (await ds.manager.find(AuditEntry, { order: { id: 'ASC' } })).map((e) => `${e.operation} ${e.entityId}`)
  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    )
  const note = (title: string) => Object.assign(new Note(), { title })

  it('an insert whose Post handler throws, caught by the caller: COMMIT is refused and nothing of the transaction is kept', async () => {
    refused.add('Insert bad')
    const error = await rejection(
      ds.transaction(async (manager) => {
        await manager.save(note('good'))
        expect(await rejection(manager.save(note('bad')))).toBeInstanceOf(SoftError)
        await manager.save(note('good too'))
      }),
    )
    expect(error).toBeInstanceOf(TransactionRollbackOnlyError)
    expect((error as TransactionRollbackOnlyError).name).toBe('TransactionRollbackOnlyError')
    expect((error as TransactionRollbackOnlyError).entityName).toBe('Note')
    expect((error as Error).cause).toBeInstanceOf(SoftError)
    expect((error as Error).message).toMatch(/a save\(\) of Note failed inside it \(SoftError: bad: Insert refused\).*manager\.transaction\(\(inner\) => inner\.save/)
    expect(await titles()).toEqual([])
    expect(await trail()).toEqual([])
    expect(committed).toEqual([])
  })

  it('the failing insert in a nested transaction (a savepoint), caught: the others commit, it leaves nothing', async () => {
    refused.add('Insert bad')
    let good!: Note
    let goodToo!: Note
    await ds.transaction(async (manager) => {
      good = await manager.save(note('good'))
      expect(await rejection(manager.transaction((inner) => inner.save(note('bad'))))).toBeInstanceOf(SoftError)
      goodToo = await manager.save(note('good too'))
    })
    expect(await titles()).toEqual(['good', 'good too'])
    expect(await trail()).toEqual([`insert ${good.id}`, `insert ${goodToo.id}`])
    expect(committed).toEqual(['Insert good', 'Insert good too'])
  })

  it('an update and a remove whose Post handler throws, each in a nested transaction: the rows keep their committed state', async () => {
    const kept = await ds.manager.save(note('kept'))
    const doomed = await ds.manager.save(note('doomed'))
    committed.length = 0
    refused.add('Update renamed').add('Delete doomed')
    await ds.transaction(async (manager) => {
      const k = await manager.findOneByOrFail(Note, { id: kept.id })
      k.title = 'renamed'
      expect(await rejection(manager.transaction((inner) => inner.save(k)))).toBeInstanceOf(SoftError)
      const d = await manager.findOneByOrFail(Note, { id: doomed.id })
      expect(await rejection(manager.transaction((inner) => inner.remove(d)))).toBeInstanceOf(SoftError)
    })
    expect(await titles()).toEqual(['doomed', 'kept'])
    expect(await trail()).toEqual([`insert ${kept.id}`, `insert ${doomed.id}`])
    expect(committed).toEqual([])
  })

  it('an update and a remove that fail and are caught without a nested transaction: COMMIT is refused, the rows stay as committed', async () => {
    const kept = await ds.manager.save(note('kept'))
    const doomed = await ds.manager.save(note('doomed'))
    committed.length = 0
    refused.add('Update renamed').add('Delete doomed')
    for (const write of ['update', 'remove'] as const) {
      const error = await rejection(
        ds.transaction(async (manager) => {
          if (write === 'update') {
            const k = await manager.findOneByOrFail(Note, { id: kept.id })
            k.title = 'renamed'
            await rejection(manager.save(k))
          } else {
            await rejection(manager.remove(await manager.findOneByOrFail(Note, { id: doomed.id })))
          }
        }),
      )
      expect((error as Error).name).toBe('TransactionRollbackOnlyError')
      expect((error as Error).message).toContain(`a ${write === 'update' ? 'save' : 'remove'}() of Note failed`)
    }
    expect(await titles()).toEqual(['doomed', 'kept'])
    expect(await trail()).toEqual([`insert ${kept.id}`, `insert ${doomed.id}`])
    expect(committed).toEqual([])
  })

  it('a cascade save that fails in a child, in a nested transaction: neither the parent nor any child is kept, the transaction goes on', async () => {
    refused.add('Insert second')
    await ds.transaction(async (manager) => {
      const folder = Object.assign(new Folder(), { name: 'f', notes: [note('first'), note('second')] })
      expect(await rejection(manager.transaction((inner) => inner.save(folder)))).toBeInstanceOf(SoftError)
      await manager.save(note('after'))
    })
    expect(await ds.manager.count(Folder)).toBe(0)
    expect(await titles()).toEqual(['after'])
    expect(committed).toEqual(['Insert after'])
  })

  it('a hand-started query runner: commitTransaction() rejects after a caught failure, and rollback leaves nothing', async () => {
    refused.add('Insert bad')
    const queryRunner = ds.createQueryRunner()
    try {
      await queryRunner.startTransaction()
      await queryRunner.manager.save(note('good'))
      await rejection(queryRunner.manager.save(note('bad')))
      expect(await rejection(queryRunner.commitTransaction())).toBeInstanceOf(TransactionRollbackOnlyError)
      await queryRunner.rollbackTransaction()
    } finally {
      await queryRunner.release()
    }
    expect(await titles()).toEqual([])
    expect(committed).toEqual([])
  })

  it('the caller that does not catch still rolls everything back, with the write\'s own error', async () => {
    refused.add('Insert bad')
    const error = await rejection(
      ds.transaction(async (manager) => {
        await manager.save(note('good'))
        await manager.save(note('bad'))
      }),
    )
    expect(error).toBeInstanceOf(SoftError)
    expect(await titles()).toEqual([])
    expect(await trail()).toEqual([])
    expect(committed).toEqual([])
  })
})

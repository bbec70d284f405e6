import {
  IsEmail,
  IsOptional,
  Length,
  Matches,
  MaxLength,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import {
  EntityValidationError,
  EventActionOptions,
  EventActionTiming,
  EventActionType,
  inGroup,
  SoftError,
  type AttributeGroup,
  type EventActionContext,
} from '../../src'
import { countRows, DB, openDataSource } from '../support/database'
import { record, recorded, resetRecorded } from '../support/recorder'

const { Pre, Post } = EventActionTiming
const { Insert, Update } = EventActionType

const POSTCODE = /^[A-Z]{2}\d \d[A-Z]{2}$/

/** Pre Insert/Update formats the postcode; a postcode that is not formatted fails @Matches. */
function formatPostcode(entity: { postcode: string | null }, timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
  if (timing === Pre && (type === Insert || type === Update) && group?.has('postcode') && typeof entity.postcode === 'string') {
    entity.postcode = entity.postcode.trim().toUpperCase()
  }
}

class ValAddress {
  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @Matches(POSTCODE, { message: 'address postcode must look like AB1 2CD' })
  postcode!: string | null

  @Column({ type: 'varchar', nullable: true })
  city!: string | null
}

@Entity('val_account')
class ValAccount {
  @PrimaryGeneratedColumn() id!: number

  @Column()
  @Length(3, 20, { message: 'name must be 3 to 20 characters' })
  @Matches(/^[a-z ]+$/, { message: 'name must be lowercase letters' })
  name!: string

  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @Matches(POSTCODE, { message: 'postcode must look like AB1 2CD' })
  postcode!: string | null

  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string | null

  /** Derived from name by the Pre handler: a change the caller did not make. Shorter than a name may be. */
  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @MaxLength(10, { message: 'slug must be at most 10 characters' })
  @Matches(/^[a-z-]+$/, { message: 'slug must be lowercase letters and dashes' })
  slug!: string | null

  @Column(() => ValAddress)
  @ValidateNested()
  address!: ValAddress

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`ValAccount#${this.id ?? 'new'}`, timing, type, group)
    formatPostcode(this, timing, type, group)
    if (timing === Pre && (type === Insert || type === Update) && inGroup(this, 'name', group)) {
      this.slug = this.name.replace(/ /g, '-')
    }
  }
}

/** Same rules, but validation switched off for this entity. */
@Entity('val_unchecked')
@EventActionOptions({ validate: false })
class ValUnchecked {
  @PrimaryGeneratedColumn() id!: number

  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @Matches(POSTCODE, { message: 'postcode must look like AB1 2CD' })
  postcode!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    record(`ValUnchecked#${this.id ?? 'new'}`, timing, type, group)
  }
}

/** Validation switched on for this entity even where it is off globally. */
@Entity('val_forced')
@EventActionOptions({ validate: true })
class ValForced {
  @PrimaryGeneratedColumn() id!: number

  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @Matches(POSTCODE, { message: 'postcode must look like AB1 2CD' })
  postcode!: string | null

  _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null) {
    formatPostcode(this, timing, type, group)
  }
}

const RESERVED = ['admin', 'root']
let asyncChecks = 0

@ValidatorConstraint({ name: 'notReserved', async: true })
class NotReserved implements ValidatorConstraintInterface {
  async validate(value: unknown): Promise<boolean> {
    asyncChecks++
    await new Promise((resolve) => setTimeout(resolve, 5))
    return typeof value === 'string' && !RESERVED.includes(value)
  }
  defaultMessage(): string {
    return 'login $value is reserved'
  }
}

/** An async class-validator constraint, and an async handler that lowercases the login first. */
@Entity('val_login')
class ValLogin {
  @PrimaryGeneratedColumn() id!: number

  @Column()
  @Validate(NotReserved)
  login!: string

  @Column({ type: 'varchar', nullable: true })
  @IsOptional()
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string | null

  async _eventAction(timing: EventActionTiming, type: EventActionType, group: AttributeGroup | null, ctx: EventActionContext<ValLogin>) {
    record(`ValLogin#${this.id ?? 'new'}`, timing, type, group)
    if (timing === Pre && inGroup(this, 'login', group)) {
      await ctx.manager.query('SELECT 1')
      this.login = this.login.trim().toLowerCase()
    }
  }
}

const entities = [ValAccount, ValUnchecked, ValForced, ValLogin]

function q(ds: DataSource, name: string): string {
  return ds.driver.escape(name)
}

async function rawRow(ds: DataSource, table: string, id: number): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown>[] = await ds.query(`SELECT * FROM ${q(ds, table)} WHERE ${q(ds, 'id')} = ${Number(id)}`)
  expect(rows).toHaveLength(1)
  return rows[0]!
}

/** Writes a value with SQL, past every rule: the "old invalid value" of a row. */
async function rawSet(ds: DataSource, table: string, id: number, column: string, value: string): Promise<void> {
  await ds.query(`UPDATE ${q(ds, table)} SET ${q(ds, column)} = '${value.replace(/'/g, "''")}' WHERE ${q(ds, 'id')} = ${Number(id)}`)
}

async function rejection(promise: Promise<unknown>): Promise<EntityValidationError> {
  try {
    await promise
  } catch (error) {
    return error as EntityValidationError
  }
  throw new Error('expected the write to be rejected')
}

describe(`Validation (${DB})`, () => {
  describe('on by default', () => {
    let ds: DataSource
    beforeAll(async () => {
      ds = await openDataSource(entities, { allowClear: true }) // beforeEach empties the tables with clear()
    })
    afterAll(() => ds.destroy())
    beforeEach(async () => {
      for (const e of entities) await ds.getRepository(e).clear()
      resetRecorded()
      asyncChecks = 0
    })

    const account = (values: Partial<ValAccount>) => ds.getRepository(ValAccount).create({ name: 'ann', ...values })

    it('validates after Pre Insert: a postcode the handler formats passes, and the formatted value is written', async () => {
      const a = account({ postcode: '  ab1 2cd ', address: { postcode: 'AB1 2CD', city: 'x' } })
      await ds.getRepository(ValAccount).save(a)
      const row = await rawRow(ds, 'val_account', a.id)
      expect(row.postcode).toBe('AB1 2CD')
      expect(recorded.map((r) => [r[1], r[2]])).toEqual([
        [Pre, Insert],
        [Post, Insert],
      ])
    })

    it('insert() of an instance is validated too, after its Pre handler', async () => {
      await ds.getRepository(ValAccount).insert(account({ postcode: 'ab1 2cd' }))
      const err = await rejection(ds.getRepository(ValAccount).insert(account({ postcode: 'ab1' })))
      expect(err).toBeInstanceOf(EntityValidationError)
      expect(err.failures.map((f) => f.attribute)).toEqual(['postcode'])
      expect(await countRows(ds, 'val_account')).toBe(1)
    })

    it('a failed Insert throws EntityValidationError listing every failed attribute and its messages; nothing is written, Post does not run', async () => {
      const a = account({ name: 'X1', postcode: ' zz9 ', email: 'not-an-email' })
      const err = await rejection(ds.getRepository(ValAccount).save(a))
      expect(err).toBeInstanceOf(EntityValidationError)
      expect(err).toBeInstanceOf(SoftError)
      expect(err).toMatchObject({ name: 'EntityValidationError', entityName: 'ValAccount', type: Insert, timing: Pre })
      const byAttribute = Object.fromEntries(err.failures.map((f) => [f.attribute, f]))
      // slug is set by the Pre handler from the name ('X1'): judged as well.
      expect(Object.keys(byAttribute).sort()).toEqual(['email', 'name', 'postcode', 'slug'])
      expect(byAttribute.name!.constraints.sort()).toEqual(['name must be 3 to 20 characters', 'name must be lowercase letters'])
      expect(byAttribute.email!.constraints).toEqual(['email must be an email address'])
      expect(byAttribute.postcode!.constraints).toEqual(['postcode must look like AB1 2CD'])
      // The value judged is the one the Pre handler left.
      expect(byAttribute.postcode!.value).toBe('ZZ9')
      expect(err.message).toContain('email must be an email address')
      expect(err.message).toContain('postcode must look like AB1 2CD')
      expect(err.message).toContain('name must be lowercase letters')
      expect(recorded.map((r) => [r[1], r[2]])).toEqual([[Pre, Insert]])
      expect(await countRows(ds, 'val_account')).toBe(0)
    })

    it('embedded attributes are judged with their dotted path', async () => {
      const a = account({ address: { postcode: 'nowhere', city: 'x' } })
      const err = await rejection(ds.getRepository(ValAccount).save(a))
      expect(err).toBeInstanceOf(EntityValidationError)
      expect(err.failures.map((f) => f.attribute)).toEqual(['address.postcode'])
      expect(err.failures[0]!.constraints).toEqual(['address postcode must look like AB1 2CD'])
      expect(await countRows(ds, 'val_account')).toBe(0)
    })

    it('a failure in one entity of a multi-entity save writes none of them', async () => {
      const good = account({ name: 'good' })
      const bad = account({ name: 'bad', email: 'nope' })
      await expect(ds.getRepository(ValAccount).save([good, bad])).rejects.toBeInstanceOf(EntityValidationError)
      expect(await countRows(ds, 'val_account')).toBe(0)
    })

    describe('on Update', () => {
      let id: number
      beforeEach(async () => {
        const a = account({ name: 'ann', email: 'ann@example.com', postcode: 'AB1 2CD' })
        await ds.getRepository(ValAccount).save(a)
        id = a.id
        resetRecorded()
      })

      it('an old invalid value in an untouched column does not block an unrelated change', async () => {
        await rawSet(ds, 'val_account', id, 'email', 'broken@@')
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        expect(a.email).toBe('broken@@')
        a.postcode = 'cd3 4ef'
        await ds.getRepository(ValAccount).save(a)
        const row = await rawRow(ds, 'val_account', id)
        expect(row.postcode).toBe('CD3 4EF')
        expect(row.email).toBe('broken@@')
        expect(recorded.filter((r) => r[2] === Update).map((r) => [r[1], r[3]])).toEqual([
          [Pre, ['postcode']],
          [Post, ['postcode']],
        ])
      })

      it('an old invalid embedded value does not block an unrelated change', async () => {
        await rawSet(ds, 'val_account', id, 'addressPostcode', 'bad code')
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        expect(a.address.postcode).toBe('bad code')
        a.email = 'new@example.com'
        await ds.getRepository(ValAccount).save(a)
        expect((await rawRow(ds, 'val_account', id)).email).toBe('new@example.com')
      })

      it('the changed attributes are judged: an invalid change throws and nothing is written', async () => {
        await rawSet(ds, 'val_account', id, 'postcode', 'old bad')
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        a.email = 'nope'
        const err = await rejection(ds.getRepository(ValAccount).save(a))
        expect(err).toBeInstanceOf(EntityValidationError)
        expect(err).toMatchObject({ entityName: 'ValAccount', type: Update, timing: Pre, attribute: 'email' })
        // Only what the event writes is judged: not the old invalid postcode.
        expect(err.failures).toEqual([
          {
            attribute: 'email',
            value: 'nope',
            constraints: ['email must be an email address'],
            // The key and params a translation needs (IsEmail's one argument is its options object, which validator.js fills in).
            violations: [
              {
                constraint: 'isEmail',
                key: 'validation.isEmail',
                params: { attribute: 'email', value: 'nope', entityName: 'ValAccount', constraint1: expect.any(Object) },
                message: 'email must be an email address',
              },
            ],
          },
        ])
        expect(recorded.filter((r) => r[2] === Update).map((r) => r[1])).toEqual([Pre])
        const row = await rawRow(ds, 'val_account', id)
        expect(row.email).toBe('ann@example.com')
        expect(row.postcode).toBe('old bad')
      })

      it('an invalid change to an embedded attribute is judged', async () => {
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        a.address.postcode = 'nowhere'
        const outcome = await ds.getRepository(ValAccount).save(a).then(
          () => 'saved',
          (error: unknown) => error,
        )
        // The event's group names the embedded attribute by its dotted path...
        expect(recorded.filter((r) => r[2] === Update)[0]).toEqual([`ValAccount#${id}`, Pre, Update, ['address.postcode']])
        // ...so it must be judged: nothing written, EntityValidationError naming it.
        expect((await rawRow(ds, 'val_account', id)).addressPostcode).toBeNull()
        expect(outcome).toBeInstanceOf(EntityValidationError)
        expect((outcome as EntityValidationError).failures).toEqual([
          {
            attribute: 'address.postcode',
            value: 'nowhere',
            constraints: ['address postcode must look like AB1 2CD'],
            // The rule is declared on the embedded class: its pattern is found there.
            violations: [
              {
                constraint: 'matches',
                key: 'validation.matches',
                params: { attribute: 'address.postcode', value: 'nowhere', entityName: 'ValAccount', constraint1: POSTCODE },
                message: 'address postcode must look like AB1 2CD',
              },
            ],
          },
        ])
      })

      it('Pre Update formatting happens before validation', async () => {
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        a.postcode = ' gh5 6ij'
        await ds.getRepository(ValAccount).save(a)
        expect((await rawRow(ds, 'val_account', id)).postcode).toBe('GH5 6IJ')
      })

      it('an attribute changed by the Pre handler IS judged, though the caller did not touch it', async () => {
        await rawSet(ds, 'val_account', id, 'email', 'broken@@')
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        a.name = 'mary ann'
        await ds.getRepository(ValAccount).save(a)
        expect(await rawRow(ds, 'val_account', id)).toMatchObject({ name: 'mary ann', slug: 'mary-ann', email: 'broken@@' })

        // A valid name (14 characters) from which the handler derives a slug that is too long.
        const b = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        b.name = 'mary ann smith'
        resetRecorded()
        const err = await rejection(ds.getRepository(ValAccount).save(b))
        expect(err).toBeInstanceOf(EntityValidationError)
        expect(err).toMatchObject({ type: Update, timing: Pre, attribute: 'slug' })
        // slug is judged; the old invalid email (untouched) is not.
        expect(err.failures).toEqual([
          {
            attribute: 'slug',
            value: 'mary-ann-smith',
            constraints: ['slug must be at most 10 characters'],
            violations: [
              {
                constraint: 'maxLength',
                key: 'validation.maxLength',
                params: { attribute: 'slug', value: 'mary-ann-smith', entityName: 'ValAccount', constraint1: 10 },
                message: 'slug must be at most 10 characters',
              },
            ],
          },
        ])
        expect(recorded.map((r) => [r[1], r[2], r[3]])).toEqual([[Pre, Update, ['name']]])
        expect(await rawRow(ds, 'val_account', id)).toMatchObject({ name: 'mary ann', slug: 'mary-ann' })
      })

      it('a value the caller sets is judged after the Pre handler overwrote it', async () => {
        const a = await ds.getRepository(ValAccount).findOneByOrFail({ id })
        a.name = 'bob'
        a.slug = 'Not Valid At All' // the handler replaces it with a valid one before validation
        await ds.getRepository(ValAccount).save(a)
        expect(await rawRow(ds, 'val_account', id)).toMatchObject({ name: 'bob', slug: 'bob' })
      })
    })

    it('async class-validator constraints work, after an async Pre handler', async () => {
      const ok = ds.getRepository(ValLogin).create({ login: ' Alice ' })
      await ds.getRepository(ValLogin).save(ok)
      expect((await rawRow(ds, 'val_login', ok.id)).login).toBe('alice')
      expect(asyncChecks).toBeGreaterThan(0)

      const reserved = ds.getRepository(ValLogin).create({ login: ' ADMIN', email: 'bad' })
      const err = await rejection(ds.getRepository(ValLogin).save(reserved))
      expect(err).toBeInstanceOf(EntityValidationError)
      expect(err).toMatchObject({ entityName: 'ValLogin', type: Insert, timing: Pre })
      expect(err.failures.map((f) => [f.attribute, f.constraints])).toEqual([
        ['login', ['login admin is reserved']],
        ['email', ['email must be an email address']],
      ])
      expect(await countRows(ds, 'val_login')).toBe(1)
    })

    it('async constraints judge Updates too, and only the changed attributes', async () => {
      const u = ds.getRepository(ValLogin).create({ login: 'bob' })
      await ds.getRepository(ValLogin).save(u)
      await rawSet(ds, 'val_login', u.id, 'email', 'broken')
      await rawSet(ds, 'val_login', u.id, 'login', 'root')

      // login 'root' is reserved, but untouched: a change of email alone is judged on its own.
      const a = await ds.getRepository(ValLogin).findOneByOrFail({ id: u.id })
      a.email = 'bob@example.com'
      await ds.getRepository(ValLogin).save(a)
      expect((await rawRow(ds, 'val_login', u.id)).email).toBe('bob@example.com')

      const b = await ds.getRepository(ValLogin).findOneByOrFail({ id: u.id })
      b.login = 'Admin'
      const err = await rejection(ds.getRepository(ValLogin).save(b))
      expect(err).toBeInstanceOf(EntityValidationError)
      expect(err.failures.map((f) => f.attribute)).toEqual(['login'])
      expect((await rawRow(ds, 'val_login', u.id)).login).toBe('root')
    })

    it('Delete and Load are not validated: a row with invalid values loads and removes', async () => {
      const a = account({ name: 'ann' })
      await ds.getRepository(ValAccount).save(a)
      await rawSet(ds, 'val_account', a.id, 'name', 'NOT VALID 123 and far too long')
      const loaded = await ds.getRepository(ValAccount).findOneByOrFail({ id: a.id })
      await ds.getRepository(ValAccount).remove(loaded)
      expect(await countRows(ds, 'val_account')).toBe(0)
    })

    it('@EventActionOptions({ validate: false }) switches validation off for that entity', async () => {
      const u = ds.getRepository(ValUnchecked).create({ postcode: 'anything goes' })
      await ds.getRepository(ValUnchecked).save(u)
      u.postcode = 'still anything'
      await ds.getRepository(ValUnchecked).save(u)
      expect((await rawRow(ds, 'val_unchecked', u.id)).postcode).toBe('still anything')
      expect(recorded.map((r) => [r[1], r[2]])).toEqual([
        [Pre, Insert],
        [Post, Insert],
        [Pre, Update],
        [Post, Update],
      ])
      // ...while the other entities are still validated.
      await expect(ds.getRepository(ValAccount).save(account({ postcode: 'anything goes' }))).rejects.toBeInstanceOf(
        EntityValidationError,
      )
    })
  })

  describe('off globally', () => {
    let ds: DataSource
    beforeAll(async () => {
      ds = await openDataSource(entities, { validate: false })
    })
    afterAll(() => ds.destroy())
    beforeEach(() => resetRecorded())

    it('openDataSource(entities, { validate: false }) writes invalid values, and the handlers still run', async () => {
      const a = ds.getRepository(ValAccount).create({ name: 'X1', email: 'nope', postcode: 'zz' })
      await ds.getRepository(ValAccount).save(a)
      let row = await rawRow(ds, 'val_account', a.id)
      expect(row).toMatchObject({ name: 'X1', email: 'nope', postcode: 'ZZ' })
      a.email = 'still nope'
      await ds.getRepository(ValAccount).save(a)
      row = await rawRow(ds, 'val_account', a.id)
      expect(row.email).toBe('still nope')
      expect(recorded.map((r) => [r[1], r[2]])).toEqual([
        [Pre, Insert],
        [Post, Insert],
        [Pre, Update],
        [Post, Update],
      ])
      const l = ds.getRepository(ValLogin).create({ login: 'ADMIN' })
      await ds.getRepository(ValLogin).save(l)
      expect((await rawRow(ds, 'val_login', l.id)).login).toBe('admin')
    })

    it('@EventActionOptions({ validate: true }) still validates that entity', async () => {
      const ok = ds.getRepository(ValForced).create({ postcode: 'ab1 2cd' })
      await ds.getRepository(ValForced).save(ok)
      expect((await rawRow(ds, 'val_forced', ok.id)).postcode).toBe('AB1 2CD')
      const err = await rejection(ds.getRepository(ValForced).save(ds.getRepository(ValForced).create({ postcode: 'zz' })))
      expect(err).toBeInstanceOf(EntityValidationError)
      expect(err.failures.map((f) => f.attribute)).toEqual(['postcode'])
      expect(await countRows(ds, 'val_forced')).toBe(1)
    })
  })
})

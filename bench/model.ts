/**
 * The benchmark's entity shape, shared by every scenario. This file imports
 * only TypeORM and class-validator (never the library), so the plain worker
 * runs pristine TypeORM.
 */
import { IsEmail, IsInt, IsOptional, Length, Matches, Min } from 'class-validator'
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'

/** UK-style postcode formatting (as in demo/entities.ts): upper case, one space before the last three characters. */
export function formatPostcode(raw: string): string {
  const compact = raw.replace(/\s+/g, '').toUpperCase()
  return compact.length > 3 ? `${compact.slice(0, -3)} ${compact.slice(-3)}` : compact
}

/** The columns of every benchmark customer (no validation). */
export abstract class CustomerColumns {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 60 }) name!: string
  @Column({ type: 'varchar', length: 100 }) email!: string
  @Column({ type: 'varchar', length: 10, nullable: true }) postcode!: string | null
  @Column({ type: 'varchar', length: 40 }) city!: string
  @Column({ type: 'int' }) balance!: number
}

/** The same columns with class-validator constraints (realistic and handwritten). */
export abstract class ValidatedCustomerColumns {
  @PrimaryGeneratedColumn() id!: number
  @Column({ type: 'varchar', length: 60 }) @Length(2, 60) name!: string
  @Column({ type: 'varchar', length: 100 }) @IsEmail() email!: string
  @Column({ type: 'varchar', length: 10, nullable: true })
  @IsOptional()
  @Matches(/^[A-Z0-9]{2,4} [0-9][A-Z]{2}$/)
  postcode!: string | null
  @Column({ type: 'varchar', length: 40 }) @Length(1, 40) city!: string
  @Column({ type: 'int' }) @IsInt() @Min(0) balance!: number
}

export type CustomerData = Pick<CustomerColumns, 'name' | 'email' | 'postcode' | 'city' | 'balance'>

const POSTCODES = ['sw1a1aa', ' ec1a 1bb', 'w1a0ax', 'm1 1ae', 'b33 8th', 'cr2 6xh', 'dn55 1pt', 'le1 7rh']
const CITIES = ['London', 'Manchester', 'Birmingham', 'Leeds', 'Glasgow', 'Bristol', 'Leicester']

/** Row i of every data set: raw (unformatted) postcodes, valid otherwise. */
export function customerData(i: number): CustomerData {
  return {
    name: ` Customer ${i} `,
    email: `customer${i}@example.com`,
    postcode: POSTCODES[i % POSTCODES.length]!,
    city: CITIES[i % CITIES.length]!,
    balance: i % 1000,
  }
}

/** A class with the given name (so TypeORM metadata and audit entries are named usefully). */
export function named<T extends Function>(name: string, cls: T): T {
  Object.defineProperty(cls, 'name', { value: name })
  return cls
}

/** An entity class without event actions on `table`. */
export function plainCustomer(name: string, table: string): new () => CustomerColumns {
  const cls = named(name, class extends CustomerColumns {})
  Entity(table)(cls)
  return cls
}

/**
 * The rows of the bulk scenarios (`update(criteria)`, `delete(criteria)`):
 * the criteria select a group, the update sets `qty`.
 */
export abstract class BulkColumns {
  @PrimaryGeneratedColumn() id!: number
  @Index() @Column({ type: 'int' }) grp!: number
  @Column({ type: 'int' }) qty!: number
  @Column({ type: 'varchar', length: 60 }) name!: string
}

/** The group the bulk scenarios write (every row of it) and the one they must leave alone. */
export const BULK_GROUP = 1
export const OTHER_GROUP = 2

/** A bulk entity class without event actions on `table`. */
export function plainBulkItem(name: string, table: string): new () => BulkColumns {
  const cls = named(name, class extends BulkColumns {})
  Entity(table)(cls)
  return cls
}

import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm'
import { AttributeGroup, anyInGroup, HardError, inGroup } from '../../src'

// No DataSource is needed: the attribute names come from the TypeORM decorators.

class IgAddress {
  @Column({ nullable: true }) street!: string
  @Column({ nullable: true }) postcode!: string
}

abstract class IgBase {
  @PrimaryGeneratedColumn() id!: number
  @Column({ default: 0 }) version!: number
}

@Entity('ig_customer')
class IgCustomer extends IgBase {
  @Column() name!: string
  @Column(() => IgAddress) address!: IgAddress
  @OneToMany(() => IgOrder, (o) => o.customer) orders!: IgOrder[]
  notAColumn = 'transient'
}

@Entity('ig_order')
class IgOrder {
  @PrimaryGeneratedColumn() id!: number
  @Column() total!: number
  @ManyToOne(() => IgCustomer, (c) => c.orders) customer!: IgCustomer
}

// Names that are not keys of the entity type are passed as strings the compiler cannot check.
const unchecked = (name: string) => name as never

describe('inGroup / anyInGroup', () => {
  const customer = new IgCustomer()
  const order = new IgOrder()
  const group = new AttributeGroup(['name', 'address.postcode', 'orders', 'version'])

  it('inGroup tells whether the attribute is in the group', () => {
    expect(inGroup(customer, 'name', group)).toBe(true)
    expect(inGroup(customer, 'id', group)).toBe(false)
    expect(inGroup(customer, 'orders', group)).toBe(true)
    expect(inGroup(customer, unchecked('address.postcode'), group)).toBe(true)
    expect(inGroup(customer, unchecked('address.street'), group)).toBe(false)
    // An embedded's name is in the group when one of its columns is (issue 17).
    expect(inGroup(customer, 'address', group)).toBe(true)
  })

  it('knows inherited columns', () => {
    expect(inGroup(customer, 'version', group)).toBe(true)
    expect(inGroup(customer, 'id', AttributeGroup.empty)).toBe(false)
  })

  it('knows relation names on both sides', () => {
    expect(inGroup(order, 'customer', new AttributeGroup(['customer']))).toBe(true)
    expect(inGroup(order, 'customer', new AttributeGroup(['total']))).toBe(false)
    expect(anyInGroup(customer, ['orders'], new AttributeGroup(['orders']))).toBe(true)
  })

  it('knows embedded names and their dotted column paths', () => {
    expect(inGroup(customer, 'address', new AttributeGroup(['address']))).toBe(true)
    expect(anyInGroup(customer, unchecked('address.street'), new AttributeGroup(['address.street']))).toBe(true)
  })

  it('a null group (Delete) gives false', () => {
    expect(inGroup(customer, 'name', null)).toBe(false)
    expect(anyInGroup(customer, 'name', null)).toBe(false)
    expect(anyInGroup(customer, ['name', 'orders'], null)).toBe(false)
  })

  it('anyInGroup takes one name or an array', () => {
    expect(anyInGroup(customer, 'name', group)).toBe(true)
    expect(anyInGroup(customer, 'id', group)).toBe(false)
    expect(anyInGroup(customer, ['id', 'name'], group)).toBe(true)
    expect(anyInGroup(customer, ['id', 'address'], group)).toBe(true)
    expect(anyInGroup(customer, ['id'], new AttributeGroup(['addressLine']))).toBe(false)
    expect(anyInGroup(customer, [], group)).toBe(false)
  })

  function thrown(fn: () => unknown): HardError {
    try {
      fn()
    } catch (error) {
      return error as HardError
    }
    throw new Error('expected a HardError, nothing was thrown')
  }

  it('inGroup throws a HardError naming entity and attribute for an unknown name', () => {
    const error = thrown(() => inGroup(customer, unchecked('nmae'), group))
    expect(error).toBeInstanceOf(HardError)
    expect(error.name).toBe('HardError')
    expect(error.entityName).toBe('IgCustomer')
    expect(error.attribute).toBe('nmae')
    expect(error.message).toContain('IgCustomer')
    expect(error.message).toContain("'nmae'")
  })

  it('throws even when the group is null or empty, so a typo cannot hide', () => {
    expect(() => inGroup(customer, unchecked('nmae'), null)).toThrow(HardError)
    expect(() => inGroup(customer, unchecked('nmae'), AttributeGroup.empty)).toThrow(HardError)
    expect(() => anyInGroup(customer, unchecked('nmae'), null)).toThrow(HardError)
  })

  it('does not accept plain, non-column properties or other entities\' attributes', () => {
    expect(() => inGroup(customer, 'notAColumn', group)).toThrow(HardError)
    expect(() => inGroup(order, unchecked('name'), group)).toThrow(/IgOrder.*'name'/)
    expect(() => inGroup(customer, unchecked('address.city'), group)).toThrow(/'address\.city'/)
  })

  it('anyInGroup checks every name, even after one matched', () => {
    const error = thrown(() => anyInGroup(customer, ['name', unchecked('totl')], group))
    expect(error).toBeInstanceOf(HardError)
    expect(error.entityName).toBe('IgCustomer')
    expect(error.attribute).toBe('totl')
    expect(error.message).toContain("'totl'")
  })
})

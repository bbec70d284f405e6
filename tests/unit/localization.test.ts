/**
 * Localized errors (issue 9) without a database: SoftError.of, localize,
 * the translator's fallback chain, Accept-Language negotiation and the
 * i18next adapter with a real i18next instance.
 */
import i18next from 'i18next'
import {
  EntityValidationError,
  EventActionError,
  EventActionTiming,
  EventActionType,
  HardError,
  i18nextTranslator,
  setTranslator,
  SoftError,
  withEventActions,
  type Translator,
} from '../../src'
import { localeFromAcceptLanguage } from '../../src/integrations/http/accept-language'
import { errorResponse } from '../../src/integrations/http/http-action'

const texts: Record<string, Record<string, string>> = {
  en: { 'account.nameTaken': 'Account {name} already exists (catalogue)' },
  ru: { 'account.nameTaken': 'Счёт {name} уже существует', 'validation.isEmail': '{attribute}: неверный адрес' },
  'pt-BR': { 'account.nameTaken': 'A conta {name} já existe' },
}
const calls: [string, string][] = []
const catalogue: Translator = (key, params, locale) => {
  calls.push([key, locale])
  return texts[locale]?.[key]?.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]))
}

afterEach(() => {
  setTranslator(undefined)
  calls.length = 0
})

describe('SoftError.of', () => {
  it('carries key and params; without a translator the message is the default text, filled in', () => {
    const error = SoftError.of('account.nameTaken', { name: 'Acme' }, { attribute: 'name', defaultMessage: 'Account {name} already exists' })
    expect(error).toBeInstanceOf(SoftError)
    expect(error).toBeInstanceOf(EventActionError)
    expect(error).toMatchObject({ name: 'SoftError', key: 'account.nameTaken', params: { name: 'Acme' }, attribute: 'name' })
    expect(error.message).toBe('Account Acme already exists')
    // The fallback text is private: it does not show up in logs of the error's fields.
    expect(Object.keys(error)).not.toContain('fallbackText')
    expect(Object.isFrozen(error.params)).toBe(true)
  })

  it('without a default text the key itself is the message, never an empty string', () => {
    const error = SoftError.of('order.empty')
    expect(error.message).toBe('order.empty')
    expect(error.localize('ru')).toBe('order.empty')
    expect(error.params).toEqual({})
  })

  it("takes the default locale's text from the translator for message", () => {
    setTranslator(catalogue)
    expect(SoftError.of('account.nameTaken', { name: 'Acme' }, { defaultMessage: 'x' }).message).toBe('Account Acme already exists (catalogue)')
  })

  it('a placeholder without a value stays visible', () => {
    expect(SoftError.of('k', {}, { defaultMessage: 'Account {name} exists' }).message).toBe('Account {name} exists')
  })

  it.each([[''], ['  '], [undefined], [42]])('refuses the key %p with a HardError', (key) => {
    expect(() => SoftError.of(key as string)).toThrow(HardError)
    expect(() => SoftError.of(key as string)).toThrow(/SoftError.of needs a non-empty message key/)
  })

  it('refuses params that are not an object', () => {
    expect(() => SoftError.of('k', 'Acme' as unknown as Record<string, unknown>)).toThrow(/SoftError.of\('k'\): params must be an object, got Acme/)
  })
})

describe('localize(locale)', () => {
  const error = () => SoftError.of('account.nameTaken', { name: 'Acme' }, { defaultMessage: 'Account {name} already exists' })

  it('answers in the requested locale', () => {
    setTranslator(catalogue)
    expect(error().localize('ru')).toBe('Счёт Acme уже существует')
    expect(error().localize('pt-BR')).toBe('A conta Acme já existe')
  })

  it('tries the language when the region has no text: ru-RU finds ru', () => {
    setTranslator(catalogue)
    const made = error()
    calls.length = 0
    expect(made.localize('ru-RU')).toBe('Счёт Acme уже существует')
    expect(calls).toEqual([
      ['account.nameTaken', 'ru-RU'],
      ['account.nameTaken', 'ru'],
    ])
  })

  it('falls back to the English default text when the translator has none (or answers an empty string)', () => {
    setTranslator((key, params, locale) => (locale === 'de' ? '' : catalogue(key, params, locale)))
    expect(error().localize('fr')).toBe('Account Acme already exists')
    expect(error().localize('de')).toBe('Account Acme already exists')
  })

  it('an error made from plain text has no key and always answers its message', () => {
    setTranslator(() => 'translated')
    const plain = new SoftError('no, because', { attribute: 'x' })
    expect(plain.key).toBeUndefined()
    expect(plain.localize('ru')).toBe('no, because')
    expect(plain.localizedEntries('ru')).toEqual([{ attribute: 'x', key: null, message: 'no, because' }])
  })

  it('a translator that throws is not hidden', () => {
    setTranslator(() => {
      throw new Error('catalogue broken')
    })
    expect(() => error().localize('ru')).toThrow('catalogue broken')
  })

  it('setTranslator(undefined) removes the translator', () => {
    setTranslator(catalogue)
    setTranslator(undefined)
    expect(error().localize('ru')).toBe('Account Acme already exists')
  })

  it('setTranslator refuses what is not a function', () => {
    expect(() => setTranslator('ru' as unknown as Translator)).toThrow(HardError)
  })
})

describe('withEventActions(options, { translate })', () => {
  it('sets the translator', () => {
    withEventActions({ type: 'sqlite', database: ':memory:' }, { translate: catalogue })
    expect(SoftError.of('account.nameTaken', { name: 'Acme' }).localize('ru')).toBe('Счёт Acme уже существует')
  })

  it('refuses a translate that is not a function, naming the setting', () => {
    expect(() => withEventActions({ type: 'sqlite', database: ':memory:' }, { translate: {} as unknown as Translator })).toThrow(
      /EventActionsConfig.translate must be a function/,
    )
  })
})

describe('EntityValidationError', () => {
  const failure = {
    attribute: 'email',
    value: 'nope',
    constraints: ['email must be an email'],
    violations: [
      {
        constraint: 'isEmail',
        key: 'validation.isEmail',
        params: { attribute: 'email', value: 'nope', entityName: 'Account' },
        message: 'email must be an email',
      },
    ],
  }
  const make = () => new EntityValidationError('Account', EventActionType.Insert, EventActionTiming.Pre, [failure])

  it('keeps the English message and gains the key validation.failed', () => {
    setTranslator(catalogue)
    expect(make().message).toBe('Account failed validation on Pre Insert: email (email must be an email)')
    expect(make().key).toBe('validation.failed')
  })

  it('translates each violation, falling back to class-validator\'s text', () => {
    setTranslator(catalogue)
    expect(make().localizedEntries('ru')).toEqual([{ attribute: 'email', key: 'validation.isEmail', message: 'email: неверный адрес' }])
    expect(make().localizedEntries('fr')).toEqual([{ attribute: 'email', key: 'validation.isEmail', message: 'email must be an email' }])
    expect(make().localize('ru')).toBe('Account failed validation on Pre Insert: email (email: неверный адрес)')
  })

  it('failures built by hand without violations still give entries (no key)', () => {
    const error = new EntityValidationError('Account', EventActionType.Insert, EventActionTiming.Pre, [
      { attribute: 'postcode', value: 'x', constraints: ['too short', 'must match'] },
    ])
    expect(error.localizedEntries('ru')).toEqual([
      { attribute: 'postcode', key: null, message: 'too short' },
      { attribute: 'postcode', key: null, message: 'must match' },
    ])
  })
})

describe('errorResponse(error, locale)', () => {
  it('a SoftError is 400 with { attribute, key, message } in the locale', () => {
    setTranslator(catalogue)
    const error = SoftError.of('account.nameTaken', { name: 'Acme' }, { attribute: 'name' })
    expect(errorResponse(error, 'ru')).toEqual({
      status: 400,
      body: { errors: [{ attribute: 'name', key: 'account.nameTaken', message: 'Счёт Acme уже существует' }] },
    })
  })

  it('anything else is 500 with a translatable key and no internals', () => {
    setTranslator((key, _params, locale) => (key === 'error.internal' && locale === 'ru' ? 'Внутренняя ошибка сервера' : undefined))
    expect(errorResponse(new Error('password=secret'), 'ru').body).toEqual({
      errors: [{ attribute: null, key: 'error.internal', message: 'Внутренняя ошибка сервера' }],
    })
    expect(errorResponse(new Error('password=secret')).body.errors[0]!.message).toBe('Internal Server Error')
  })
})

describe('Accept-Language', () => {
  it.each([
    ['ru', undefined, 'ru'],
    ['ru-RU,ru;q=0.9,en;q=0.8', undefined, 'ru-RU'],
    ['en;q=0.5, ru;q=0.8', undefined, 'ru'],
    ['*', undefined, undefined],
    ['fr-CA,fr;q=0.9', ['en', 'fr'], 'fr'],
    ['de;q=0.9, ru;q=0.8, en;q=0.1', ['en', 'ru'], 'ru'],
    ['RU', ['en', 'ru'], 'ru'],
    ['de, *;q=0.1', ['en', 'ru'], 'en'],
    ['de', ['en', 'ru'], undefined],
    ['ru;q=0, en', ['en', 'ru'], 'en'],
    ['ru;q=abc, en;q=0.2', undefined, 'en'],
    ['<script>, 1234, en', undefined, 'en'],
    ['', undefined, undefined],
  ])('%p with %p is %p', (header, supported, expected) => {
    expect(localeFromAcceptLanguage(header, supported as string[] | undefined)).toBe(expected)
  })

  it('reads an array header and ignores a missing one', () => {
    expect(localeFromAcceptLanguage(['de;q=0.1', 'ru'], ['ru', 'de'])).toBe('ru')
    expect(localeFromAcceptLanguage(undefined, ['en'])).toBeUndefined()
  })

  it('stays cheap on a huge header: only the first entries count', () => {
    const header = Array.from({ length: 100_000 }, () => 'xx;q=0.5').join(',') + ',ru'
    expect(localeFromAcceptLanguage(header, ['ru'])).toBeUndefined()
  })
})

describe('i18nextTranslator', () => {
  let i18n: typeof i18next
  beforeAll(async () => {
    i18n = i18next.createInstance()
    await i18n.init({
      showSupportNotice: false,
      lng: 'en',
      fallbackLng: false,
      resources: {
        en: { translation: { 'account.nameTaken': 'Account {{name}} already exists' } },
        ru: { translation: { 'account.nameTaken': 'Счёт {{name}} уже существует' } },
      },
    })
  })

  it('translates with i18next interpolation, without HTML escaping', () => {
    setTranslator(i18nextTranslator(i18n))
    const error = SoftError.of('account.nameTaken', { name: '<Acme & Co>' })
    expect(error.localize('ru')).toBe('Счёт <Acme & Co> уже существует')
    expect(error.message).toBe('Account <Acme & Co> already exists')
  })

  it('a key i18next lacks gives undefined, so the English default text is used', () => {
    setTranslator(i18nextTranslator(i18n))
    expect(i18nextTranslator(i18n)('order.empty', {}, 'ru')).toBeUndefined()
    expect(SoftError.of('order.empty', {}, { defaultMessage: 'an order needs a line' }).localize('ru')).toBe('an order needs a line')
  })

  it("uses i18next's own fallback languages", async () => {
    const withFallback = i18next.createInstance()
    await withFallback.init({ showSupportNotice: false, lng: 'en', fallbackLng: 'en', resources: { en: { translation: { greet: 'hello {{who}}' } } } })
    expect(i18nextTranslator(withFallback)('greet', { who: 'Ann' }, 'ru')).toBe('hello Ann')
  })

  it('refuses what is not an i18next instance', () => {
    expect(() => i18nextTranslator({} as never)).toThrow(/i18nextTranslator needs an i18next instance/)
  })
})

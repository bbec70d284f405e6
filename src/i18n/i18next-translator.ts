import { HardError } from '../basics/errors'
import type { Translator } from '../basics/translator'

/**
 * The parts of an i18next instance the adapter uses; any `i18next.createInstance()`
 * or the default `i18next` export fits. i18next itself is an optional peer
 * dependency: the library never imports it.
 */
export interface I18nextLike {
  /** i18next `t(key, options)`: the key's text, interpolated, in `options.lng`. */
  t(key: string, options: Record<string, unknown>): string
  /** i18next `exists(key, options)`: true when the key has a text in `options.lng` or its fallbacks. */
  exists(key: string, options: Record<string, unknown>): boolean
}

/**
 * A {@link Translator} backed by i18next: keys are i18next keys, params
 * become its interpolation values (`{{name}}` in the texts), and i18next's
 * own fallback languages apply. A key i18next does not have (in the locale
 * or its fallbacks) gives undefined, so the library's English fallback is used.
 *
 * @example
 * ```ts
 * await i18next.init({ fallbackLng: 'en', resources: { ru: { translation: { 'account.nameTaken': 'Счёт {{name}} уже есть' } } } })
 * const dataSource = new DataSource(withEventActions(options, { translate: i18nextTranslator(i18next) }))
 * ```
 */
export function i18nextTranslator(i18n: I18nextLike, options: { ns?: string } = {}): Translator {
  if (!i18n || typeof i18n.t !== 'function' || typeof i18n.exists !== 'function') {
    throw new HardError('i18nextTranslator needs an i18next instance (with t and exists)')
  }
  const ns = options.ns === undefined ? {} : { ns: options.ns }
  return (key, params, locale) => {
    const lookup = { ...ns, lng: locale }
    if (!i18n.exists(key, lookup)) return undefined
    // Values are shown to end users as text; i18next's HTML escaping would show &lt; to them instead.
    return i18n.t(key, { ...params, ...lookup, interpolation: { escapeValue: false } })
  }
}

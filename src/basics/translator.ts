/** The values a message key is filled in with, e.g. `{ name: 'Acme' }`. */
export type MessageParams = Readonly<Record<string, unknown>>

/**
 * Turns a message key into text in a locale. Return `undefined` when there is
 * no translation: the library then falls back to the key's built-in English
 * text (or the key itself), so a missing translation never yields an empty
 * message.
 *
 * @example
 * ```ts
 * const texts: Record<string, Record<string, string>> = {
 *   ru: { 'account.nameTaken': 'Счёт «{name}» уже существует' },
 * }
 * setTranslator((key, params, locale) => texts[locale]?.[key]?.replace(/\{(\w+)\}/g, (_, p) => String(params[p])))
 * ```
 */
export type Translator = (key: string, params: MessageParams, locale: string) => string | undefined

/** @internal The locale `SoftError.message` is written in. */
export const DEFAULT_LOCALE = 'en'

// The one translator of the process (see setTranslator): texts belong to the application.
let translator: Translator | undefined

/**
 * @internal Installs the process-wide translator, unchecked: `setTranslator`
 * (in i18n/) checks what the application passes before it lands here.
 */
export function installTranslator(fn: Translator | undefined): void {
  translator = fn
}

/**
 * @internal `'{name}'` placeholders filled from `params`; a placeholder without a
 * value stays as written, so a forgotten parameter is visible, not blank.
 */
export function interpolate(text: string, params: MessageParams): string {
  return text.replace(/\{(\w+)\}/g, (whole: string, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  )
}

/**
 * @internal The text of `key` in `locale`: the translator's for the locale
 * (`'ru-RU'`), then for its language (`'ru'`), then `fallback` (the built-in
 * English text), then the key itself. A translator that throws is a bug in
 * the application and is not hidden.
 */
export function translate(key: string, params: MessageParams, locale: string, fallback: string | undefined): string {
  if (translator) {
    const exact = translator(key, params, locale)
    if (typeof exact === 'string' && exact !== '') return exact
    const dash = locale.indexOf('-')
    if (dash > 0) {
      const language = translator(key, params, locale.slice(0, dash))
      if (typeof language === 'string' && language !== '') return language
    }
  }
  return fallback === undefined || fallback === '' ? key : interpolate(fallback, params)
}

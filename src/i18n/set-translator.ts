import { HardError } from '../basics/errors'
import { installTranslator, type Translator } from '../basics/translator'

/**
 * Sets the process-wide translator that `SoftError.localize(locale)`, the
 * HTTP middleware and the NestJS interceptor use (`undefined` removes it).
 * `withEventActions(options, { translate })` calls it for you. One process
 * has one translator: the texts are the application's, not a DataSource's.
 */
export function setTranslator(fn: Translator | undefined): void {
  if (fn !== undefined && typeof fn !== 'function') {
    throw new HardError(`setTranslator needs a function (key, params, locale) => string | undefined, got ${String(fn)}`)
  }
  installTranslator(fn)
}

/**
 * The shop's user-facing texts in English and Russian, and the translator
 * that reads them: what an application keeps in its own catalogue (or in
 * i18next, with `i18nextTranslator`).
 */
import type { Translator } from '../src'

export const messages: Record<string, Record<string, string>> = {
  en: {
    'account.nameTaken': 'Account with this name already exists: {name}',
    'orderLine.quantityNotPositive': 'quantity must be positive, got {quantity}',
    'order.customerRequired': 'customer is required',
    'order.notFound': 'no order {id}',
    'order.needsLines': 'an order needs at least one line',
    'action.signInRequired': 'sign in to submit an order',
  },
  ru: {
    'account.nameTaken': 'Счёт с таким именем уже существует: {name}',
    'orderLine.quantityNotPositive': 'количество должно быть больше нуля, указано {quantity}',
    'order.customerRequired': 'укажите покупателя',
    'order.notFound': 'заказ {id} не найден',
    'order.needsLines': 'в заказе должна быть хотя бы одна строка',
    'action.signInRequired': 'войдите, чтобы оформить заказ',
    'validation.isEmail': '{attribute}: неверный адрес электронной почты',
    'validation.isLength': '{attribute}: длина должна быть от {constraint1} до {constraint2} символов',
    'validation.failed': '{entityName}: данные не прошли проверку: {details}',
    'error.internal': 'Внутренняя ошибка сервера',
  },
}

/** Looks a key up in {@link messages} and fills in `{param}` placeholders. */
export const shopTranslator: Translator = (key, params, locale) =>
  messages[locale]?.[key]?.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))

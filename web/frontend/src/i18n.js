// Every text the user sees, in Russian (the default) and English, gathered from messages/: one file
// per part of the page, so that each part's texts live beside nothing else. t('key', {param}) fills
// {param}; a key missing in English falls back to Russian, and a missing key shows itself (the
// browser tests' untranslated-text check catches both).
import * as app from './messages/app.js'
import * as form from './messages/form.js'
import * as card from './messages/card.js'
import * as server from './messages/server.js'
import * as steps from './messages/steps.js'
import * as repeats from './messages/repeats.js'
import * as settings from './messages/settings.js'

const parts = [app, form, card, steps, repeats, settings, server]
export const dictionaries = {
  ru: Object.assign({}, ...parts.map((part) => part.ru)),
  en: Object.assign({}, ...parts.map((part) => part.en)),
}
let language = 'ru'

/** The portal's LANG decides: English for 'en', Russian for everything else (the app's first language). */
export function setLanguage(code) {
  language = String(code || '').toLowerCase().startsWith('en') ? 'en' : 'ru'
  if (typeof document !== 'undefined') document.documentElement.lang = language
  return language
}

export function currentLanguage() {
  return language
}

/** The locale for dates, times and numbers: the interface's, never the browser's (24-hour in both). */
export function locale() {
  return language === 'ru' ? 'ru-RU' : 'en-GB'
}

export function has(key) {
  return key in dictionaries[language] || key in dictionaries.ru
}

export function t(key, params) {
  const text = dictionaries[language][key] ?? dictionaries.ru[key] ?? key
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (whole, name) => (params[name] !== undefined ? String(params[name]) : whole))
}

const pluralRules = new Map()

/** The key of `n`'s plural form: base.one / .few / .many / .other, as the interface's language has them. */
export function pluralKey(base, n) {
  if (!pluralRules.has(locale())) pluralRules.set(locale(), new Intl.PluralRules(locale()))
  const form = pluralRules.get(locale()).select(n)
  return has(`${base}.${form}`) ? `${base}.${form}` : `${base}.other`
}

// Dates and times typed as text in the interface's language, not in the browser's: a native
// <input type=date|time> follows the browser's locale (12/03/2026, 02:30 PM in a Russian portal).
// Day first in both languages (Russian 03.12.2026, British English 03/12/2026), 24-hour time; ISO
// (2026-12-03) is read too, for whoever pastes it. The form keeps what was typed; the API gets ISO.
import { currentLanguage } from './i18n.js'

function pad(value) {
  return String(value).padStart(2, '0')
}

function isRealDate(year, month, day) {
  const check = new Date(Date.UTC(year, month - 1, day))
  return check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day
}

/** 'YYYY-MM-DD' of a typed date (03.12.2026, 3/12/26, 2026-12-03), '' for blank, null when not a date. */
export function parseDateText(text) {
  const value = String(text || '').trim()
  if (!value) return ''
  let match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value)
  let [year, month, day] = match ? [match[1], match[2], match[3]] : []
  if (!match) {
    match = /^(\d{1,2})[./\-\s](\d{1,2})[./\-\s](\d{2}|\d{4})$/.exec(value)
    if (!match) return null
    ;[day, month, year] = [match[1], match[2], match[3].length === 2 ? `20${match[3]}` : match[3]]
  }
  const [y, m, d] = [Number(year), Number(month), Number(day)]
  if (!isRealDate(y, m, d)) return null
  return `${y}-${pad(m)}-${pad(d)}`
}

/** 'HH:MM' of a typed time (10:30, 10.30, 1030, 9, 9:5 is not), '' for blank, null when not a time. */
export function parseTimeText(text) {
  const value = String(text || '').trim()
  if (!value) return ''
  const match = /^(\d{1,2})(?:[:.\s]?(\d{2}))?$/.exec(value)
  if (!match) return null
  const [hour, minute] = [Number(match[1]), Number(match[2] || 0)]
  if (hour > 23 || minute > 59) return null
  return `${pad(hour)}:${pad(minute)}`
}

/** An ISO date as the interface writes it: 03.12.2026 in Russian, 03/12/2026 in English. */
export function formatDateText(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '')
  if (!match) return ''
  const separator = currentLanguage() === 'en' ? '/' : '.'
  return [match[3], match[2], match[1]].join(separator)
}

/** What a date looks like in the interface's language, for the placeholder and the error. */
export function datePattern() {
  return currentLanguage() === 'en' ? 'DD/MM/YYYY' : 'ДД.ММ.ГГГГ'
}

export function timePattern() {
  return currentLanguage() === 'en' ? 'HH:MM' : 'ЧЧ:ММ'
}

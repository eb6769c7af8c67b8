// A meeting's repetition (the API's `recurrence`, RFC 5545's FREQ/INTERVAL/BYDAY/COUNT/UNTIL): the form's
// state and back, its client checks (the server's, shared/schemas.py RecurrenceIn), and the card's sentence.
import { locale, pluralKey, t } from './i18n.js'
import { formatDateText, parseDateText } from './dateText.js'

export const FREQUENCIES = ['DAILY', 'WEEKLY', 'MONTHLY']
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']
export const LIMITS = { interval: 99, countMin: 2, countMax: 730, reminderMax: 24 * 60 }
const MONDAY = Date.UTC(2024, 0, 1) // a Monday: WEEKDAYS[i] is this day plus i

/** The day's short name in the interface's language (пн, Mon), from Intl rather than a list of our own. */
export function weekdayName(code) {
  const day = new Date(MONDAY + WEEKDAYS.indexOf(code) * 86400000)
  return new Intl.DateTimeFormat(locale(), { weekday: 'short', timeZone: 'UTC' }).format(day)
}

/** The form's fields for a conference's recurrence (null: does not repeat). */
export function recurrenceState(recurrence) {
  const rule = recurrence || {}
  return {
    freq: rule.freq || '',
    interval: rule.interval || 1,
    byday: [...(rule.byday || [])],
    ends: rule.count ? 'count' : rule.until ? 'until' : 'never',
    count: rule.count || 10,
    until: formatDateText(rule.until || ''),
  }
}

/** The API's recurrence of the form's fields, and their problems keyed by the server's field paths. */
export function recurrenceOf(state) {
  if (!state.freq) return { value: null, errors: {} }
  const errors = {}
  const interval = Number(state.interval)
  if (!Number.isInteger(interval) || interval < 1 || interval > LIMITS.interval) {
    errors['recurrence.interval'] = t('v.between', { min: 1, max: LIMITS.interval })
  }
  const value = { freq: state.freq, interval, byday: state.freq === 'WEEKLY' ? WEEKDAYS.filter((d) => state.byday.includes(d)) : [] }
  if (state.ends === 'count') {
    const count = Number(state.count)
    if (!Number.isInteger(count) || count < LIMITS.countMin || count > LIMITS.countMax) {
      errors['recurrence.count'] = t('v.between', { min: LIMITS.countMin, max: LIMITS.countMax })
    }
    value.count = count
  } else if (state.ends === 'until') {
    const until = parseDateText(state.until)
    if (!until) errors['recurrence.until'] = until === '' ? t('v.blank') : t('field.not_a_date')
    value.until = until || null
  }
  return { value, errors }
}

/** What the series' fields break of the rules joining them to the rest (start_at) or of their range. */
export function seriesProblems(payload) {
  const found = {}
  if (payload.recurrence && !payload.start_at) found.start_at = t('repeat.needsDate')
  const reminder = payload.reminder_minutes
  if (!Number.isInteger(reminder) || reminder < 0 || reminder > LIMITS.reminderMax) {
    found.reminder_minutes = t('v.between', { min: 0, max: LIMITS.reminderMax })
  }
  return found
}

/** "каждую неделю по пн, ср, 10 раз": how the series repeats, '' for a single meeting. */
export function recurrenceText(recurrence) {
  if (!recurrence || !recurrence.freq) return ''
  const n = recurrence.interval || 1
  const parts = [n === 1 ? t(`rule.${recurrence.freq}`) : t(pluralKey(`rule.${recurrence.freq}`, n), { n })]
  if ((recurrence.byday || []).length) {
    parts[0] += ` ${t('rule.days', { days: recurrence.byday.map(weekdayName).join(', ') })}`
  }
  if (recurrence.count) parts.push(t(pluralKey('rule.count', recurrence.count), { n: recurrence.count }))
  else if (recurrence.until) parts.push(t('rule.until', { date: formatDateText(recurrence.until) }))
  return parts.join(', ')
}

// Wall-clock dates and times in a named (IANA) time zone, with nothing but Intl.
import { has, locale, t } from './i18n.js'

const FALLBACK_ZONE = 'Europe/Moscow'

export const COMMON_ZONES = [
  'Europe/Kaliningrad', 'Europe/Moscow', 'Europe/Samara', 'Asia/Yekaterinburg', 'Asia/Omsk', 'Asia/Novosibirsk',
  'Asia/Krasnoyarsk', 'Asia/Irkutsk', 'Asia/Yakutsk', 'Asia/Vladivostok', 'Asia/Magadan', 'Asia/Kamchatka',
  'Europe/Minsk', 'Asia/Almaty', 'Asia/Tashkent', 'Asia/Tbilisi', 'Asia/Yerevan', 'Asia/Baku', 'Europe/Istanbul',
  'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Asia/Dubai', 'Asia/Shanghai', 'Asia/Tokyo',
  'America/New_York', 'America/Chicago', 'America/Los_Angeles', 'UTC',
]

const formatters = new Map()

function partsFormatter(zone) {
  if (!formatters.has(zone)) {
    formatters.set(zone, new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    }))
  }
  return formatters.get(zone)
}

export function isValidZone(zone) {
  if (!zone || typeof zone !== 'string') return false
  try {
    partsFormatter(zone)
    return true
  } catch {
    return false
  }
}

export function userTimeZone() {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
    return isValidZone(zone) ? zone : FALLBACK_ZONE
  } catch {
    return FALLBACK_ZONE
  }
}

/** Minutes to add to UTC to get the wall clock in `zone` at the instant `ms`. */
export function zoneOffsetMinutes(zone, ms) {
  const parts = {}
  for (const part of partsFormatter(zone).formatToParts(new Date(ms))) parts[part.type] = part.value
  const hour = Number(parts.hour) === 24 ? 0 : Number(parts.hour)
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), hour,
    Number(parts.minute), Number(parts.second))
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000)
}

function pad(value, size = 2) {
  return String(value).padStart(size, '0')
}

function formatOffset(minutes) {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIME_RE = /^(\d{2}):(\d{2})(?::\d{2})?$/

/** The instant (ms) at which the wall clock in `zone` shows `date` (YYYY-MM-DD) `time` (HH:MM), or null. */
export function zonedToInstant(date, time, zone) {
  const d = DATE_RE.exec(date || '')
  const tm = TIME_RE.exec(time || '')
  if (!d || !tm || !isValidZone(zone)) return null
  const [year, month, day] = [Number(d[1]), Number(d[2]), Number(d[3])]
  const [hour, minute] = [Number(tm[1]), Number(tm[2])]
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null
  const wall = Date.UTC(year, month - 1, day, hour, minute)
  const check = new Date(wall)
  if (check.getUTCDate() !== day) return null // 31 February and the like
  let instant = wall - zoneOffsetMinutes(zone, wall) * 60000
  const second = wall - zoneOffsetMinutes(zone, instant) * 60000 // near a DST change the first guess can be off
  if (second !== instant) instant = second
  return instant
}

/** ISO 8601 with the zone's offset at that instant, e.g. 2026-12-01T10:00:00+03:00. */
export function toIsoInZone(ms, zone) {
  const offset = zoneOffsetMinutes(zone, ms)
  const wall = new Date(ms + offset * 60000)
  return `${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:00${formatOffset(offset)}`
}

/** {date: 'YYYY-MM-DD', time: 'HH:MM'} of an ISO instant on the wall clock of `zone`. */
export function instantToZoned(iso, zone) {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return { date: '', time: '' }
  const safeZone = isValidZone(zone) ? zone : userTimeZone()
  const wall = new Date(ms + zoneOffsetMinutes(safeZone, ms) * 60000)
  return {
    date: `${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`,
    time: `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}`,
  }
}

/** Today's date and the next round half hour on the wall clock of `zone`. */
export function nextSlot(zone) {
  const now = Date.now()
  const slot = Math.ceil((now + 5 * 60000) / (30 * 60000)) * 30 * 60000
  return instantToZoned(new Date(slot).toISOString(), zone)
}

/** A zone's name in the interface's language: ours for the common zones, Intl's for the rest. */
export function zoneName(zone) {
  if (has(`zone.${zone}`)) return t(`zone.${zone}`)
  try {
    const parts = new Intl.DateTimeFormat(locale(), { timeZone: zone, timeZoneName: 'longGeneric' }).formatToParts(0)
    const name = parts.find((part) => part.type === 'timeZoneName')?.value
    if (name && !/^GMT/.test(name)) return name
  } catch {
    /* an unknown zone: its id */
  }
  return String(zone).split('/').pop().replace(/_/g, ' ')
}

/** "UTC+03:00 Москва": the offset first, so that a list of them sorts and reads by it. */
export function zoneLabel(zone, at = Date.now()) {
  let offset = ''
  try {
    offset = `UTC${formatOffset(zoneOffsetMinutes(zone, at))} `
  } catch {
    /* an unknown zone: name only */
  }
  return `${offset}${zoneName(zone)}`
}

/** Select options: the common zones, the user's and any given extras, ordered by offset. */
export function zoneOptions(extra = []) {
  const now = Date.now()
  const names = [...new Set([...COMMON_ZONES, userTimeZone(), ...extra.filter(Boolean)])].filter(isValidZone)
  return names
    .map((zone) => ({ value: zone, label: zoneLabel(zone, now), offset: zoneOffsetMinutes(zone, now) }))
    .sort((a, b) => a.offset - b.offset || a.value.localeCompare(b.value))
}

/**
 * A start time for people, in the conference's zone and the interface's language: "чт, 3 декабря,
 * 21:54" ("Thu 3 December, 21:54"); the year only when it is not this year; the zone's name only
 * when it is not the reader's own, since "GMT+3" beside every date says nothing to most people.
 */
export function formatStart(iso, zone, readerZone = userTimeZone()) {
  const ms = Date.parse(iso || '')
  if (Number.isNaN(ms)) return ''
  const shownZone = isValidZone(zone) ? zone : readerZone
  const thisYear = instantToZoned(new Date().toISOString(), shownZone).date.slice(0, 4)
  const options = { weekday: 'short', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
  if (instantToZoned(iso, shownZone).date.slice(0, 4) !== thisYear) options.year = 'numeric'
  let text
  try {
    text = new Intl.DateTimeFormat(locale(), { ...options, timeZone: shownZone }).format(ms)
  } catch {
    text = new Date(ms).toISOString().slice(0, 16).replace('T', ' ')
  }
  const sameClock = zoneOffsetMinutes(shownZone, ms) === zoneOffsetMinutes(readerZone, ms)
  return sameClock ? text : `${text} (${zoneName(shownZone)})`
}

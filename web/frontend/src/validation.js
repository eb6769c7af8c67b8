// The server's rules for a conference (CONTRACT §4), checked before sending so that mistakes show at once.
// Keys are the server's field paths ('cohosts.0', 'live_stream.title'), so both kinds of error land alike.
import { t } from './i18n.js'
import { isValidZone, zonedToInstant, toIsoInZone } from './time.js'
import { datePattern, parseDateText, parseTimeText, timePattern } from './dateText.js'

export const LIMITS = {
  name: 255,
  description: 4000,
  cohosts: 30,
  invitees: 100,
  liveTitle: 1024,
  liveDescription: 2048,
  durationMin: 1,
  durationMax: 24 * 60,
}
const PAST_GRACE_MS = 5 * 60 * 1000
const HORIZON_MS = 5 * 366 * 24 * 3600 * 1000

// Close to what the server's email-validator takes: a local part, an @ and a dotted domain.
const EMAIL_RE = /^[^\s@"(),:;<>[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$/
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/
// eslint-disable-next-line no-control-regex
const PROSE_CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

export function isEmail(value) {
  return typeof value === 'string' && value.length <= 254 && EMAIL_RE.test(value)
}

export function normaliseEmail(value) {
  return String(value || '').trim().toLowerCase()
}

/** The start instant as ISO with offset, or null when no date is set; {error} when half of it is.
 * `date` and `time` are as typed (dateText.js). */
export function startAtOf(dateText, timeText, zone) {
  const date = parseDateText(dateText)
  const time = parseTimeText(timeText)
  if (!date && !time && date !== null && time !== null) return { value: null }
  if (date === null) return { error: t('v.dateFormat', { pattern: datePattern() }) }
  if (time === null) return { error: t('v.timeFormat', { pattern: timePattern() }) }
  if (!date) return { error: t('v.needDate') }
  if (!time) return { error: t('v.needTime') }
  const ms = zonedToInstant(date, time, zone)
  if (ms === null) return { error: isValidZone(zone) ? t('v.badDate') : t('v.timezone') }
  return { value: toIsoInZone(ms, zone), ms }
}

function checkProse(errors, field, value, limit) {
  if (value === null || value === undefined) return
  if (value.length > limit) errors[field] = t('v.tooLong', { max: limit })
  else if (PROSE_CONTROL_RE.test(value)) errors[field] = t('v.control')
}

/** Every broken rule of an API body, keyed by the server's field path. */
export function validateConference(body, now = Date.now()) {
  const errors = {}
  const name = typeof body.name === 'string' ? body.name : ''
  if (!name.trim()) errors.name = t('v.blank')
  else if (name.length > LIMITS.name) errors.name = t('v.tooLong', { max: LIMITS.name })
  else if (CONTROL_RE.test(name)) errors.name = t('v.control')

  checkProse(errors, 'description', body.description, LIMITS.description)

  const duration = body.duration_minutes
  if (!Number.isInteger(duration) || duration < LIMITS.durationMin || duration > LIMITS.durationMax) {
    errors.duration_minutes = t('v.duration')
  }
  if (!isValidZone(body.timezone)) errors.timezone = t('v.timezone')

  if (body.start_at) {
    const ms = Date.parse(body.start_at)
    if (Number.isNaN(ms)) errors.start_at = t('v.badDate')
    else if (ms < now - PAST_GRACE_MS) errors.start_at = t('v.past')
    else if (ms > now + HORIZON_MS) errors.start_at = t('v.future')
  } else if (body.create_calendar_event) {
    errors.start_at = t('v.calendarNeedsDate')
  }

  if (body.type === 'broadcast') {
    if (!body.live_stream) errors.live_stream = t('v.liveRequired')
    else {
      checkProse(errors, 'live_stream.title', body.live_stream.title, LIMITS.liveTitle)
      checkProse(errors, 'live_stream.description', body.live_stream.description, LIMITS.liveDescription)
    }
  }

  const cohosts = Array.isArray(body.cohosts) ? body.cohosts : []
  if (cohosts.length > LIMITS.cohosts) errors.cohosts = t('v.tooManyCohosts', { max: LIMITS.cohosts })
  const seen = new Set()
  cohosts.forEach((email, index) => {
    if (!isEmail(email)) errors[`cohosts.${index}`] = t('v.email')
    else if (seen.has(email.toLowerCase())) errors[`cohosts.${index}`] = t('v.duplicate')
    seen.add(String(email).toLowerCase())
  })

  const invitees = Array.isArray(body.invitees) ? body.invitees : []
  if (invitees.length > LIMITS.invitees) errors.invitees = t('v.tooManyInvitees', { max: LIMITS.invitees })
  return errors
}

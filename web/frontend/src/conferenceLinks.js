// Where a conference lives besides the app: its event in the Bitrix24 calendar, opened in the
// portal's slider (BX24.openPath) with a new tab as the fallback, and an invitation text to paste.
import { t } from './i18n.js'
import { openMessenger, openPath } from './bx24.js'
import { session } from './session.js'
import { formatStart } from './time.js'

const LOCAL_HOST = /^(localhost|127\.|0\.0\.0\.0$|\[::1\]$|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/i

/** The event's page in the owner's calendar, the path Bitrix24's own calendar notifications link to. */
export function calendarPath(conference) {
  if (!conference || !conference.calendar_event_id) return null
  const userId = (conference.owner && conference.owner.id) || (session.user && session.user.id)
  return `/company/personal/user/${encodeURIComponent(userId)}/calendar/?EVENT_ID=${encodeURIComponent(conference.calendar_event_id)}`
}

/** The same page as a full URL, for a new tab where the portal cannot open its slider. */
export function calendarUrl(conference) {
  const path = calendarPath(conference)
  const portal = String(session.portal || '').replace(/^https?:\/\//, '').replace(/\/+$/, '')
  if (!path || !portal) return null
  const host = portal.replace(/:\d+$/, '')
  const local = LOCAL_HOST.test(host) || /\.(local|localhost|test)$/i.test(host) || !host.includes('.')
  return `${local || session.sandbox ? 'http' : 'https'}://${portal}${path}`
}

export function openCalendar(conference) {
  return openPath(calendarPath(conference), calendarUrl(conference))
}

/** The chat the meeting was posted to, in the portal's messenger (or its page, where BX24 has no messenger). */
export async function openChat(conference) {
  const dialogId = conference && conference.chat && conference.chat.dialog_id
  if (!dialogId) return false
  if (await openMessenger(dialogId)) return true
  return openPath(`/online/?IM_DIALOG=${encodeURIComponent(dialogId)}`, null)
}

/** The CRM record the meeting is about, its card in the portal's slider (the path Bitrix24's own links use). */
export function openCrm(conference) {
  const crm = conference && conference.crm
  if (!crm) return Promise.resolve(false)
  return openPath(`/crm/${crm.entity_type}/details/${encodeURIComponent(crm.entity_id)}/`, null)
}

/** A ready-made invitation to paste into a chat or a letter: what, when, and the link. */
export function invitationText(conference) {
  const broadcast = conference.type === 'broadcast'
  const lines = [t(broadcast ? 'invite.broadcast' : 'invite.meeting', { name: conference.name })]
  if (conference.start_at) {
    const when = formatStart(conference.start_at, conference.timezone)
    lines.push(t('invite.when', { when, n: conference.duration_minutes }))
  }
  const url = broadcast ? conference.watch_url || conference.join_url : conference.join_url
  if (url) lines.push(t(broadcast ? 'invite.watch' : 'invite.join', { url }))
  return lines.join('\n')
}

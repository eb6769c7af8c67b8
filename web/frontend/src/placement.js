// Where the app was opened from (the launch's PLACEMENT and PLACEMENT_OPTIONS, web/launch.py): from a chat's
// input panel the form opens with the chat's title, "now" and the chat's members, to be posted there.
// The options are only a hint: the server answers the chat only if the user is a member of it.
import { request } from './api.js'
import { instantToZoned } from './time.js'
import { formatDateText } from './dateText.js'

const CHAT_PLACEMENTS = ['IM_TEXTAREA', 'IM_SIDEBAR', 'IM_CONTEXT_MENU']
const MAX_INVITEES = 100 // the API's limit (CONTRACT §4)

export function placementDialog(config) {
  const placement = (config && config.placement) || {}
  if (!CHAT_PLACEMENTS.includes(placement.code)) return null
  const dialogId = (placement.options || {}).dialogId
  return typeof dialogId === 'string' && dialogId ? dialogId : null
}

/** The form's fields for a meeting in that chat, or null when the server does not know it as the user's. */
export async function chatDraft(dialogId, zone) {
  let chat
  try {
    chat = await request('GET', `/api/bitrix/chats/${encodeURIComponent(dialogId)}`)
  } catch {
    return null
  }
  const now = instantToZoned(new Date().toISOString(), zone)
  return {
    name: chat.title || '',
    date: formatDateText(now.date),
    time: now.time,
    invitees: (chat.members || []).slice(0, MAX_INVITEES).map((member) => ({ id: member.id, name: member.name })),
    chat: { dialog_id: chat.dialog_id, title: chat.title },
  }
}

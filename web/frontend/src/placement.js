// Where the app was opened from (the launch's PLACEMENT and PLACEMENT_OPTIONS, web/launch.py): from a chat,
// a CRM card or an employee card the form opens prefilled for a meeting there. The options are only a hint:
// the server answers the chat, the record or the person only if the portal shows them to the user.
import { api } from './api.js'
import { instantToZoned } from './time.js'
import { formatDateText } from './dateText.js'
import { t } from './i18n.js'

const CHAT_PLACEMENTS = ['IM_TEXTAREA', 'IM_SIDEBAR', 'IM_CONTEXT_MENU']
// b24restdocs api-reference/widgets/crm/detail-toolbar.md: the record's id comes as PLACEMENT_OPTIONS.ID.
const CRM_PLACEMENTS = {
  CRM_DEAL_DETAIL_TOOLBAR: 'deal',
  CRM_LEAD_DETAIL_TOOLBAR: 'lead',
  CRM_CONTACT_DETAIL_TOOLBAR: 'contact',
  CRM_COMPANY_DETAIL_TOOLBAR: 'company',
}
const PROFILE_PLACEMENT = 'USER_PROFILE_TOOLBAR' // widgets/user-profile/profile-toolbar.md: options.USER_ID
const MAX_INVITEES = 100 // the API's limit (CONTRACT §4)
const ID = /^[1-9][0-9]{0,9}$/

/** What the placement names, as {kind, ...}, or null when it names nothing the form can use. */
export function placementTarget(placement) {
  const code = (placement && placement.code) || ''
  const options = (placement && placement.options) || {}
  if (CHAT_PLACEMENTS.includes(code) && typeof options.dialogId === 'string' && options.dialogId) {
    return { kind: 'chat', dialogId: options.dialogId }
  }
  if (CRM_PLACEMENTS[code] && ID.test(String(options.ID || ''))) {
    return { kind: 'crm', entityType: CRM_PLACEMENTS[code], entityId: Number(options.ID) }
  }
  if (code === PROFILE_PLACEMENT && ID.test(String(options.USER_ID || ''))) {
    return { kind: 'profile', userId: Number(options.USER_ID) }
  }
  return null
}

function startingNow(zone) {
  const now = instantToZoned(new Date().toISOString(), zone)
  return { date: formatDateText(now.date), time: now.time }
}

const person = (p) => ({ id: p.id, name: p.name })

async function chatDraft({ dialogId }, zone) {
  const chat = await api.chat(dialogId)
  return {
    name: chat.title || '',
    ...startingNow(zone),
    invitees: (chat.members || []).slice(0, MAX_INVITEES).map(person),
    chat: { dialog_id: chat.dialog_id, title: chat.title },
  }
}

async function crmDraft({ entityType, entityId }, zone, userId) {
  const record = await api.crmRecord(entityType, entityId)
  const responsible = record.responsible && record.responsible.id !== userId ? [person(record.responsible)] : []
  return {
    name: record.title || '',
    ...startingNow(zone),
    invitees: responsible,
    crm: { entity_type: record.entity_type, entity_id: record.entity_id, title: record.title },
  }
}

async function profileDraft({ userId: employeeId }, zone, userId) {
  const employee = await api.person(employeeId)
  return {
    name: t('form.meetingWith', { name: employee.name }),
    ...startingNow(zone),
    invitees: employee.id === userId ? [] : [person(employee)],
  }
}

const DRAFTS = { chat: chatDraft, crm: crmDraft, profile: profileDraft }

/** The form's fields for a meeting where the app was opened, or null when the server does not vouch for it. */
export async function placementDraft(target, zone, userId) {
  try {
    return { ...(await DRAFTS[target.kind](target, zone, userId)), from: target.kind }
  } catch {
    return null
  }
}

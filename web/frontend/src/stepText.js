// What the step list says of a step, from its state and the conference (messages/steps.js): what it
// did ("2 добавлены"), what it waits for ("ждёт комнату"), why it has nothing to do ("у встречи нет
// даты"), and for a failure what the person can do about it (remedyOf).
import { has, pluralKey, t } from './i18n.js'

function doneText(step) {
  const n = step.done_count
  if (Number.isInteger(n)) return n > 0 ? t(pluralKey(`done.${step.name}`, n), { n }) : t(`done.${step.name}.none`)
  return has(`done.${step.name}`) ? t(`done.${step.name}`) : t('state.done')
}

function skippedText(step, conference) {
  if (conference.status === 'cancelled' || conference.status === 'cancelling') return t('skipped.cancelled')
  if (step.name === 'calendar_event' && !conference.start_at) return t('skipped.calendar_event.noDate')
  if (step.name === 'notify_invitees' && !(conference.invitees || []).length) return t('skipped.notify_invitees.nobody')
  return has(`skipped.${step.name}`) ? t(`skipped.${step.name}`) : t('skipped.create_room')
}

function pendingText(step, steps) {
  const awaited = step.waits_for && steps.find((other) => other.name === step.waits_for)
  if (awaited && awaited.state !== 'done') return has(`waits.${step.waits_for}`) ? t(`waits.${step.waits_for}`) : t('state.pending')
  return step.attempts > 0 ? t('state.retryLater') : t('state.pending')
}

/** The short state beside a step's name. */
export function stepStatus(step, conference) {
  const steps = conference.steps || []
  if (step.state === 'done') return doneText(step)
  if (step.state === 'skipped') return skippedText(step, conference)
  if (step.state === 'pending') return pendingText(step, steps)
  return t(`state.${step.state}`)
}

// Refusals that the same request meets again: a retry alone cannot help, something must change first.
const NEEDS_RECONNECT = new Set(['yandex_reconnect'])
const NEEDS_EDIT = new Set(['ApiRestrictedToOrganizations', 'PaymentRequiredToUseLiveStreams', 'NoSuchUserPrincipalsFound'])
const NEEDS_REOPEN = new Set(['bitrix_reauth'])
const NEEDS_ADMIN = new Set(['yandex_app_refused', 'INSUFFICIENT_SCOPE', 'ACCESS_DENIED', 'PORTAL_DELETED'])

/**
 * What to offer for a conference's failed steps: 'reconnect' (connect Yandex, then retry), 'edit'
 * (change what Telemost refused), 'reopen' (renew the Bitrix24 authorisation), 'admin' (nothing the
 * person can do but wait for a fix), or 'retry' (a failure that may pass). The first that applies wins.
 */
export function remedyOf(conference) {
  const codes = (conference.steps || []).filter((step) => step.state === 'failed').map((step) => step.error_code)
  for (const [remedy, set] of [['reconnect', NEEDS_RECONNECT], ['edit', NEEDS_EDIT], ['reopen', NEEDS_REOPEN], ['admin', NEEDS_ADMIN]]) {
    if (codes.some((code) => set.has(code))) return remedy
  }
  return 'retry'
}

// What a new meeting gets from the portal's settings when its form leaves a field alone. The form starts
// from the portal's defaults (GET /api/settings/defaults, for anyone signed in), and leaves out of a create
// every such field the person did not change, so the server fills it (ConferenceIn PORTAL_DEFAULTS) with
// the portal's value even when this page could not learn it; an edit that leaves one out keeps the
// meeting's own value.
import { reactive } from 'vue'
import { api } from './api.js'
import { session } from './session.js'

// The form's field -> the API's.
const FIELDS = { duration: 'duration_minutes', waitingRoom: 'waiting_room_level', reminder: 'reminder_minutes', notes: 'auto_summary' }

let asked = null // one request per page: the settings page's save renews it (forgetPortalDefaults)

function loadDefaults() {
  if (!session.user) return Promise.resolve(null)
  if (!asked) asked = api.portalDefaults().then((answer) => (answer && answer.defaults) || null, () => null)
  return asked
}

export function forgetPortalDefaults() {
  asked = null
}

/** `form` (reactive) gets the portal's defaults for the fields not yet changed; `leaveOutUntouched(payload)`. */
export function usePortalDefaults(form, { prefill = true } = {}) {
  const shown = reactive(Object.fromEntries(Object.keys(FIELDS).map((key) => [key, form[key]])))
  if (prefill) {
    loadDefaults().then((defaults) => {
      if (!defaults) return
      for (const [key, name] of Object.entries(FIELDS)) {
        if (defaults[name] === undefined) continue
        if (form[key] === shown[key]) form[key] = defaults[name]
        shown[key] = defaults[name]
      }
    })
  }
  function leaveOutUntouched(payload) {
    for (const [key, name] of Object.entries(FIELDS)) if (form[key] === shown[key]) delete payload[name]
    return payload
  }
  return { leaveOutUntouched }
}

// The user's connected Yandex account, shared by the header and the reconnect banner.
import { reactive } from 'vue'
import { api } from './api.js'
import { session } from './session.js'
import { t } from './i18n.js'
import { showToast } from './toast.js'
import { requestProblem } from './problems.js'

const POPUP_FEATURES = 'width=560,height=680,menubar=no,toolbar=no'

export const yandex = reactive({
  loading: false,
  error: '',
  account: null, // {connected, email, needs_reconnect}
  stepSaysReconnect: false, // a step's error asked the user to reconnect
  popupBlocked: false,
  busy: false,
  askReplace: false, // the popup signed in to another account than the connected one: ask before replacing
})

export function needsReconnect() {
  return Boolean((yandex.account && yandex.account.needs_reconnect) || yandex.stepSaysReconnect)
}

export async function loadAccount() {
  yandex.loading = true
  yandex.error = ''
  try {
    yandex.account = await api.yandexAccount()
  } catch (error) {
    yandex.error = requestProblem(error)
  } finally {
    yandex.loading = false
  }
}

/** Looks at a conference's failed steps: one whose code asks to reconnect Yandex turns the banner on. */
export function noteConference(conference) {
  const steps = (conference && conference.steps) || []
  const says = steps.some((step) => step.state === 'failed' && step.error_code === 'yandex_reconnect')
  if (says && !yandex.stepSaysReconnect) {
    yandex.stepSaysReconnect = true
    loadAccount()
  }
}

let popupWatch = null
// Who the sign-in in flight is for: the user's own account, or the portal's organisation (the settings
// page), whose page is told when it ends: {onDone(ok)}.
let organisationSignIn = null

function finished(ok) {
  clearInterval(popupWatch)
  popupWatch = null
  if (organisationSignIn) {
    const { onDone } = organisationSignIn
    organisationSignIn = null
    onDone(ok)
    return
  }
  if (ok) yandex.stepSaysReconnect = false
  loadAccount()
}

/** The Yandex sign-in in a popup; false when the browser refused to open it. */
function openSignIn(url) {
  yandex.popupBlocked = false
  yandex.askReplace = false
  const popup = window.open(url, 'telemost-yandex', POPUP_FEATURES)
  if (!popup) {
    yandex.popupBlocked = true
    return false
  }
  try {
    popup.focus()
  } catch {
    /* the popup may be on another origin by now */
  }
  clearInterval(popupWatch)
  popupWatch = setInterval(() => {
    if (popup.closed) finished(false)
  }, 800)
  return true
}

/** An administrator connects the portal's Yandex 360 organisation; onDone(ok) once the popup is done. */
export function connectOrganisation(onDone) {
  organisationSignIn = null
  if (openSignIn(api.yandexOrganisationLoginUrl())) organisationSignIn = { onDone }
  return !yandex.popupBlocked
}

/**
 * Opens the Yandex sign-in. `{replace: true}` is the user's answer to "replace the connected account?":
 * without it the server keeps a connected account that differs from the one signed in to.
 */
export function connect(options) {
  const replace = options?.replace === true // a click handler passes its event here
  organisationSignIn = null
  openSignIn(api.yandexLoginUrl() + (replace ? '&replace=1' : ''))
}

export async function disconnect() {
  yandex.busy = true
  try {
    await api.disconnectYandex()
    showToast(t('yandex.disconnected'))
  } catch (error) {
    if (error.status !== 404) yandex.error = requestProblem(error)
  } finally {
    yandex.busy = false
  }
  await loadAccount()
}

// The popup's last page (on our origin) posts {source: 'telemost-yandex', ok, replace}.
if (typeof window !== 'undefined') {
  window.addEventListener('message', (event) => {
    if (event.origin !== window.location.origin) return
    const data = event.data
    if (!data || data.source !== 'telemost-yandex') return
    if (!session.ready) return
    if (organisationSignIn) {
      showToast(data.ok ? t('org.connected') : t('org.connectFailed'), { tone: data.ok ? 'info' : 'error' })
    } else if (!data.ok && data.replace === true) {
      yandex.askReplace = true
    } else {
      showToast(data.ok ? t('yandex.connected') : t('yandex.connectFailed'), { tone: data.ok ? 'info' : 'error' })
    }
    finished(Boolean(data.ok))
  })
}

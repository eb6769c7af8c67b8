// The app token from the launch page, renewed from BX24.getAuth() before it runs out and on any 401.
import { reactive } from 'vue'
import * as bx24 from './bx24.js'

const RENEW_AT = 0.8 // of the token's lifetime
const RETRY_MS = 15000 // after a renewal that failed for a passing reason

export const session = reactive({
  ready: false, // a config with a token was found
  token: '',
  expiresAt: 0,
  user: { id: 0, name: '', email: null, is_admin: false },
  basePath: '',
  portal: '',
  memberId: '',
  lang: 'ru',
  sandbox: false,
  placement: null, // where the app was opened: {code, options} (placement.js)
  expired: false, // renewal is impossible: the user must reopen the app
})

/** The JSON the launch page put in <script id="app-config">, or null. */
export function readConfig() {
  const element = document.getElementById('app-config')
  if (!element) return null
  try {
    const config = JSON.parse(element.textContent || 'null')
    return config && typeof config === 'object' ? config : null
  } catch {
    return null
  }
}

function launchLanguage() {
  try {
    return new URLSearchParams(window.location.search).get('LANG') || ''
  } catch {
    return ''
  }
}

let timer = null

function schedule(seconds) {
  clearTimeout(timer)
  const delay = Math.max(5, Number(seconds) || 0) * 1000
  timer = setTimeout(() => {
    renew().catch(() => {})
  }, delay)
}

function apply(token, expiresIn, user) {
  session.token = token
  session.expiresAt = Date.now() + Number(expiresIn || 0) * 1000
  if (user && typeof user === 'object') session.user = { ...session.user, ...user }
  session.expired = false
  schedule(Number(expiresIn || 0) * RENEW_AT)
}

export function startSession(config) {
  if (!config || !config.token) {
    session.lang = launchLanguage() || 'ru'
    return false
  }
  session.ready = true
  session.basePath = String(config.basePath || '').replace(/\/+$/, '')
  session.portal = String(config.portal || '')
  session.memberId = String(config.memberId || '')
  session.lang = config.lang || launchLanguage() || 'ru'
  session.sandbox = Boolean(config.sandbox)
  session.placement = config.placement || null
  apply(config.token, config.expiresIn || 1800, config.user)
  bx24.ready() // BX24.init early, so that getAuth has an answer when we need it
  return true
}

class RenewalError extends Error {
  constructor(message, final) {
    super(message)
    this.final = final // true: no way to renew without reopening the app
  }
}

async function renewNow(fresh) {
  await bx24.ready()
  // fresh: the portal's newest pair, whose refresh token the app has not used yet (see renewBitrixAuth)
  let auth = fresh ? await bx24.refreshAuth() : bx24.getAuth()
  if (!auth || !auth.access_token) auth = await bx24.refreshAuth()
  if (!auth || !auth.access_token) throw new RenewalError('no portal auth', true)
  let response
  try {
    response = await fetch(`${session.basePath}/api/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({
        auth_id: auth.access_token,
        domain: auth.domain || session.portal,
        member_id: auth.member_id || session.memberId,
        // The server keeps the user's own pair (once the OAuth server says it is theirs): work done for
        // the user is then done with their authorisation, never an administrator's.
        ...(auth.refresh_token ? { refresh_id: auth.refresh_token } : {}),
      }),
    })
  } catch {
    throw new RenewalError('network', false)
  }
  if (response.status === 401 || response.status === 403 || response.status === 422 || response.status === 400) {
    throw new RenewalError(`refused (${response.status})`, true)
  }
  if (!response.ok) throw new RenewalError(`status ${response.status}`, false)
  const body = await response.json()
  apply(body.token, body.expires_in, body.user)
  return session.token
}

let renewing = null

/** One renewal at a time; resolves the new token. A final failure marks the session expired. */
export function renew(fresh = false) {
  if (!renewing) {
    renewing = renewNow(fresh)
      .catch((error) => {
        if (error.final) session.expired = true
        else schedule(RETRY_MS / 1000) // Bitrix24 or the network will answer again
        throw error
      })
      .finally(() => {
        renewing = null
      })
  }
  return renewing
}

/** A step said the app holds no Bitrix24 authorisation of the user's (error_code bitrix_reauth): a renewal
 * with a fresh pair from the portal hands it one. */
export function renewBitrixAuth() {
  return renew(true)
}

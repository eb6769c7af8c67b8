// The JSON API (CONTRACT §4): fetch with the app token, one renewal and retry on 401, and every
// failure turned into an ApiError {status, code, message, fields}.
import { session, renew } from './session.js'
import { t } from './i18n.js'

export class ApiError extends Error {
  constructor({ status = 0, code = 'error', reason = '', message = '', fields = {}, fieldCodes = {}, params = {} } = {}) {
    super(message || t('error.generic'))
    this.status = status
    this.code = code
    this.reason = reason || code // the finer cause, when the server names one
    this.fields = fields && typeof fields === 'object' ? fields : {}
    this.fieldCodes = fieldCodes && typeof fieldCodes === 'object' ? fieldCodes : {}
    this.params = params && typeof params === 'object' ? params : {} // e.g. {retry_after} of a 429
  }
}

function queryString(query) {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

async function send(method, path, { query, body, headers } = {}) {
  const init = {
    method,
    headers: { Accept: 'application/json', Authorization: `Bearer ${session.token}`, ...(headers || {}) },
  }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  try {
    return await fetch(`${session.basePath}/api${path}${queryString(query)}`, init)
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: t('error.network') })
  }
}

async function errorOf(response) {
  let payload = null
  try {
    payload = await response.json()
  } catch {
    /* not JSON: a proxy's error page */
  }
  const error = (payload && payload.error) || {}
  return new ApiError({
    status: response.status,
    code: error.code || `http_${response.status}`,
    message: error.message || (response.status === 409 ? t('error.conflict') : t('error.generic')),
    fields: error.fields || {},
    fieldCodes: error.field_codes || {},
    reason: error.reason || error.code || '',
    params: { retry_after: response.headers.get('Retry-After') || '' },
  })
}

// The last answer to each conditional GET, by URL, with its ETag: a 304 hands back the same object, so
// that a poll which finds nothing new costs the server a lookup and the page nothing (`unchanged`).
const KEEP_ANSWERS = 50
const lastAnswers = new Map()

/** Whether `answer` is the very object an earlier conditional GET returned (a 304 since). */
export function unchanged(before, answer) {
  return before !== undefined && before === answer
}

function rememberAnswer(key, etag, body) {
  if (!etag) return
  lastAnswers.delete(key)
  lastAnswers.set(key, { etag, body })
  if (lastAnswers.size > KEEP_ANSWERS) lastAnswers.delete(lastAnswers.keys().next().value)
}

async function conditionalGet(path, options = {}) {
  const key = `${session.token}|${path}${queryString(options.query)}`
  const known = lastAnswers.get(key)
  const headers = known ? { ...(options.headers || {}), 'If-None-Match': known.etag } : options.headers
  const { response, body } = await exchange('GET', path, { ...options, headers })
  if (response.status === 304 && known) return known.body
  rememberAnswer(key, response.headers.get('ETag'), body)
  return body
}

export async function request(method, path, options = {}) {
  return (await exchange(method, path, options)).body
}

async function exchange(method, path, options = {}) {
  let response = await send(method, path, options)
  if (response.status === 401) {
    // bitrix_reauth: the session is fine, the app lacks the user's own Bitrix24 pair; a renewal with the
    // portal's fresh pair brings it, and failing that the error is shown, the session kept.
    const reauth = (await errorOf(response.clone())).code === 'bitrix_reauth'
    try {
      await renew(reauth)
    } catch {
      throw new ApiError({ status: 401, code: 'unauthorized', message: t('error.session') })
    }
    response = await send(method, path, options)
    if (response.status === 401) {
      const error = await errorOf(response)
      if (error.code !== 'bitrix_reauth') session.expired = true
      throw error
    }
  }
  if (response.status === 304) return { response, body: null }
  if (!response.ok) throw await errorOf(response)
  if (response.status === 204) return { response, body: null }
  try {
    return { response, body: await response.json() }
  } catch {
    return { response, body: null }
  }
}

/** A v4 UUID, from crypto.randomUUID where the page is a secure context, else from getRandomValues. */
export function newIdempotencyKey() {
  const cryptoApi = typeof crypto !== 'undefined' ? crypto : null
  if (cryptoApi && typeof cryptoApi.randomUUID === 'function') {
    try {
      return cryptoApi.randomUUID()
    } catch {
      /* not a secure context */
    }
  }
  const bytes = new Uint8Array(16)
  if (cryptoApi && typeof cryptoApi.getRandomValues === 'function') cryptoApi.getRandomValues(bytes)
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256)
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export const api = {
  listConferences: (query) => conditionalGet('/conferences', { query }),
  getConference: (id) => conditionalGet(`/conferences/${encodeURIComponent(id)}`),
  createConference: (body, idempotencyKey) =>
    request('POST', '/conferences', { body, headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} }),
  updateConference: (id, body) => request('PUT', `/conferences/${encodeURIComponent(id)}`, { body }),
  cancelConference: (id) => request('DELETE', `/conferences/${encodeURIComponent(id)}`),
  retryConference: (id) => request('POST', `/conferences/${encodeURIComponent(id)}/retry`),
  searchUsers: (q, page = 1) => request('GET', '/bitrix/users', { query: { q, page } }),
  person: (userId) => request('GET', `/bitrix/users/${encodeURIComponent(userId)}`),
  chat: (dialogId) => request('GET', `/bitrix/chats/${encodeURIComponent(dialogId)}`),
  crmRecord: (entityType, entityId) =>
    request('GET', `/bitrix/crm/${encodeURIComponent(entityType)}/${encodeURIComponent(entityId)}`),
  yandexAccount: () => request('GET', '/yandex/account'),
  disconnectYandex: () => request('DELETE', '/yandex/account'),
  yandexLoginUrl: () => `${session.basePath}/auth/yandex/login?token=${encodeURIComponent(session.token)}`,
  yandexOrganisationLoginUrl: () => `${api.yandexLoginUrl()}&organisation=1`,
  settings: () => request('GET', '/settings'),
  portalDefaults: () => request('GET', '/settings/defaults'),
  saveSettings: (body) => request('PUT', '/settings', { body }),
  settingsChanges: (page = 1, perPage = 10) => request('GET', '/settings/changes', { query: { page, per_page: perPage } }),
  disconnectOrganisation: () => request('DELETE', '/settings/yandex/organisation'),
  exportConferences: (query) => download('/conferences/export.csv', query),
}

/** A file the API answers (with the app token, which a plain link cannot send), as a Blob. */
async function download(path, query) {
  const response = await send('GET', path, { query, headers: { Accept: 'text/csv' } })
  if (response.status === 401) {
    await renew().catch(() => {
      throw new ApiError({ status: 401, code: 'unauthorized', message: t('error.session') })
    })
    return download(path, query)
  }
  if (!response.ok) throw await errorOf(response)
  return response.blob()
}

export const FINAL_STATUSES = ['ready', 'partially_failed', 'failed', 'cancelled']
export const ALL_STATUSES = ['pending', 'provisioning', 'ready', 'partially_failed', 'failed', 'syncing', 'cancelling', 'cancelled']
export const STEP_ORDER = ['create_room', 'sync_cohosts', 'calendar_event', 'chat_message', 'crm_link', 'notify_invitees', 'robot_result']

export function isFinal(status) {
  return FINAL_STATUSES.includes(status)
}

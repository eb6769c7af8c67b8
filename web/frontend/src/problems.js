// What the server says went wrong, in the interface's language: every error the API returns carries a
// stable code (the request's, each field's, each step's), translated from messages/server.js. The
// server's English `message` is never shown; a code this page does not know gets the general text of
// its kind, so an unknown refusal still reads in Russian.
import { has, t } from './i18n.js'

/** A field's problem, {code, ...params} from the error's `field_codes`, as a sentence. */
export function fieldProblem(detail) {
  const code = detail && typeof detail === 'object' ? detail.code : detail
  return has(`field.${code}`) ? t(`field.${code}`, detail || {}) : t('field.invalid')
}

/** {field: sentence} for an ApiError's fields, keyed by the form's ids ('cohosts.3' -> 'cohosts-3'). */
export function fieldProblems(error) {
  const codes = (error && error.fieldCodes) || {}
  const out = {}
  for (const field of Object.keys((error && error.fields) || {})) {
    out[field.replace(/\./g, '-')] = fieldProblem(codes[field] || { code: 'invalid' })
  }
  return out
}

/** The request's problem as a sentence: by its code, then by its HTTP status, then in general. */
export function requestProblem(error) {
  for (const code of [error && error.reason, error && error.code]) {
    if (code && has(`error.${code}`)) return t(`error.${code}`, error.params || {})
  }
  const status = error && error.status
  if (status && has(`error.http_${status}`)) return t(`error.http_${status}`)
  return t('error.generic')
}

/** A step's error as a sentence: its code, else the general text for a step of that name. */
export function stepProblem(step) {
  const code = step && step.error_code
  if (code && has(`stepError.${code}`)) return t(`stepError.${code}`)
  return t(`stepError.any.${step && step.name}`)
}

// Safe wrappers around window.BX24: inside a portal (or the sandbox shim) they call it; outside one,
// where BX24 is missing, they do nothing and say so instead of throwing.
const INIT_TIMEOUT_MS = 5000

function bx() {
  return typeof window !== 'undefined' && window.BX24 && typeof window.BX24 === 'object' ? window.BX24 : null
}

export function available() {
  return bx() !== null
}

let readyPromise = null

/** Resolves true once BX24.init has called back, false when there is no BX24 or it never answers. */
export function ready() {
  if (readyPromise) return readyPromise
  readyPromise = new Promise((resolve) => {
    const api = bx()
    if (!api || typeof api.init !== 'function') {
      resolve(false)
      return
    }
    let done = false
    const finish = (value) => {
      if (!done) {
        done = true
        resolve(value)
      }
    }
    setTimeout(() => finish(false), INIT_TIMEOUT_MS)
    try {
      api.init(() => finish(true))
    } catch {
      finish(false)
    }
  })
  return readyPromise
}

/** {access_token, domain, member_id, ...} or false. */
export function getAuth() {
  const api = bx()
  if (!api || typeof api.getAuth !== 'function') return false
  try {
    return api.getAuth() || false
  } catch {
    return false
  }
}

/** Asks the portal for a fresh token; resolves the auth object or false. */
export function refreshAuth() {
  return new Promise((resolve) => {
    const api = bx()
    if (!api || typeof api.refreshAuth !== 'function') {
      resolve(false)
      return
    }
    const timer = setTimeout(() => resolve(false), INIT_TIMEOUT_MS)
    try {
      api.refreshAuth((auth) => {
        clearTimeout(timer)
        resolve(auth && auth.access_token ? auth : getAuth())
      })
    } catch {
      clearTimeout(timer)
      resolve(false)
    }
  })
}

let fitScheduled = false
let lastHeight = 0

function contentHeight() {
  // Not BX24.fitWindow: it sends getScrollSize().scrollHeight, which is never less than the frame's own
  // height (b24restdocs sdk/bx24-js-sdk/additional-functions/bx24-fit-window.md), so the frame could grow
  // and never shrink. The body's scrollHeight is the content's, dialogs and dropdowns included.
  const body = document.body
  return body ? Math.ceil(body.scrollHeight) : 0
}

/** Sizes the portal's frame to our content, up and down (BX24.resizeWindow); one call per frame. */
export function fitWindow() {
  const api = bx()
  if (!api || typeof api.resizeWindow !== 'function' || fitScheduled) return
  fitScheduled = true
  const run = () => {
    fitScheduled = false
    ready().then((ok) => {
      const height = contentHeight()
      if (!ok || !height || height === lastHeight) return
      lastHeight = height
      try {
        api.resizeWindow('100%', height)
      } catch {
        /* a portal without a frame to resize */
      }
    })
  }
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(run)
  else setTimeout(run, 16)
}

/** The portal's page title for the app (BX24.setTitle, bx24-set-title.md). */
export function setTitle(title) {
  const api = bx()
  if (!api || typeof api.setTitle !== 'function') return
  ready().then((ok) => {
    if (!ok) return
    try {
      api.setTitle(String(title))
    } catch {
      /* nothing to do: the title is a courtesy */
    }
  })
}

/**
 * Opens a page of this portal in its slider (BX24.openPath, bx24-open-path.md): `path` starts with "/".
 * Resolves true when the portal opened it; false where it cannot (outside a portal, the mobile app,
 * which refuses openPath), and then the caller opens `fallbackUrl` in a new tab instead.
 */
export function openPath(path, fallbackUrl) {
  const api = bx()
  const fallback = () => {
    if (fallbackUrl) window.open(fallbackUrl, '_blank', 'noopener')
    return false
  }
  if (!api || typeof api.openPath !== 'function' || !String(path).startsWith('/')) return Promise.resolve(fallback())
  return ready().then(
    (ok) =>
      new Promise((resolve) => {
        if (!ok) return resolve(fallback())
        try {
          api.openPath(path, (answer) => {
            // The callback hears of an error, or of the slider's closing.
            if (answer && answer.result === 'error') fallback()
          })
          resolve(true)
        } catch {
          resolve(fallback())
        }
      }),
  )
}

/**
 * Opens a chat in the portal's messenger (BX24.im.openMessenger, b24restdocs sdk/bx24-js-sdk/
 * additional-functions/outdated/bx24-im-open-messenger.md): false where there is none, and then the caller
 * opens the messenger's page instead.
 */
export function openMessenger(dialogId) {
  const api = bx()
  if (!api || !api.im || typeof api.im.openMessenger !== 'function') return Promise.resolve(false)
  return ready().then((ok) => {
    if (!ok) return false
    try {
      api.im.openMessenger(String(dialogId))
      return true
    } catch {
      return false
    }
  })
}

export function canSelectUsers() {
  const api = bx()
  return Boolean(api && typeof api.selectUsers === 'function')
}

/** Opens the portal's own people picker; calls back with [{id: Number, name}] (the portal may send ids as strings). */
export function selectUsers(callback) {
  const api = bx()
  if (!api || typeof api.selectUsers !== 'function') return false
  ready().then(() => {
    try {
      api.selectUsers((chosen) => {
        const list = Array.isArray(chosen) ? chosen : chosen ? [chosen] : []
        const users = list
          .map((user) => ({ id: Number.parseInt(user && user.id, 10), name: String((user && user.name) || '').trim() }))
          .filter((user) => Number.isInteger(user.id) && user.id > 0)
        callback(users)
      })
    } catch {
      callback([])
    }
  })
  return true
}

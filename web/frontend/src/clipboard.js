import { t } from './i18n.js'
import { showToast } from './toast.js'

// Copying a link: the async Clipboard API where the frame may use it, else a selected textarea and
// execCommand('copy'), which still works inside frames that lack the clipboard-write permission.
function clipboardApiAllowed() {
  if (typeof navigator === 'undefined' || !navigator.clipboard || typeof navigator.clipboard.writeText !== 'function') {
    return false
  }
  // A frame without allow="clipboard-write" refuses (and logs a policy violation): skip straight to the fallback.
  const policy = typeof document !== 'undefined' ? document.permissionsPolicy || document.featurePolicy : null
  try {
    return !policy || typeof policy.allowsFeature !== 'function' || policy.allowsFeature('clipboard-write')
  } catch {
    return true
  }
}

// Copies and says so in a toast beside the button that was pressed.
export async function copyWithToast(text, anchor) {
  const ok = await copyText(text)
  showToast(ok ? t('toast.copied') : t('toast.copyFailed'), { tone: ok ? 'info' : 'error', anchor })
}

export async function copyText(text) {
  if (clipboardApiAllowed()) {
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch {
      /* denied in this frame: fall back */
    }
  }
  return legacyCopy(text)
}

function legacyCopy(text) {
  const focused = document.activeElement
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'absolute'
  area.style.left = '-9999px'
  area.style.top = `${window.scrollY}px`
  document.body.appendChild(area)
  area.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  area.remove()
  if (focused && typeof focused.focus === 'function') focused.focus({ preventScroll: true })
  return ok
}

// One short message at a time ("Link copied"), shown near what the user acted on: inside a portal the
// frame grows to fit the page, so a toast fixed to the frame's bottom could be far below the screen.
import { reactive } from 'vue'

const SHOW_MS = 2600

export const toast = reactive({ visible: false, message: '', tone: 'info', top: null, serial: 0 })

let timer = null

export function showToast(message, { tone = 'info', anchor = null } = {}) {
  let top = null
  const element = anchor || (typeof document !== 'undefined' ? document.activeElement : null)
  if (element && element !== document.body && typeof element.getBoundingClientRect === 'function') {
    const rect = element.getBoundingClientRect()
    if (rect.width || rect.height) top = Math.round(rect.bottom + window.scrollY + 8)
  }
  toast.message = message
  toast.tone = tone
  toast.top = top
  toast.visible = true
  toast.serial += 1
  clearTimeout(timer)
  timer = setTimeout(() => {
    toast.visible = false
  }, SHOW_MS)
}

export function hideToast() {
  clearTimeout(timer)
  toast.visible = false
}

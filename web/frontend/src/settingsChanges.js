// A recorded change of the settings ({"defaults.duration_minutes": {"from": 60, "to": 30}}) in the page's
// language: the setting's name and each value as the settings page shows it.
import { has, t } from './i18n.js'

/** The text of `key`, or the value itself when this page does not know it. */
const known = (key, value) => (has(key) ? t(key) : String(value))

const SAYS = {
  'defaults.waiting_room_level': (value) => known(`form.wr.${value}`, value),
  'defaults.duration_minutes': (value) => t('changes.minutes', { n: value }),
  'defaults.reminder_minutes': (value) => (value ? t('changes.minutes', { n: value }) : t('changes.noReminder')),
  'defaults.auto_summary': (value) => (value ? t('changes.yes') : t('changes.no')),
  broadcasts: (value) => known(`settings.broadcasts.${value}`, value),
  // The secret is never recorded, only that it was set or changed.
  'yandex.service_app.client_secret': (value) => (value === 'set' ? t('changes.set') : t('changes.changed')),
}

export function settingName(name) {
  return has(`setting.${name}`) ? t(`setting.${name}`) : name
}

export function settingValue(name, value) {
  if (value === null || value === undefined || value === '') return t('changes.none')
  return SAYS[name] ? SAYS[name](value) : String(value)
}

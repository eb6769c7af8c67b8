// Entry: read the launch page's config, pick the language, start the session, mount the app.
import './style.css'
import { createApp } from 'vue'
import App from './App.vue'
import { readConfig, session, startSession } from './session.js'
import { setLanguage } from './i18n.js'

const config = readConfig()
startSession(config)
setLanguage(session.lang)

const mountPoint = document.getElementById('app')
if (mountPoint) {
  mountPoint.removeAttribute('class') // the page's placeholder styling; the app brings its own
  createApp(App).mount(mountPoint)
}

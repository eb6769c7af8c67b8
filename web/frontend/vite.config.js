// Builds the single-page app into ../static/dist with a manifest (.vite/manifest.json) that the Flask
// launch page reads to find the hashed bundle: one entry, src/main.js, and its CSS.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import tailwindcss from '@tailwindcss/vite'

export default defineConfig({
  base: './',
  plugins: [vue(), tailwindcss()],
  build: {
    outDir: '../static/dist',
    emptyOutDir: true,
    manifest: true,
    rolldownOptions: { input: 'src/main.js' },
  },
  server: {
    // `npm run dev` serves index.html; the API and the Yandex popup come from a running app.
    proxy: {
      '/api': 'http://127.0.0.1:5000',
      '/auth': 'http://127.0.0.1:5000',
    },
  },
})

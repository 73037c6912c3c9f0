/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// The actix backend listens here in development (`autodb serve` default bind).
const apiProxy = { '/api': { target: 'http://127.0.0.1:5000' } }

export default defineConfig({
  // No component uses the Options API (naive-ui's and ours use setup): leave its support out.
  plugins: [vue({ features: { optionsAPI: false } })],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // vue-i18n feature flags: composition API only, no devtools hooks in production.
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    // Messages are compiled by src/locales/compile.ts: vue-i18n's compiler stays out.
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'true',
  },
  server: { proxy: apiProxy },
  preview: { proxy: apiProxy },
  // The manifest lets scripts/login-weight.mjs count what the login page loads.
  build: { outDir: 'dist', sourcemap: false, manifest: true },
  test: {
    environment: 'happy-dom',
    // Only unit tests; Playwright specs under e2e/ run with their own runner.
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})

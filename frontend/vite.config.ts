/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

/**
 * naive-ui's card header says role="heading" twice, nested, and without aria-level (an ARIA
 * error axe reports as critical): the title alone is the heading, at level 2 under the
 * page's h1. Production builds only (the dev server pre-bundles naive-ui untransformed).
 * Fails the build if naive-ui's file no longer looks so, so an upgrade reviews it.
 */
function cardHeading(): Plugin {
  const outer = /(normalizeStyle\(this\.headerStyle\)),\s*role: "heading"/
  const inner = /(-card-header__main`\),\s*role: "heading")/
  return {
    name: 'autodb:naive-card-heading',
    transform(code, id) {
      if (!/naive-ui[\\/]es[\\/]card[\\/]src[\\/]Card\.mjs$/.test(id)) return null
      if (!outer.test(code) || !inner.test(code)) {
        throw new Error('naive-ui Card.mjs changed: review cardHeading() in vite.config.ts')
      }
      return { code: code.replace(outer, '$1').replace(inner, '$1, "aria-level": 2'), map: null }
    },
  }
}

// The actix backend listens here in development (`autodb serve` default bind).
const apiProxy = { '/api': { target: 'http://127.0.0.1:5000' } }

export default defineConfig({
  // No component uses the Options API (naive-ui's and ours use setup): leave its support out.
  plugins: [vue({ features: { optionsAPI: false } }), cardHeading()],
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

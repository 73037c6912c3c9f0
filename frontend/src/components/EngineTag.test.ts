import { describe, expect, it } from 'vitest'
import { createApp, h, nextTick } from 'vue'
import { i18n } from '@/locales'
import { engineFlavour } from '@/utils/engines'
import EngineTag from './EngineTag.vue'

/** The tag's text, rendered for real (naive-ui, vue-i18n) into a detached element. */
async function tagText(props: Record<string, unknown>): Promise<string> {
  const el = document.createElement('div')
  const app = createApp({ render: () => h(EngineTag, props as never) })
  app.use(i18n).mount(el)
  await nextTick()
  const text = el.textContent?.trim() ?? ''
  app.unmount()
  return text
}

describe('engine tag', () => {
  it('names a MySQL-engine server that says MariaDB as MariaDB', async () => {
    expect(await tagText({ engine: 'mysql', serverVersion: '10.11.6-MariaDB-0+deb12u1' })).toBe('MariaDB')
    expect(await tagText({ engine: 'mysql', serverVersion: '8.0.36' })).toBe('MySQL')
    expect(await tagText({ engine: 'mysql' })).toBe('MySQL')
    expect(await tagText({ engine: 'mysql', flavour: 'mariadb' })).toBe('MariaDB')
  })

  it('leaves other engines alone whatever their version says', () => {
    expect(engineFlavour('postgres', 'PostgreSQL 16.4 (MariaDB-compatible? no)')).toBe('postgres')
    expect(engineFlavour('mysql', '11.4.2-mariadb-log')).toBe('mariadb')
    expect(engineFlavour('mysql', null)).toBe('mysql')
  })
})

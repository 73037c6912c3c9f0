import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, reactive, ref, type App } from 'vue'
import { i18n, setLocale } from '@/locales'
import SqlEditor from './SqlEditor.vue'

let app: App | null = null
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

function mountEditor(sql: string, extra: Record<string, unknown> = {}) {
  const text = ref(sql)
  const root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({
    render: () =>
      h(SqlEditor, {
        modelValue: text.value,
        'onUpdate:modelValue': (v: string) => (text.value = v),
        label: 'SQL',
        name: 'sql',
        dialect: 'postgresql',
        ...extra,
      }),
  })
  app.use(i18n)
  app.mount(root)
  return { root, text }
}

function formatButton(root: HTMLElement): HTMLButtonElement {
  return root.querySelector<HTMLButtonElement>('[data-testid="sql-format"]')!
}

describe('SqlEditor', () => {
  it('refuses to format a procedural block and says why', async () => {
    await setLocale('en')
    const { root } = mountEditor('DO $$ BEGIN PERFORM 1; END $$;')
    await nextTick()
    expect(formatButton(root).disabled).toBe(true)
    expect(root.querySelector('[data-testid="sql-format-refused"]')?.textContent).toContain('procedural block')
  })

  it('formats a SELECT in the dialect, upper-casing the keywords', async () => {
    await setLocale('en')
    const { root, text } = mountEditor('select a, b from t')
    await nextTick()
    expect(formatButton(root).disabled).toBe(false)
    formatButton(root).click()
    await vi.waitFor(() => expect(text.value).toBe('SELECT\n  a,\n  b\nFROM\n  t'))
  })

  it('names the editor after its field, once CodeMirror has loaded', async () => {
    await setLocale('en')
    const { root } = mountEditor('SELECT 1')
    await vi.waitFor(() => expect(root.querySelector('.cm-content')?.getAttribute('aria-label')).toBe('SQL'), { timeout: 5000 })
    expect(root.querySelector('[data-name="sql"]')).not.toBeNull()
    expect(root.querySelector('.cm-content')?.hasAttribute('aria-invalid')).toBe(false)
  })

  it('tells assistive technology when its field has an error', async () => {
    await setLocale('en')
    const { root } = mountEditor('DELETE FROM t', { invalid: true })
    await vi.waitFor(() => expect(root.querySelector('.cm-content')?.getAttribute('aria-invalid')).toBe('true'), { timeout: 5000 })
    expect(root.querySelector('.host')?.classList.contains('invalid')).toBe(true)
  })

  function pressModEnter(root: HTMLElement): void {
    const content = root.querySelector('.cm-content')!
    content.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', ctrlKey: true, bubbles: true, cancelable: true }))
  }

  it('runs the statement at the cursor on Ctrl/Cmd+Enter when runnable', async () => {
    await setLocale('en')
    const runs: string[] = []
    const { root } = mountEditor('SELECT 1;\nSELECT 2;', { runnable: true, onRun: (sql: string) => runs.push(sql) })
    await vi.waitFor(() => expect(root.querySelector('.cm-content')).not.toBeNull(), { timeout: 5000 })
    pressModEnter(root)
    expect(runs).toEqual(['SELECT 1;'])
  })

  it('does nothing on Ctrl/Cmd+Enter where nothing runs, not even a new line', async () => {
    await setLocale('en')
    const runs: string[] = []
    const { root, text } = mountEditor('SELECT 1;', { onRun: (sql: string) => runs.push(sql) })
    await vi.waitFor(() => expect(root.querySelector('.cm-content')).not.toBeNull(), { timeout: 5000 })
    pressModEnter(root)
    expect(runs).toEqual([])
    expect(text.value).toBe('SELECT 1;')
    expect(root.querySelectorAll('.cm-line')).toHaveLength(1)
  })

  it('asks for its schema only when focused, once per provider, and again for a new one', async () => {
    await setLocale('en')
    const info = { tables: [{ name: 'orders' }], columns: [] }
    const first = vi.fn(() => Promise.resolve(info))
    const second = vi.fn(() => Promise.resolve(info))
    // Read by the render: changing it gives the editor another provider.
    const provider = reactive({ completions: first })
    const { root } = mountEditor('', provider)
    await vi.waitFor(() => expect(root.querySelector('.cm-content')).not.toBeNull(), { timeout: 5000 })
    expect(first).not.toHaveBeenCalled()

    const content = root.querySelector<HTMLElement>('.cm-content')!
    content.focus()
    content.dispatchEvent(new FocusEvent('focus'))
    await vi.waitFor(() => expect(first).toHaveBeenCalledTimes(1))
    content.dispatchEvent(new FocusEvent('focus'))
    await nextTick()
    expect(first).toHaveBeenCalledTimes(1)

    provider.completions = second
    await nextTick()
    content.dispatchEvent(new FocusEvent('focus'))
    await vi.waitFor(() => expect(second).toHaveBeenCalledTimes(1))
    expect(first).toHaveBeenCalledTimes(1)
  })
})


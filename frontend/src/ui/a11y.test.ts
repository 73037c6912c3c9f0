import { afterEach, describe, expect, it } from 'vitest'
import { patchA11y } from './a11y'

let stop: (() => void) | undefined
afterEach(() => {
  stop?.()
  document.body.innerHTML = ''
})

describe('patchA11y', () => {
  it('names an unnamed field by its form item label, and leaves a named one alone', () => {
    document.body.innerHTML = `
      <div class="n-form-item">
        <label class="n-form-item-label"><span class="n-form-item-label__text">Host</span><span>*</span></label>
        <div class="n-form-item-blank"><input name="host"><input name="named" aria-label="Mine"></div>
      </div>`
    stop = patchA11y(document.body)
    const host = document.querySelector('input[name=host]')!
    const id = host.getAttribute('aria-labelledby')!
    expect(document.getElementById(id)?.textContent).toBe('Host')
    expect(document.querySelector('input[name=named]')!.hasAttribute('aria-labelledby')).toBe(false)
  })

  it('names a dialog by its title and makes scrolled table bodies focusable', () => {
    document.body.innerHTML = `
      <div role="dialog"><div class="n-card-header__main">New schedule</div></div>
      <div class="n-data-table-base-table-body"><div class="n-scrollbar-container"></div></div>`
    stop = patchA11y(document.body)
    const dialog = document.querySelector('[role=dialog]')!
    expect(document.getElementById(dialog.getAttribute('aria-labelledby')!)?.textContent).toBe('New schedule')
    expect(document.querySelector<HTMLElement>('.n-scrollbar-container')!.tabIndex).toBe(0)
  })
})

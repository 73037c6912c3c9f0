// What naive-ui leaves out that assistive technology needs (axe, e2e/pages.spec.ts), patched
// on the elements as they appear, since its components offer no prop for them:
// - Scrolled regions (the page's content, a table's body) take keyboard focus (WCAG 2.1.1):
//   else a keyboard user could not scroll one that holds nothing focusable (an empty table
//   too wide for a phone). Select menus and other popups are left alone: focus moving into
//   them would close them.
// - A dialog or drawer is named by its own title (aria-labelledby).
// - A field in a form item that nothing else names (no aria-label, no <label for>) is named
//   by the item's label: NFormItem draws its label apart from the field it holds.
const SCROLLERS = [
  '.n-layout-content > .n-scrollbar > .n-scrollbar-container',
  '.n-data-table-base-table-body .n-scrollbar-container',
].join(', ')
const DIALOG_TITLES = '.n-drawer-header__main, .n-card-header__main, .n-dialog__title'
const FIELDS = 'input:not([type=hidden]), textarea, [role=switch], [role=checkbox]'

let ids = 0
function idOf(el: Element): string {
  if (!el.id) el.id = `autodb-name-${++ids}`
  return el.id
}

function named(el: Element): boolean {
  if (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby')) return true
  return el.id !== '' && document.querySelector(`label[for="${CSS.escape(el.id)}"]`) !== null
}

function mark(root: HTMLElement): void {
  for (const el of root.querySelectorAll<HTMLElement>(SCROLLERS)) {
    if (!el.hasAttribute('tabindex')) el.tabIndex = 0
  }
  for (const dialog of root.querySelectorAll('[role=dialog], [role=alertdialog]')) {
    if (named(dialog)) continue
    const title = dialog.querySelector(DIALOG_TITLES)
    if (title?.textContent?.trim()) dialog.setAttribute('aria-labelledby', idOf(title))
  }
  for (const item of root.querySelectorAll('.n-form-item')) {
    const label = item.querySelector(':scope > .n-form-item-label > .n-form-item-label__text')
    if (!label?.textContent?.trim()) continue
    for (const field of item.querySelectorAll(`:scope > .n-form-item-blank :is(${FIELDS})`)) {
      if (!named(field)) field.setAttribute('aria-labelledby', idOf(label))
    }
  }
}

export function patchA11y(root: HTMLElement): () => void {
  let queued = false
  const observer = new MutationObserver(() => {
    if (queued) return
    queued = true
    requestAnimationFrame(() => {
      queued = false
      mark(root)
    })
  })
  observer.observe(root, { childList: true, subtree: true })
  mark(root)
  return () => observer.disconnect()
}

// `v-scroll-focus` on an NDataTable: its body scrolls sideways when the columns are wider
// than the page, and a keyboard user must be able to reach that scroll even when no row has
// a link or button (an empty list; WCAG 2.1.1, axe's scrollable-region-focusable). naive-ui
// offers no prop for its inner scroll container, so it is made focusable here.
import type { Directive } from 'vue'

function apply(el: HTMLElement): void {
  for (const body of el.querySelectorAll('.n-data-table-base-table-body .n-scrollbar-container')) {
    if (!body.hasAttribute('tabindex')) body.setAttribute('tabindex', '0')
  }
}

export const vScrollFocus: Directive<HTMLElement> = { mounted: apply, updated: apply }

// Which rows of a result are checked for copying, by row number: a click
// toggles one, Shift+click checks the run from the row last toggled.

export interface RowSelection {
  checked: ReadonlySet<number>
  /** The row last toggled, where a Shift+click's range starts. */
  anchor: number | null
}

export const NO_ROWS: RowSelection = { checked: new Set(), anchor: null }

export function toggleRow(sel: RowSelection, n: number, shift: boolean): RowSelection {
  const checked = new Set(sel.checked)
  if (shift && sel.anchor !== null) {
    for (let i = Math.min(sel.anchor, n); i <= Math.max(sel.anchor, n); i++) checked.add(i)
  } else if (checked.has(n)) {
    checked.delete(n)
  } else {
    checked.add(n)
  }
  return { checked, anchor: n }
}

/** Every row of `count` (numbered from 1), or none. */
export function checkAll(count: number, on: boolean): RowSelection {
  return { checked: on ? new Set(Array.from({ length: count }, (_, i) => i + 1)) : new Set(), anchor: null }
}

/** The checked rows in their order, or every row when none is checked. */
export function rowsToCopy<T extends { n: number }>(rows: T[], sel: RowSelection): T[] {
  return sel.checked.size ? rows.filter((r) => sel.checked.has(r.n)) : rows
}

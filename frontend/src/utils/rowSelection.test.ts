import { describe, expect, it } from 'vitest'
import { NO_ROWS, checkAll, rowsToCopy, toggleRow } from './rowSelection'

const rows = [1, 2, 3, 4, 5].map((n) => ({ n }))

describe('row selection', () => {
  it('a click checks a row and a second click unchecks it', () => {
    const one = toggleRow(NO_ROWS, 2, false)
    expect([...one.checked]).toEqual([2])
    expect([...toggleRow(one, 2, false).checked]).toEqual([])
  })

  it('Shift+click checks the run from the row last toggled, either way up', () => {
    const down = toggleRow(toggleRow(NO_ROWS, 2, false), 4, true)
    expect([...down.checked].sort()).toEqual([2, 3, 4])
    const up = toggleRow(toggleRow(NO_ROWS, 5, false), 3, true)
    expect([...up.checked].sort()).toEqual([3, 4, 5])
  })

  it('Shift+click with nothing toggled before is a plain click', () => {
    expect([...toggleRow(NO_ROWS, 3, true).checked]).toEqual([3])
  })

  it('copies the checked rows in their order, or all rows when none is checked', () => {
    const sel = toggleRow(toggleRow(NO_ROWS, 4, false), 1, false)
    expect(rowsToCopy(rows, sel).map((r) => r.n)).toEqual([1, 4])
    expect(rowsToCopy(rows, NO_ROWS)).toBe(rows)
  })

  it('checks all rows, or none', () => {
    expect(checkAll(3, true).checked.size).toBe(3)
    expect(rowsToCopy(rows, checkAll(5, false))).toBe(rows)
  })

  it('never changes the selection it was given', () => {
    const before = toggleRow(NO_ROWS, 1, false)
    toggleRow(before, 1, false)
    expect([...before.checked]).toEqual([1])
    expect(NO_ROWS.checked.size).toBe(0)
  })
})

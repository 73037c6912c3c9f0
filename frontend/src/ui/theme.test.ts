import { describe, expect, it } from 'vitest'
import { initialDark, lightOverrides } from './theme'

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi! + 0.05) / (lo! + 0.05)
}

describe('the colour scheme', () => {
  it('keeps a remembered choice over the system', () => {
    expect(initialDark('light', true)).toBe(false)
    expect(initialDark('dark', false)).toBe(true)
  })

  it('follows the system on a first visit (or after an unknown value)', () => {
    expect(initialDark(null, true)).toBe(true)
    expect(initialDark(null, false)).toBe(false)
    expect(initialDark('sepia', true)).toBe(true)
  })

  it("light colours meet WCAG AA (4.5:1) on white and on the page's grey", () => {
    const common = lightOverrides.common!
    for (const color of [common.primaryColor!, common.textColor3!]) {
      expect(contrast(color, '#ffffff'), color).toBeGreaterThanOrEqual(4.5)
      expect(contrast(color, '#f5f6f8'), color).toBeGreaterThanOrEqual(4.5)
    }
    // White text on a primary button.
    expect(contrast('#ffffff', common.primaryColor!)).toBeGreaterThanOrEqual(4.5)
  })
})

import { describe, expect, it } from 'vitest'
import { safeRedirect } from './redirect'

describe('safeRedirect', () => {
  it('follows a local path with its query', () => {
    expect(safeRedirect('/targets?tag=prod')).toBe('/targets?tag=prod')
  })

  it.each(['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '/login?redirect=/x'])(
    'refuses %s',
    (value) => {
      expect(safeRedirect(value)).toBeNull()
    },
  )

  it('takes the first of repeated query values and ignores missing ones', () => {
    expect(safeRedirect(['/audit', '/users'])).toBe('/audit')
    expect(safeRedirect(undefined)).toBeNull()
  })
})

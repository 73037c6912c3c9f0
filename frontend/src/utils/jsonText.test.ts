import { describe, expect, it } from 'vitest'
import { jsonSource, layoutJson } from './jsonText'

const samples = [
  '{"a": [1, 2], "b": {"c": null}}',
  ' [ ] ',
  '{}',
  '[{}, [], [[]], {"x": {}}]',
  '"just a string"',
  '-0.5',
  'true',
  '{"nested": {"deeper": [1, {"k": [false, "s"]}]}, "z": ""}',
  '{"a,b": "c:d", "q": "say \\"hi\\" [ok] {no}"}',
]

describe('layoutJson', () => {
  it('writes what JSON.stringify writes, compact and indented, when no number is too long for it', () => {
    for (const s of samples) {
      const value: unknown = JSON.parse(s)
      expect(layoutJson(s), s).toBe(JSON.stringify(value))
      expect(layoutJson(s, 2), s).toBe(JSON.stringify(value, null, 2))
    }
  })

  it('keeps every digit of numbers no double holds, and strings exactly as written', () => {
    const s = '{"id": 12345678901234567890123, "x": 0.1000000000000000055511, "e": 1E400, "u": "\\u00e9\\/"}'
    expect(layoutJson(s)).toBe('{"id":12345678901234567890123,"x":0.1000000000000000055511,"e":1E400,"u":"\\u00e9\\/"}')
    expect(layoutJson(s, 2)).toBe(
      '{\n  "id": 12345678901234567890123,\n  "x": 0.1000000000000000055511,\n  "e": 1E400,\n  "u": "\\u00e9\\/"\n}',
    )
    // What JSON.parse would have made of the id.
    expect(JSON.stringify(JSON.parse(s))).toContain('"id":1.2345678901234568e+22')
  })

  it('refuses what is not JSON, as JSON.parse does', () => {
    for (const bad of ['', '  ', '{', '[1,]', '{"a" 1}', '{1: 2}', '01', '[1] x', '"open', "'single'", 'NaN', '[1 2]', '{"a":1,}', '"tab\there"', '}', ',']) {
      expect(layoutJson(bad), bad).toBeNull()
      expect(() => JSON.parse(bad) as unknown, bad).toThrow()
    }
  })

  it('lays out nesting of any depth', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    expect(layoutJson(deep)).toBe(deep)
    const nested = '{"a":'.repeat(600) + '[1, {}]' + '}'.repeat(600)
    expect(layoutJson(nested, 2)).toBe(JSON.stringify(JSON.parse(nested), null, 2))
    expect(layoutJson(deep.slice(1))).toBeNull()
  })
})

describe('jsonSource', () => {
  it("is the server's JSON text, or the value a result stored before held, as JSON", () => {
    expect(jsonSource('{"id": 12345678901234567890123}')).toBe('{"id": 12345678901234567890123}')
    expect(jsonSource({ a: [1] })).toBe('{"a":[1]}')
    expect(jsonSource('hello')).toBe('"hello"')
    expect(jsonSource(null)).toBe('null')
    const deep = '['.repeat(600) + ']'.repeat(600)
    expect(jsonSource(deep)).toBe(deep)
  })
})

// The login page's `redirect` query comes from the URL, so anyone can craft it:
// only same-origin paths are followed, never another site.
export function safeRedirect(value: unknown): string | null {
  const v: unknown = Array.isArray(value) ? (value as unknown[])[0] : value
  if (typeof v !== 'string') return null
  if (!v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return null
  if (v.startsWith('/login')) return null
  return v
}

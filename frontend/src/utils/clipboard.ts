// navigator.clipboard exists only in secure contexts (HTTPS or localhost); on a
// plain-HTTP intranet address fall back to the old selection-based copy.
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // fall through to the fallback
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.appendChild(area)
  area.select()
  try {
    // Deprecated but the only option without a secure context.
    return document.execCommand('copy')
  } catch {
    return false
  } finally {
    area.remove()
  }
}

// The text to show for a failed API call: the server's own message, or ours
// when the server could not send one.
import { ApiError, BAD_RESPONSE, NETWORK_ERROR } from '@/api/http'
import { t } from '@/locales'

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === NETWORK_ERROR) return t('errors.network')
    if (err.code === BAD_RESPONSE) return t('errors.badResponse', { status: err.status })
    // Validation messages are relative to their field ("must be between 1 and
    // 65535"); away from the form they need the field's name.
    return err.field ? `${err.field}: ${err.message}` : err.message
  }
  return err instanceof Error ? err.message : String(err)
}

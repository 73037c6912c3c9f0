// Toasts for code that runs outside components (the HTTP transport, router
// guards). naive-ui's message API only exists inside its provider, so
// FeedbackBridge hands it over once App is mounted.
import type { MessageApi } from 'naive-ui'

let messageApi: MessageApi | null = null

export function registerMessageApi(api: MessageApi): void {
  messageApi = api
}

export const feedback = {
  error(text: string): void {
    // Before mount (or in tests) there is nowhere to show it; the console keeps it visible.
    if (messageApi) messageApi.error(text, { duration: 6000, closable: true })
    else console.error(text)
  },
  warning(text: string): void {
    if (messageApi) messageApi.warning(text)
    else console.warn(text)
  },
}

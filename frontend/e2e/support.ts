// What the journeys share: the server's credentials and SQLite file from
// e2e/run-e2e.sh, a per-run stamp, and the main menu.
import type { Page } from '@playwright/test'

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set (see e2e/run-e2e.sh)`)
  return value
}

export const username = requiredEnv('AUTODB_E2E_USER')
export const password = requiredEnv('AUTODB_E2E_PASSWORD')
export const sqlitePath = requiredEnv('AUTODB_E2E_SQLITE_PATH')

/**
 * Headers for a change sent with the page's session cookie outside the page (`page.request`):
 * AutoDB refuses cookie changes that do not name its own origin, as a browser's fetch does.
 */
export const sameOrigin = { Origin: new URL(requiredEnv('AUTODB_E2E_URL')).origin }

/** Unique per run, so the journeys also pass against a server and files with older data. */
export const stamp = Date.now().toString(36)

export async function openMenu(page: Page, label: string): Promise<void> {
  await page.getByTestId('main-menu').getByRole('link', { name: label, exact: true }).click()
}

// What the journeys share: the server's credentials and SQLite file from
// e2e/run-e2e.sh, a per-run stamp, and the main menu.
import { join } from 'node:path'
import { expect, test, type Locator, type Page } from '@playwright/test'

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

export async function signIn(page: Page): Promise<void> {
  await page.goto('/login')
  await page.locator('input[name="username"]').fill(username)
  await page.locator('input[name="password"]').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('current-user')).toHaveText(username)
}

/** Adds a target through the API (the page's session cookie); returns its id. */
export async function addTarget(page: Page, data: Record<string, unknown>): Promise<number> {
  const res = await page.request.post('/api/targets', {
    headers: sameOrigin,
    data: { host: '', port: 0, username: '', tags: [], options: {}, ...data },
  })
  expect(res.status(), await res.text()).toBe(201)
  return ((await res.json()) as { id: number }).id
}

/**
 * Where the journeys' screenshots go: target/e2e-screenshots/ of the repository
 * (kept as CI artifacts; e2e/run-e2e.sh sets the folder), else the test's output folder.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.AUTODB_E2E_SCREENSHOTS
  return dir ? join(dir, `${name}.png`) : test.info().outputPath(`${name}.png`)
}

/** A screenshot of the whole page, at the window size it has now. */
export async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(name), fullPage: true })
}

/**
 * Whether the element lies wholly inside the window (not scrolled away, not cut)
 * and is what the user sees at its centre (not clipped by a collapsed panel, not covered).
 */
export async function expectInViewport(page: Page, locator: Locator): Promise<void> {
  const seen = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect()
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
    return hit !== null && (el === hit || el.contains(hit))
  })
  expect(seen, 'the element is what shows at its centre').toBe(true)
  const box = await locator.boundingBox()
  const size = page.viewportSize()
  expect(box, 'the element is rendered').not.toBeNull()
  expect(size).not.toBeNull()
  expect(box!.y, 'top edge in the window').toBeGreaterThanOrEqual(0)
  expect(box!.x, 'left edge in the window').toBeGreaterThanOrEqual(0)
  expect(box!.y + box!.height, 'bottom edge in the window').toBeLessThanOrEqual(size!.height)
  expect(box!.x + box!.width, 'right edge in the window').toBeLessThanOrEqual(size!.width)
}

/** The nth SQL editor (CodeMirror) on the page, in page order: a job's scripts in their order. */
export function sqlEditor(page: Page, nth = 0): Locator {
  return page.getByTestId('sql-editor').nth(nth)
}

/** The text in the nth SQL editor, line by line (its placeholder left out). */
export async function sqlText(page: Page, nth = 0): Promise<string> {
  return sqlEditor(page, nth)
    .locator('.cm-content')
    .evaluate((content) =>
      Array.from(content.querySelectorAll(':scope > .cm-line'), (line) => {
        const copy = line.cloneNode(true) as HTMLElement
        copy.querySelectorAll('.cm-placeholder').forEach((p) => p.remove())
        return copy.textContent ?? ''
      }).join('\n'),
    )
}

/**
 * Replaces the text of the nth SQL editor with exactly `text`: inserted as one
 * input, so no bracket is closed and no line indented on the way.
 */
export async function fillSql(page: Page, text: string, nth = 0): Promise<void> {
  const content = sqlEditor(page, nth).locator('.cm-content')
  await content.click()
  await page.keyboard.press('ControlOrMeta+a')
  await page.keyboard.press('Delete')
  if (text) await page.keyboard.insertText(text)
  await expect.poll(() => sqlText(page, nth)).toBe(text)
}

// Accessibility (issue 13): axe-core over the page as it is now. Kept here at the end, with
// its import, so additions above stay apart.
import AxeBuilder from '@axe-core/playwright'

/**
 * The serious and critical accessibility violations (axe-core's WCAG 2.x A/AA rules and best
 * practices) on the page as it is now, one line each with up to five of its elements.
 */
export async function a11yProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n    ')}`)
}

/**
 * No serious or critical accessibility violation: call it once the page has loaded what it
 * shows. A toast ("Job submitted", an error) is let go first: it fades in and out, and axe
 * catching it half-transparent reports its text as too faint (it did, once in CI).
 */
export async function checkA11y(page: Page): Promise<void> {
  await expect(page.locator('.n-message'), 'toasts gone before axe').toHaveCount(0, { timeout: 10_000 })
  expect(await a11yProblems(page), `axe on ${new URL(page.url()).pathname}`).toEqual([])
}

/**
 * Chooses `name` in a target picker (`select`, a filterable NSelect): typed first, since a
 * long list (every journey adds targets) renders only its first options.
 */
export async function pickTarget(page: Page, select: Locator, name: string): Promise<void> {
  await select.click()
  await page.keyboard.type(name)
  // Menus of closed pickers stay in the page, hidden: only the open one counts.
  const menu = page.locator('.n-base-select-menu:visible')
  await menu.locator('.n-base-select-option', { hasText: name }).click()
  await page.keyboard.press('Escape')
  await expect(menu).toHaveCount(0)
}

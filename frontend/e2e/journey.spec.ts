// The foundation release's user journey, against a real AutoDB server:
// sign in, add a SQLite target, test it, reload a deep link, create an API
// token, find it all in the audit log, sign out. Every wait is on a condition.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { checkA11y, openMenu, password, sqlitePath, stamp, username } from './support'

const targetName = `e2e-sqlite-${stamp}`
const tokenName = `e2e-token-${stamp}`

function targetRow(page: Page): Locator {
  return page.getByTestId('targets-table').locator('tbody tr', { hasText: targetName })
}

test('an admin adds and tests a SQLite target, creates a token, and finds both in the audit log', async ({
  page,
  request,
}) => {

  await test.step('a deep link while signed out leads to the login page, then back', async () => {
    await page.goto('/targets')
    await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)targets$/)
    await expect(page.getByTestId('login-submit')).toBeVisible()
    await checkA11y(page)
    await page.locator('input[name="username"]').fill(username)
    await page.locator('input[name="password"]').fill(password)
    await page.getByTestId('login-submit').click()
    await expect(page).toHaveURL(/\/targets$/)
    await expect(page.getByTestId('current-user')).toHaveText(username)
  })

  await test.step('creates a SQLite target with only a file path', async () => {
    await page.getByTestId('target-new').click()
    const form = page.getByTestId('target-form')
    await expect(form.locator('input[name="port"]')).toHaveValue('5432')
    await form.locator('input[name="name"]').fill(targetName)
    await form.getByTestId('engine-select').click()
    await page.locator('.n-base-select-option', { hasText: /^SQLite$/ }).click()
    // SQLite is a file: the network fields disappear.
    await expect(form.locator('input[name="host"]')).toHaveCount(0)
    await expect(form.locator('input[name="password"]')).toHaveCount(0)
    await form.locator('input[name="database"]').fill(sqlitePath)

    const created = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/targets',
    )
    await page.getByTestId('target-save').click()
    const response = await created
    expect(response.status()).toBe(201)
    expect(((await response.json()) as { id: number }).id).toBeGreaterThan(0)
    await expect(targetRow(page)).toBeVisible()
    await expect(targetRow(page)).toContainText('SQLite')
  })

  await test.step('tests the connection and sees the SQLite version', async () => {
    await targetRow(page).getByRole('button', { name: 'Test', exact: true }).click()
    const result = page.getByTestId('test-result')
    await expect(result).toContainText('Connected')
    await expect(result).toContainText('SQLite')
    await expect(result.getByTestId('server-version')).toHaveText(/\d+\.\d+/)
    await result.getByRole('button', { name: 'Close', exact: true }).click()
    await expect(result).toBeHidden()
  })

  await test.step('a full reload on a filtered deep link shows the target list (history-mode fallback)', async () => {
    await page.goto(`/targets?q=${encodeURIComponent(targetName)}`)
    await expect(page.getByTestId('target-filter').locator('input')).toHaveValue(targetName)
    await expect(targetRow(page)).toBeVisible()
    await expect(page.getByTestId('targets-table').locator('tbody tr')).toHaveCount(1)
    await checkA11y(page)
  })

  await test.step('creates an API token, sees its secret once, and the token works', async () => {
    await openMenu(page, 'My account')
    await expect(page).toHaveURL(/\/account$/)
    await expect(page.getByTestId('token-new')).toBeVisible()
    await checkA11y(page)
    await page.getByTestId('token-new').click()
    await page.locator('input[name="token-name"]').fill(tokenName)
    await page.getByTestId('token-create').click()

    const secretBox = page.getByTestId('token-secret')
    await expect(secretBox).toHaveText(/\S{16,}/)
    await expect(page.getByTestId('token-copy')).toBeVisible()
    const secret = (await secretBox.textContent())?.trim() ?? ''

    // The secret authenticates on its own, without the browser's cookie.
    const me = await request.get('/api/auth/me', { headers: { Authorization: `Bearer ${secret}` } })
    expect(me.status()).toBe(200)
    expect(((await me.json()) as { username: string }).username).toBe(username)

    await page.getByTestId('token-done').click()
    await expect(secretBox).toHaveCount(0)
    await expect(page.getByTestId('tokens-table')).toContainText(tokenName)
    await expect(page.locator('body')).not.toContainText(secret)
  })

  await test.step('the audit log shows the login and the target creation', async () => {
    await openMenu(page, 'Audit log')
    await expect(page).toHaveURL(/\/audit$/)
    await page.locator('input[name="actor"]').fill(username)
    await page.getByRole('button', { name: 'Search', exact: true }).click()

    const table = page.getByTestId('audit-table')
    const loginRow = table.locator('tbody tr', { hasText: /sign in/i }).first()
    await expect(loginRow).toContainText(username)
    // The object cell names the target (and links to its page); the action names a creation.
    const objectCell = page.locator('td', { has: page.getByRole('link', { name: `Target “${targetName}”`, exact: true }) })
    const createRow = table.locator('tbody tr').filter({ has: objectCell }).filter({ hasText: /create/i })
    await expect(createRow.first()).toBeVisible()
    await checkA11y(page)
  })

  await test.step('the users page lists the admin', async () => {
    await openMenu(page, 'Users')
    await expect(page).toHaveURL(/\/users$/)
    await expect(page.locator('td', { hasText: username }).first()).toBeVisible()
    await checkA11y(page)
  })

  await test.step('logging out leads to the login page and ends the session', async () => {
    await page.getByTestId('logout').click()
    await expect(page).toHaveURL(/\/login$/)
    await page.goto('/targets')
    await expect(page).toHaveURL(/\/login\?redirect=/)
  })
})

// The temporary-access journey, against a real AutoDB and the local MariaDB (127.0.0.1:3306,
// root without a password): an admin adds a swap policy on a throwaway account and checks its
// rights, asks for access, sees the password once and logs in with it, extends, hands it back,
// and the account's own password works again. Skipped when no MariaDB answers.
import { execFileSync } from 'node:child_process'
import { expect, test, type Page } from '@playwright/test'
import { checkA11y, openMenu, password, sameOrigin, screenshotPath, stamp, username } from './support'

const account = `e2e_spt_${stamp}`
const original = `Orig-${stamp}-pw9`
const targetName = `e2e-grants-mariadb-${stamp}`
const policyName = `support ${stamp}`

/** Runs SQL with the mysql client; returns stdout, or throws with the server's message. */
function mysql(sql: string, user = 'root', pass = ''): string {
  const args = ['-h', '127.0.0.1', '-P', '3306', '-u', user, '-N', '-B', '-e', sql]
  return execFileSync('mysql', pass ? [...args, `-p${pass}`] : args, { encoding: 'utf8', stdio: 'pipe' })
}

function canLogIn(pass: string): boolean {
  try {
    return mysql('SELECT 1', account, pass).trim() === '1'
  } catch {
    return false
  }
}

function mariadbReachable(): boolean {
  try {
    mysql('SELECT 1')
    return true
  } catch {
    return false
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 })
    await page.screenshot({ path: screenshotPath(`grants-${name}-${width}`), fullPage: true })
  }
  await page.setViewportSize({ width: 1440, height: 900 })
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/login')
  await page.locator('input[name="username"]').fill(username)
  await page.locator('input[name="password"]').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('current-user')).toHaveText(username)
}

async function pick(page: Page, testId: string, option: string): Promise<void> {
  await page.getByTestId(testId).click()
  const menu = page.locator('.n-base-select-menu:visible')
  await menu.locator('.n-base-select-option', { hasText: option }).first().click()
  await expect(menu).toHaveCount(0)
}

test.describe('temporary access', () => {
  test.skip(!mariadbReachable(), 'no MariaDB at 127.0.0.1:3306')

  test.beforeAll(() => {
    mysql(`CREATE USER '${account}'@'%' IDENTIFIED BY '${original}'`)
  })
  test.afterAll(() => {
    mysql(`DROP USER IF EXISTS '${account}'@'%'`)
  })

  test('an admin grants itself a swap account, logs in with it, extends it and hands it back', async ({ page }) => {
    await test.step('signs in and adds the MariaDB target', async () => {
      await signIn(page)
      const res = await page.request.post('/api/targets', {
        headers: sameOrigin,
        data: {
          name: targetName,
          engine: 'mysql',
          host: '127.0.0.1',
          port: 3306,
          database: 'mysql',
          username: 'root',
          password: '',
          tags: ['e2e'],
          options: {},
        },
      })
      expect(res.status()).toBe(201)
    })

    await test.step('adds a swap policy and checks the rights of the AutoDB account', async () => {
      await openMenu(page, 'Access policies')
      await expect(page.getByTestId('policy-new')).toBeVisible()
      await checkA11y(page)
      await page.getByTestId('policy-new').click()
      const modal = page.getByTestId('policy-modal')
      await modal.locator('input[name="policy-name"]').fill(policyName)
      await pick(page, 'policy-target', targetName)
      await modal.locator('input[name="policy-account"]').fill(account)
      await modal.getByTestId('policy-mode').getByText('Swap').click()
      await modal.locator('input[name="policy-max-minutes"]').fill('240')
      await modal.getByTestId('policy-roles').getByText('Operator').click()
      await modal.getByTestId('policy-save').click()
      await expect(modal).toBeHidden()
      const row = page.getByTestId('policy-table').locator('tr', { hasText: policyName })
      await expect(row).toContainText(account)
      await expect(row).toContainText('4 h')

      await row.getByRole('button', { name: 'Check rights' }).click()
      const check = page.getByTestId('policy-check-modal')
      // root holds everything: every right is there and none is missing.
      await expect(check.getByTestId('policy-right').first()).toBeVisible()
      await expect(check.locator('[data-testid="policy-right"][data-ok="false"]')).toHaveCount(0)
      await expect(check).toContainText('holds every right')
      await shoot(page, 'grant-policy-check')
      await page.keyboard.press('Escape')
      await expect(check).toBeHidden()
    })

    let temporary = ''
    let grantId = 0
    await test.step('asks for 1 h and sees the password once, with a countdown', async () => {
      await openMenu(page, 'Temporary access')
      await expect(page.getByTestId('grant-policy')).toBeVisible()
      await checkA11y(page)
      await pick(page, 'grant-policy', policyName)
      // The presets stop at the policy maximum (4 h): 8 h is not offered.
      const durations = page.getByTestId('grant-duration')
      await expect(durations).toContainText('4 h')
      await expect(durations).not.toContainText('8 h')
      await durations.getByText('1 h', { exact: true }).click()
      await page.locator('textarea[name="grant-reason"]').fill(`e2e ticket ${stamp}`)
      const created = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/grants',
      )
      await page.getByTestId('grant-submit').click()
      const response = await created
      expect(response.status()).toBe(201)
      const body = (await response.json()) as { id: number; password: string; login: string }
      grantId = body.id
      temporary = body.password
      const card = page.getByTestId(`grant-card-${grantId}`)
      await expect(card.getByTestId('grant-password')).toHaveText(temporary)
      await expect(card.getByTestId('grant-login')).toHaveText(account)
      await expect(card.getByTestId('grant-countdown')).toHaveText(/^(59:\d\d|1:00:00)$/)
      await shoot(page, 'grant-active')
    })

    await test.step('the temporary password logs in; the original no longer does', () => {
      expect(canLogIn(temporary)).toBe(true)
      expect(canLogIn(original)).toBe(false)
    })

    await test.step('extends by 15 min', async () => {
      const card = page.getByTestId(`grant-card-${grantId}`)
      await pick(page, 'grant-extend-choice', '15 min')
      const extended = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/grants/${grantId}/extend`)
      await card.getByTestId('grant-extend').click()
      expect((await extended).status()).toBe(200)
      await expect(card.getByTestId('grant-countdown')).toHaveText(/^1:1\d:\d\d$/)
    })

    await test.step('hands it back: the original password works again, the temporary one is refused', async () => {
      await page.getByTestId(`grant-card-${grantId}`).getByTestId('grant-end').click()
      await page.locator('.n-dialog').getByRole('button', { name: 'Hand back' }).click()
      await expect(page.getByTestId(`grant-card-${grantId}`)).toHaveCount(0)
      // The password was shown once: gone from the page once handed back.
      await expect(page.getByText(temporary)).toHaveCount(0)
      await expect
        .poll(() => canLogIn(original), { timeout: 20_000, message: 'the original password works again' })
        .toBe(true)
      expect(canLogIn(temporary)).toBe(false)
      const row = page.getByTestId('grant-history').locator('tr', { hasText: `e2e ticket ${stamp}` })
      await page.getByRole('button', { name: 'Refresh' }).click()
      await expect(row.locator('[data-status="ended"]')).toBeVisible()
      await shoot(page, 'grant-history')
    })

    await test.step('the admin list shows it ended, and filters by status', async () => {
      await page.goto('/grants/admin?tab=grants&status=ended')
      const table = page.getByTestId('grant-table')
      await expect(table.locator('tr', { hasText: `e2e ticket ${stamp}` })).toBeVisible()
      await page.goto('/grants/admin?tab=grants&status=active')
      await expect(table.locator('tr', { hasText: `e2e ticket ${stamp}` })).toHaveCount(0)
      await shoot(page, 'grant-admin-list')
    })
  })
})

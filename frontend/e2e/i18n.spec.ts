// Both languages all the way (issue 13): a server refusal reads in the chosen language (the
// server names it by reason and params), the audit log says its actions and objects in words
// with links, and times are ISO 8601, 24-hour, with the offset, in both languages. Real AutoDB.
import { expect, test } from '@playwright/test'
import { addTarget, password, shoot, signIn, sqlitePath, stamp, username } from './support'

const ISO = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2}$/

for (const locale of ['en', 'zh-CN'] as const) {
  test.describe(`in ${locale}`, () => {
    test.use({ locale, viewport: { width: 1440, height: 900 } })
    const zh = locale === 'zh-CN'

    test('a wrong password is refused in the chosen language', async ({ page }) => {
      await page.goto('/login')
      await page.locator('input[name="username"]').fill(username)
      await page.locator('input[name="password"]').fill(`${password}-wrong`)
      await page.getByTestId('login-submit').click()
      await expect(page.getByTestId('login-error')).toHaveText(zh ? '用户名或密码错误' : 'invalid user name or password')
      await shoot(page, `i18n-login-refused-${locale}`)
    })

    test('the audit log names actions and objects in words, links them, and shows ISO times', async ({ page }) => {
      await signIn(page)
      const name = `e2e-i18n-${locale}-${stamp}`
      await addTarget(page, { name, engine: 'sqlite', database: sqlitePath })
      await page.goto('/audit')
      const row = page.locator('tr', { hasText: name }).first()
      await expect(row).toContainText(zh ? '创建' : 'Create')
      const link = row.getByRole('link', { name: zh ? `目标 “${name}”` : `Target “${name}”` })
      await expect(link).toBeVisible()
      const at = (await row.locator('td .nowrap').first().textContent())?.trim() ?? ''
      expect(at).toMatch(ISO)
      await shoot(page, `i18n-audit-${locale}`)
      await link.click()
      await expect(page).toHaveURL(/\/targets$/)
    })
  })
}

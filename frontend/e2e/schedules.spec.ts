// The schedules journey against a real AutoDB: create a schedule in the editor (the cron in
// words and the server's next runs while typing), see it listed, run it now and land on its
// job.
import { expect, test, type Page } from '@playwright/test'
import { checkA11y, openMenu, password, sameOrigin, sqlitePath, stamp, username } from './support'

const targetName = `e2e-sched-sqlite-${stamp}`
const scheduleName = `e2e nightly ${stamp}`

async function signIn(page: Page): Promise<void> {
  await page.goto('/login')
  await page.locator('input[name="username"]').fill(username)
  await page.locator('input[name="password"]').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('current-user')).toHaveText(username)
}

test('an admin creates a schedule with a preview of its next runs and runs it now', async ({ page }) => {
  let targetId = 0
  await test.step('signs in and adds a SQLite target', async () => {
    await signIn(page)
    const res = await page.request.post('/api/targets', {
      headers: sameOrigin,
      data: { name: targetName, engine: 'sqlite', host: '', port: 0, database: sqlitePath, username: '', tags: [], options: {} },
    })
    expect(res.status()).toBe(201)
    targetId = ((await res.json()) as { id: number }).id
  })

  await test.step('writes a cron expression and sees it in words and the next runs', async () => {
    await openMenu(page, 'Schedules')
    await expect(page).toHaveURL(/\/schedules$/)
    await expect(page.getByTestId('schedule-new')).toBeVisible()
    await checkA11y(page)
    await page.getByTestId('schedule-new').click()
    await page.getByTestId('schedule-name').locator('input').fill(scheduleName)
    await page.getByTestId('schedule-cron').locator('input').fill('30 2 * * 1-5')
    await expect(page.getByText('At 02:30, Monday through Friday')).toBeVisible()
    await expect(page.getByTestId('schedule-preview').locator('li')).toHaveCount(5)
    const job = { name: 'nightly', scripts: [{ sql: 'SELECT 1', target_ids: [targetId] }] }
    await page.locator('.mono textarea').fill(JSON.stringify(job))
    const created = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/schedules',
    )
    await page.getByTestId('schedule-save').click()
    expect((await created).status()).toBe(201)
  })

  await test.step('runs it now and lands on its job', async () => {
    const row = page.locator('tr', { hasText: scheduleName })
    await expect(row).toContainText('30 2 * * 1-5')
    await row.getByRole('button', { name: 'Run now' }).click()
    await expect(page).toHaveURL(/\/jobs\/\d+$/)
  })
})

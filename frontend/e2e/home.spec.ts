// The home page (issue 13): the landing page after sign-in, what runs now (asked again by
// itself), failures of the last 24 hours, and the outcomes chart drawn by ECharts, which
// only this page loads. In both languages and at 390 px. Real AutoDB, real PostgreSQL.
import { expect, test, type Page } from '@playwright/test'
import { addTarget, password, sameOrigin, shoot, sqlitePath, stamp, username } from './support'

const postgres = { engine: 'postgres', host: '127.0.0.1', port: 5432, database: 'postgres', username: 'postgres' }

async function submit(page: Page, name: string, target: number, sql: string): Promise<number> {
  const res = await page.request.post('/api/jobs', {
    headers: sameOrigin,
    data: { name, scripts: [{ sql, target_ids: [target] }] },
  })
  expect(res.status(), await res.text()).toBe(201)
  return ((await res.json()) as { id: number }).id
}

async function signInHere(page: Page): Promise<void> {
  await page.goto('/login')
  await page.locator('input[name="username"]').fill(username)
  await page.locator('input[name="password"]').fill(password)
  await page.getByTestId('login-submit').click()
}

for (const [locale, width] of [
  ['en', 1440],
  ['zh-CN', 1440],
  ['en', 390],
] as const) {
  test.describe(`in ${locale} at ${width} px`, () => {
    test.use({ locale, viewport: { width, height: 900 } })

    test('signing in lands on the home page; a job started later shows up by itself; the chart draws', async ({ page }) => {
      const charts: string[] = []
      page.on('response', (r) => {
        if (/\/assets\/echarts-/.test(r.url())) charts.push(r.url())
      })
      await signInHere(page)
      await expect(page).toHaveURL(/\/$/)
      await expect(page.getByTestId('home-running')).toBeVisible()
      const lite = await addTarget(page, { name: `e2e-home-lite-${locale}-${width}-${stamp}`, engine: 'sqlite', database: sqlitePath })
      await submit(page, `e2e-home-broken-${stamp}`, lite, 'SELECT * FROM no_such_table_anywhere')
      const pg = await addTarget(page, { name: `e2e-home-pg-${locale}-${width}-${stamp}`, ...postgres })
      const name = `e2e-home-sleeper-${locale}-${width}-${stamp}`
      const sleeper = await submit(page, name, pg, 'SELECT pg_sleep(60)')
      // No reload: the page asks again by itself.
      await expect(page.getByTestId('home-running').getByRole('link', { name })).toBeVisible({ timeout: 20_000 })
      await expect(page.getByTestId('home-failed').getByRole('link', { name: `e2e-home-broken-${stamp}` }).first()).toBeVisible({
        timeout: 20_000,
      })
      await expect(page.getByTestId('outcome-chart').locator('canvas')).toBeVisible()
      expect(charts.length, 'ECharts is loaded on the home page').toBeGreaterThan(0)
      await shoot(page, `home-${locale}-${width}`)
      const res = await page.request.post(`/api/jobs/${sleeper}/cancel`, { headers: sameOrigin })
      expect(res.status()).toBe(200)
    })
  })
}

test('the login page loads no chart code', async ({ page }) => {
  const charts: string[] = []
  page.on('response', (r) => {
    if (/\/assets\/(echarts|OutcomeChart)-/.test(r.url())) charts.push(r.url())
  })
  await page.goto('/login')
  await expect(page.getByTestId('login-submit')).toBeVisible()
  expect(charts).toEqual([])
})

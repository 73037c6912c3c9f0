// Journeys for what issue 13 found broken in the UI, each one failing before its fix:
// the job page opening scrolled away after a long form, a jobs list that never
// updates by itself, the connection test's label wrapped letter by letter, a
// stored query opened under an empty form, a missing job told twice, a cancelled
// run drawn as a full bar, and a sidebar that eats a phone's screen. Real AutoDB,
// real PostgreSQL (127.0.0.1:5432, trust authentication) and SQLite targets.
// Every wait is on a condition.
import { expect, test, type Locator, type Page } from '@playwright/test'
import {
  addTarget,
  expectInViewport,
  fillSql,
  openMenu,
  sameOrigin,
  screenshotPath,
  shoot,
  signIn,
  sqlitePath,
  sqlText,
  stamp,
  pickTarget,
} from './support'

const pgName = `e2e-broken-pg-${stamp}`
const sqliteName = `e2e-broken-sqlite-${stamp}`

/** PostgreSQL on its standard port with trust authentication, as scripts/lib.sh starts it. */
const postgres = { engine: 'postgres', host: '127.0.0.1', port: 5432, database: 'postgres', username: 'postgres' }

let pgId: number | null = null

async function pgTarget(page: Page): Promise<number> {
  pgId ??= await addTarget(page, { name: pgName, ...postgres, tags: ['e2e-broken'] })
  return pgId
}

async function submitJob(page: Page, data: Record<string, unknown>): Promise<number> {
  const res = await page.request.post('/api/jobs', { headers: sameOrigin, data })
  expect(res.status(), await res.text()).toBe(201)
  return ((await res.json()) as { id: number }).id
}

function scriptEditor(page: Page, index: number): Locator {
  return page.locator(`[data-testid="script-editor"][data-index="${index}"]`)
}

async function writeScript(page: Page, index: number, sql: string, target: string): Promise<void> {
  const editor = scriptEditor(page, index)
  await fillSql(page, sql, index)
  await pickTarget(page, editor.getByTestId('target-select'), target)
}

test.describe('at 1440 × 900', () => {
  test.use({ viewport: { width: 1440, height: 900 } })

  test('after submitting a long job form the job page opens at its top, and a cancelled run is not a full bar', async ({
    page,
  }) => {
    // Six scripts typed into the form, on a machine that may be busy.
    test.setTimeout(180_000)
    await signIn(page)
    await pgTarget(page)

    await test.step('fills a job of six long scripts and scrolls down to submit it', async () => {
      await openMenu(page, 'Jobs')
      await page.getByTestId('job-new').click()
      await page.getByTestId('job-form').locator('input[name="name"]').fill(`long form ${stamp}`)
      const filler = Array.from({ length: 20 }, (_, i) => `SELECT ${i + 1};`).join('\n')
      await writeScript(page, 0, `SELECT pg_sleep(60);\n${filler}`, pgName)
      for (let i = 1; i < 6; i++) {
        await page.getByTestId('script-add').click()
        await writeScript(page, i, filler, pgName)
      }
      await page.getByTestId('job-submit').scrollIntoViewIfNeeded()
      const scrolled = await page.evaluate(() => {
        const all = [document.scrollingElement, ...document.querySelectorAll('*')] as Element[]
        return Math.max(...all.map((el) => el?.scrollTop ?? 0))
      })
      expect(scrolled, 'the form is long enough to scroll').toBeGreaterThan(900)
      await page.screenshot({ path: screenshotPath('1-long-form-scrolled') })
    })

    await test.step('submits: the header, the status and Cancel are in view', async () => {
      const created = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/jobs',
      )
      await page.getByTestId('job-submit').click()
      const id = ((await (await created).json()) as { id: number }).id
      await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`))
      await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', /waiting|running/)
      await expect(page.getByTestId('job-cancel')).toBeVisible()
      await expect(page.getByTestId('script-status')).toHaveCount(6)
      await page.screenshot({ path: screenshotPath('1-job-page-after-submit') })
      await expectInViewport(page, page.locator('h1', { hasText: `#${id}` }))
      await expectInViewport(page, page.getByTestId('job-status'))
      await expectInViewport(page, page.getByTestId('job-cancel'))
    })

    await test.step('cancels it: the cancelled run is drawn in the cancelled colour, not as a success', async () => {
      await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'running')
      await page.getByTestId('job-cancel').click()
      await page.locator('.n-dialog').getByRole('button', { name: 'Cancel job', exact: true }).click()
      await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'cancelled')
      const first = page.locator('[data-testid="job-script"][data-index="0"]')
      const progress = first.getByTestId('run-progress')
      await expect(progress).toHaveAttribute('data-state', 'cancelled')
      const fill = progress.locator('.n-progress-graph-line-fill')
      // Naive UI's warning colour, as the cancelled status tag; never the primary or success colour.
      await expect(fill).toHaveCSS('background-color', 'rgb(240, 160, 32)')
      await shoot(page, '5-cancelled-job')
    })
  })

  test('the jobs list follows a running job to its end without Refresh', async ({ page }) => {
    await signIn(page)
    const target = await pgTarget(page)
    const id = await submitJob(page, {
      name: `slow ${stamp}`,
      scripts: [{ sql: 'SELECT pg_sleep(3);', target_ids: [target] }],
    })
    await openMenu(page, 'Jobs')
    const row = page.getByTestId('jobs-table').locator('tbody tr', { hasText: `#${id}` })
    const status = row.locator('[data-status]')
    await expect(status).toHaveAttribute('data-status', /waiting|running/)
    await page.evaluate(() => Object.assign(window, { e2eNoReload: true }))
    // Nothing is clicked: the list asks again by itself while a job is unfinished.
    await expect(status).toHaveAttribute('data-status', 'success', { timeout: 30_000 })
    expect(await page.evaluate(() => 'e2eNoReload' in window)).toBe(true)
  })

  test('a stored query opens with its SQL and targets in the form, also after a reload', async ({ page }) => {
    await signIn(page)
    const target = await addTarget(page, { name: sqliteName, engine: 'sqlite', database: sqlitePath })
    const sql = `SELECT 42 AS answer, '${stamp}' AS stamp`
    const res = await page.request.post('/api/queries', { headers: sameOrigin, data: { sql, target_ids: [target] } })
    expect(res.status(), await res.text()).toBe(201)
    const id = ((await res.json()) as { id: number }).id

    const form = page.getByTestId('query-form')
    for (const how of ['opened', 'reloaded']) {
      if (how === 'opened') await page.goto(`/queries?id=${id}`)
      else await page.reload()
      await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')
      await expect.poll(() => sqlText(page), { message: how }).toBe(sql)
      await expect(form.getByTestId('target-select'), how).toContainText(sqliteName)
    }
    await shoot(page, '4-stored-query')
  })

  test('a missing job is said once, as an empty state without a toast', async ({ page }) => {
    await signIn(page)
    await page.goto('/jobs/999999')
    await expect(page.getByText('There is no job #999999.')).toBeVisible()
    // The transport toasts before the page learns of the 404; the toast is drawn within
    // the next frames, so two frames later it would be in the page.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))
    // Counted now: a retrying assertion would wait until the toast's own timeout took it away.
    expect(await page.locator('.n-message').count(), 'toasts').toBe(0)
    await shoot(page, '5-missing-job')
  })
})

for (const width of [1024, 390]) {
  test(`the connection test keeps "Server version" on one line at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 768 })
    await signIn(page)
    await pgTarget(page)
    // The list was loaded at sign-in, before the target was added.
    await page.goto('/targets')
    const row = page.getByTestId('targets-table').locator('tbody tr', { hasText: pgName })
    await row.getByRole('button', { name: 'Test', exact: true }).click()
    const result = page.getByTestId('test-result')
    await expect(result.getByTestId('server-version')).toContainText('PostgreSQL')
    const label = result.locator('th, .n-descriptions-table-header', { hasText: 'Server version' }).first()
    const lines = await label.evaluate((el) => {
      const range = document.createRange()
      range.selectNodeContents(el)
      const style = getComputedStyle(el)
      const lineHeight = Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.6
      return range.getBoundingClientRect().height / lineHeight
    })
    expect(lines, 'the label takes one line').toBeLessThan(1.5)
    // The long value stays inside the dialog.
    const dialog = await result.boundingBox()
    const value = await result.getByTestId('server-version').boundingBox()
    expect(value!.x + value!.width).toBeLessThanOrEqual(dialog!.x + dialog!.width)
    await shoot(page, `3-connection-test-${width}`)
  })
}

test.describe('at 390 × 844', () => {
  test.use({ viewport: { width: 390, height: 844 } })

  test('the sidebar is a drawer opened from a menu button, and the page gets the whole width', async ({ page }) => {
    await signIn(page)
    await page.goto('/jobs')
    await expect(page.getByTestId('jobs-table')).toBeVisible()
    await expect(page.getByTestId('jobs-table')).not.toHaveClass(/n-data-table--loading/)
    // No sidebar rail beside the page: the page starts at the window's left edge, and shows.
    const title = page.locator('h1').first()
    expect((await title.boundingBox())!.x).toBeLessThan(40)
    await expectInViewport(page, title)
    await expectInViewport(page, page.getByTestId('job-new'))
    await expect(page.getByTestId('main-menu')).toBeHidden()
    await shoot(page, '5-narrow-jobs')

    await page.getByTestId('menu-button').click()
    const menu = page.getByTestId('main-menu')
    await expect(menu).toBeVisible()
    await shoot(page, '5-narrow-drawer')
    await menu.getByRole('link', { name: 'Targets', exact: true }).click()
    await expect(page).toHaveURL(/\/targets$/)
    await expect(menu).toBeHidden()
  })

  test.describe('in zh-CN', () => {
    test.use({ locale: 'zh-CN' })

    test('the drawer and a page read in Chinese', async ({ page }) => {
      await signIn(page)
      await page.goto('/jobs')
      await expect(page.locator('h1').first()).toHaveText(/[\u4e00-\u9fff]/)
      await expect(page.getByTestId('jobs-table')).not.toHaveClass(/n-data-table--loading/)
      await shoot(page, '5-narrow-jobs-zh-CN')
      await page.getByTestId('menu-button').click()
      await expect(page.getByTestId('main-menu')).toBeVisible()
      await shoot(page, '5-narrow-drawer-zh-CN')
    })
  })
})

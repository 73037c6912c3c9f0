// The jobs journey, against a real AutoDB server and a real SQLite target:
// submit a two-script job after previewing how it is split, watch it succeed
// without a reload, read a run's log; then a failing job, its database error,
// and a retry that fails again as attempt 2. Every wait is on a condition.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { openMenu, password, sameOrigin, sqlitePath, stamp, username } from './support'

const targetName = `e2e-jobs-sqlite-${stamp}`
const table = `e2e_t_${stamp}`

function scriptEditor(page: Page, index: number): Locator {
  return page.locator(`[data-testid="script-editor"][data-index="${index}"]`)
}

async function writeScript(page: Page, index: number, sql: string): Promise<void> {
  const editor = scriptEditor(page, index)
  await editor.locator(`textarea[name="scripts[${index}].sql"]`).fill(sql)
  await editor.getByTestId('target-select').click()
  // Menus of closed pickers stay in the page, hidden: only the open one counts.
  const menu = page.locator('.n-base-select-menu:visible')
  await menu.locator('.n-base-select-option', { hasText: targetName }).click()
  await page.keyboard.press('Escape')
  await expect(menu).toHaveCount(0)
  await expect(editor.getByTestId('target-select')).toContainText(targetName)
}

/**
 * Submits the form and waits for the job page, which follows the new job
 * through its event stream; returns the job's id.
 */
async function submitJob(page: Page): Promise<number> {
  const created = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/jobs',
  )
  const events = page.waitForRequest((r) => /\/api\/jobs\/\d+\/events$/.test(new URL(r.url()).pathname))
  await page.getByTestId('job-submit').click()
  const response = await created
  expect(response.status()).toBe(201)
  const id = ((await response.json()) as { id: number }).id
  await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`))
  expect(new URL((await events).url()).pathname).toBe(`/api/jobs/${id}/events`)
  return id
}

async function startNewJob(page: Page, name: string): Promise<void> {
  await openMenu(page, 'Jobs')
  await expect(page).toHaveURL(/\/jobs$/)
  await page.getByTestId('job-new').click()
  await expect(page).toHaveURL(/\/jobs\/new$/)
  await page.getByTestId('job-form').locator('input[name="name"]').fill(name)
}

test('an admin runs a two-script job on SQLite, reads its log, and retries a failing job', async ({ page }) => {
  await test.step('signs in and adds a SQLite target', async () => {
    await page.goto('/login')
    await page.locator('input[name="username"]').fill(username)
    await page.locator('input[name="password"]').fill(password)
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('current-user')).toHaveText(username)
    // The target form has its own journey; here the API is enough (the page's session cookie).
    const res = await page.request.post('/api/targets', {
      headers: sameOrigin,
      data: { name: targetName, engine: 'sqlite', host: '', port: 0, database: sqlitePath, username: '', tags: ['e2e'], options: {} },
    })
    expect(res.status()).toBe(201)
  })

  await test.step('writes two scripts and previews how the second is split', async () => {
    await startNewJob(page, `create and fill ${table}`)
    await writeScript(page, 0, `CREATE TABLE ${table} (id INTEGER);`)
    await page.getByTestId('script-add').click()
    await writeScript(page, 1, `INSERT INTO ${table} VALUES (1);\nINSERT INTO ${table} VALUES (2);`)

    const second = scriptEditor(page, 1)
    await second.getByTestId('preview-button').click()
    const preview = second.locator('[data-testid="split-preview"][data-engine="sqlite"]')
    await expect(preview.getByTestId('statement-count')).toHaveText('2 statements')
    await expect(preview.getByTestId('split-statement')).toHaveCount(2)
    await expect(preview.getByTestId('split-statement').nth(1)).toContainText('line 2')
  })

  await test.step('submits and sees the job succeed live, without a reload', async () => {
    await submitJob(page)
    // A full reload would drop this marker.
    await page.evaluate(() => Object.assign(window, { e2eNoReload: true }))
    await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'success')
    await expect(page.getByTestId('script-status')).toHaveCount(2)
    for (const status of await page.getByTestId('script-status').all()) {
      await expect(status).toHaveAttribute('data-status', 'success')
    }
    expect(await page.evaluate(() => 'e2eNoReload' in window)).toBe(true)
  })

  await test.step("opens the second script's run log and sees each INSERT affect 1 row", async () => {
    const script = page.locator('[data-testid="job-script"][data-index="1"]')
    await script.getByTestId('run-log-open').click()
    const log = page.getByTestId('run-log')
    const statements = log.getByTestId('log-statement')
    await expect(statements).toHaveCount(2)
    await expect(statements.first()).toContainText(`INSERT INTO ${table} VALUES (1)`)
    await expect(statements.first().getByTestId('log-rows')).toHaveText('1 row affected')
    await page.keyboard.press('Escape')
    await expect(log).toBeHidden()
  })

  await test.step("a failing job shows the database's message and line", async () => {
    await startNewJob(page, `fail ${stamp}`)
    await writeScript(page, 0, 'INSERT INTO missing_table VALUES (1);')
    await submitJob(page)

    await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'error')
    const error = page.getByTestId('run-error')
    await expect(error).toContainText('no such table: missing_table')
    await expect(error).toContainText('line 1')
    await expect(page.getByTestId('job-attempt')).toHaveText('1')
  })

  await test.step('a retry fails again as attempt 2, and the first attempt stays visible', async () => {
    await page.getByTestId('job-retry').click()
    await page.locator('.n-dialog').getByRole('button', { name: 'Retry failed runs', exact: true }).click()

    await expect(page.getByTestId('job-attempt')).toHaveText('2')
    await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'error')
    await expect(page.getByTestId('job-retry')).toBeVisible()
    const runs = page.getByTestId('runs-table').locator('tbody tr')
    await expect(runs).toHaveCount(1)
    await expect(page.getByTestId('run-error')).toContainText('no such table: missing_table')

    await page.getByTestId('show-earlier').click()
    await expect(runs).toHaveCount(2)
    await expect(page.locator('tr.superseded')).toHaveCount(1)
  })
})

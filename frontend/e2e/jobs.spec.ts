// The jobs journey, against a real AutoDB server and a real SQLite target:
// submit a two-script job after previewing how it is split, watch it succeed
// without a reload, read a run's log; then a failing job, its database error,
// and a retry that fails again as attempt 2. Then a job on a fleet of 300
// SQLite targets: its counts by status, a filter, and the virtual-scrolled run
// table scrolled to its last run. Every wait is on a condition.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { checkA11y, fillSql, openMenu, password, sameOrigin, screenshotPath, sqlitePath, stamp, username, pickTarget } from './support'

const targetName = `e2e-jobs-sqlite-${stamp}`
const table = `e2e_t_${stamp}`

function scriptEditor(page: Page, index: number): Locator {
  return page.locator(`[data-testid="script-editor"][data-index="${index}"]`)
}

async function writeScript(page: Page, index: number, sql: string): Promise<void> {
  const editor = scriptEditor(page, index)
  await fillSql(page, sql, index)
  await pickTarget(page, editor.getByTestId('target-select'), targetName)
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
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  await checkA11y(page)
  return id
}

async function startNewJob(page: Page, name: string): Promise<void> {
  await openMenu(page, 'Jobs')
  await expect(page).toHaveURL(/\/jobs$/)
  await expect(page.getByTestId('job-new')).toBeVisible()
  await checkA11y(page)
  await page.getByTestId('job-new').click()
  await expect(page).toHaveURL(/\/jobs\/new$/)
  await expect(page.getByTestId('job-form')).toBeVisible()
  await checkA11y(page)
  await page.getByTestId('job-form').locator('input[name="name"]').fill(name)
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/login')
  await page.locator('input[name="username"]').fill(username)
  await page.locator('input[name="password"]').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('current-user')).toHaveText(username)
}

test('an admin runs a two-script job on SQLite, reads its log, and retries a failing job', async ({ page }) => {
  await test.step('signs in and adds a SQLite target', async () => {
    await signIn(page)
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

const FLEET = 300
/** Targets past this share the file of an earlier target, so exactly one run per shared file fails. */
const OWN_FILES = 290

test('a job on 300 targets shows its runs by status and scrolls to its last run', async ({ page }) => {
  // 300 targets to add and 300 runs that each write a file: minutes on a slow machine, not seconds.
  test.setTimeout(240_000)
  const tag = `fleet-${stamp}`
  const name = (i: number) => `${tag}-t${String(i).padStart(3, '0')}`
  let jobId = 0

  await test.step('signs in and adds 300 SQLite targets in a folder of their own', async () => {
    await signIn(page)
    const folder = join(dirname(sqlitePath), tag)
    mkdirSync(folder, { recursive: true })
    // An empty file is a valid empty SQLite database.
    for (let f = 0; f < OWN_FILES; f++) writeFileSync(join(folder, `${f}.db`), '')
    for (let from = 0; from < FLEET; from += 25) {
      const batch = Array.from({ length: Math.min(25, FLEET - from) }, (_, k) => from + k)
      const answers = await Promise.all(
        batch.map((i) =>
          page.request.post('/api/targets', {
            headers: sameOrigin,
            data: {
              name: name(i),
              engine: 'sqlite',
              host: '',
              port: 0,
              database: join(folder, `${i % OWN_FILES}.db`),
              username: '',
              tags: [tag],
              options: {},
            },
          }),
        ),
      )
      expect(answers.map((r) => r.status())).toEqual(batch.map(() => 201))
    }
  })

  await test.step('submits a job on the tag and sees it end with its counts by status', async () => {
    const res = await page.request.post('/api/jobs', {
      headers: sameOrigin,
      data: { name: `fleet ${stamp}`, on_error: 'continue', scripts: [{ sql: 'CREATE TABLE fleet (id INTEGER);', target_tags: [tag] }] },
    })
    expect(res.status()).toBe(201)
    jobId = ((await res.json()) as { id: number }).id

    await page.goto(`/jobs/${jobId}`)
    await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'error', { timeout: 120_000 })
    const filters = page.getByTestId('run-filters')
    const count = (status: string) => filters.locator(`[data-status="${status}"]`).getByTestId('run-count')
    await expect(count('all')).toHaveText(String(FLEET))
    await expect(count('success')).toHaveText(String(OWN_FILES))
    await expect(count('error')).toHaveText(String(FLEET - OWN_FILES))
    await expect(count('running')).toHaveText('0')
    await expect(page.getByTestId('runs-table')).toHaveAttribute('data-total', String(FLEET))
  })

  await test.step('filters the failed runs through their chip', async () => {
    const table = page.getByTestId('runs-table')
    await page.getByTestId('run-filters').locator('[data-status="error"]').click()
    await expect(table).toHaveAttribute('data-total', String(FLEET - OWN_FILES))
    await expect(table.getByTestId('run-status')).toHaveCount(FLEET - OWN_FILES)
    for (const status of await table.getByTestId('run-status').all()) {
      await expect(status).toHaveAttribute('data-status', 'error')
    }
    await page.getByTestId('run-filters').locator('[data-status="all"]').click()
    await expect(table).toHaveAttribute('data-total', String(FLEET))
  })

  await test.step('scrolls the run table to its last run, rendering only the rows in view', async () => {
    const table = page.getByTestId('runs-table')
    const last = table.locator('tbody tr', { hasText: name(FLEET - 1) })
    await expect(table.locator('tbody tr', { hasText: name(0) })).toBeVisible()
    // A virtual list: far fewer rows in the page than runs.
    expect(await table.locator('tbody tr').count()).toBeLessThan(60)

    await table.locator('tbody').hover()
    await expect(async () => {
      await page.mouse.wheel(0, 4000)
      await expect(last).toBeVisible({ timeout: 1000 })
    }).toPass({ timeout: 30_000 })
    await expect(last.getByTestId('run-status')).toHaveAttribute('data-status', /success|error/)
    expect(await table.locator('tbody tr').count()).toBeLessThan(60)
    await table.screenshot({ path: screenshotPath('jobs-fleet-run-table') })
  })
})

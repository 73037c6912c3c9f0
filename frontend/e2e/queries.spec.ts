// The queries journey, against a real AutoDB server and a real SQLite target:
// seed a table through a job, query it in the console and read NULL, the empty
// string and bytes as such, see a DELETE refused, export the result as CSV,
// and find the query in the history. Every wait is on a condition.
import { readFile } from 'node:fs/promises'
import { expect, test, type Locator, type Page } from '@playwright/test'
import { checkA11y, fillSql, openMenu, password, sameOrigin, sqlEditor, sqlitePath, sqlText, stamp, username, pickTarget } from './support'

const targetName = `e2e-queries-sqlite-${stamp}`
const table = `q_${stamp}`
const select = `SELECT * FROM ${table} ORDER BY id`

/** The rows of the (virtually scrolled) result grid. */
function resultRows(page: Page): Locator {
  return page.getByTestId('result-table').locator('.n-data-table-tbody .n-data-table-tr')
}

/** The cell of a result row, by column (0 is the row number; the checkbox column comes before it). */
function cell(row: Locator, column: number): Locator {
  return row.locator(`[data-col-key="${column === 0 ? 'n' : `c${column - 1}`}"]`)
}

async function expectSeededRows(page: Page): Promise<void> {
  await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')
  await expect(page.getByTestId('result-row-count')).toHaveText('2 rows')
  const rows = resultRows(page)
  await expect(rows).toHaveCount(2)

  const first = rows.nth(0)
  await expect(cell(first, 1)).toHaveText('1')
  await expect(cell(first, 2)).toHaveText('a')
  // NULL is a badge of its own, never empty text.
  await expect(cell(first, 3).locator('[data-cell="null"]')).toHaveText('NULL')

  const second = rows.nth(1)
  await expect(cell(second, 1)).toHaveText('2')
  // The empty string is visibly empty, and not the NULL badge.
  await expect(cell(second, 2).locator('[data-cell="empty"]')).toHaveText("''")
  await expect(cell(second, 2).locator('[data-cell="null"]')).toHaveCount(0)
  await expect(cell(second, 3).locator('[data-cell="bytes"]')).toHaveText('0xbeef')
}

test('a user queries a SQLite table, sees NULL, empty and bytes faithfully, exports CSV and finds the history', async ({
  page,
}) => {
  await test.step('signs in, adds a SQLite target and seeds a table through a job', async () => {
    await page.goto('/login')
    await page.locator('input[name="username"]').fill(username)
    await page.locator('input[name="password"]').fill(password)
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('current-user')).toHaveText(username)

    // Targets and jobs have their own journeys; here the API is enough (the page's session cookie).
    const target = await page.request.post('/api/targets', {
      headers: sameOrigin,
      data: { name: targetName, engine: 'sqlite', host: '', port: 0, database: sqlitePath, username: '', tags: [], options: {} },
    })
    expect(target.status()).toBe(201)
    const targetId = ((await target.json()) as { id: number }).id

    const job = await page.request.post('/api/jobs', {
      headers: sameOrigin,
      data: {
        name: `seed ${table}`,
        scripts: [
          {
            sql: `CREATE TABLE ${table}(id INTEGER, name TEXT, note TEXT);\nINSERT INTO ${table} VALUES (1,'a',NULL),(2,'',x'BEEF');`,
            target_ids: [targetId],
          },
        ],
      },
    })
    expect(job.status()).toBe(201)
    const jobId = ((await job.json()) as { id: number }).id
    await expect
      .poll(async () => ((await (await page.request.get(`/api/jobs/${jobId}`)).json()) as { status: string }).status)
      .toBe('success')
  })

  await test.step('runs a SELECT with Ctrl+Enter and reads NULL, the empty string and bytes', async () => {
    await openMenu(page, 'Queries')
    await expect(page).toHaveURL(/\/queries$/)
    await expect(page.getByTestId('target-select')).toBeVisible()
    await checkA11y(page)
    await fillSql(page, select)
    await pickTarget(page, page.getByTestId('target-select'), targetName)

    await sqlEditor(page).locator('.cm-content').press('Control+Enter')
    await expect(page).toHaveURL(/\/queries\?id=\d+$/)
    await expectSeededRows(page)
    await checkA11y(page)
    const columns = page.getByTestId('result-column')
    await expect(columns).toHaveCount(3)
    await expect(columns.nth(0)).toContainText('id')
    await expect(columns.nth(0)).toContainText('INTEGER')
  })

  await test.step('downloads the result as CSV: NULL an empty field, the empty string ""', async () => {
    const download = page.waitForEvent('download')
    await page.getByTestId('result-export').click()
    const file = await download
    expect(file.suggestedFilename()).toMatch(/\.csv$/)
    const path = await file.path()
    const text = await readFile(path, 'utf8')
    expect(text.split(/\r?\n/)).toEqual(['id,name,note', '1,a,', '2,"",beef', ''])
  })

  await test.step('a DELETE is refused, named under the SQL', async () => {
    await fillSql(page, `DELETE FROM ${table}`)
    await page.getByTestId('query-run').click()
    const feedback = page.getByTestId('query-sql-item').locator('.n-form-item-feedback')
    await expect(feedback).toContainText('DELETE')
    await expect(feedback).toContainText('not a query')
    await expect(sqlEditor(page).locator('.cm-content')).toHaveAttribute('aria-invalid', 'true')
    // Nothing ran: the SELECT's results are still the ones shown.
    await expect(resultRows(page)).toHaveCount(2)
  })

  await test.step('finds the query in the history, opens its results, and runs it again', async () => {
    await page.getByTestId('query-history-link').click()
    await expect(page).toHaveURL(/\/queries\/history$/)
    const row = page.getByTestId('query-history-table').locator('tbody tr', { hasText: select })
    await expect(row).toHaveCount(1)
    await expect(row.locator('[data-status="success"]')).toBeVisible()
    await checkA11y(page)
    await expect(page.getByTestId('query-history-table').locator('tbody tr', { hasText: `DELETE FROM ${table}` })).toHaveCount(0)

    await row.getByTestId('history-open').click()
    await expect(page).toHaveURL(/\/queries\?id=\d+$/)
    await expectSeededRows(page)

    await page.getByTestId('query-history-link').click()
    await row.getByTestId('history-run-again').click()
    await expect(page).toHaveURL(/\/queries$/)
    await expect.poll(() => sqlText(page)).toBe(select)
    await expect(page.getByTestId('target-select')).toContainText(targetName)
    await page.getByTestId('query-run').click()
    await expectSeededRows(page)
  })
})

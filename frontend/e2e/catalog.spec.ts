// Completion from the chosen target's schema (issue 13), against a real AutoDB server and a
// real SQLite target holding a table made by a job: nothing is fetched with the page or when a
// target is chosen, the editor asks once when it is focused, typing the start of the table's
// name offers it, and `table.` offers its columns. In the job editor each script completes
// from its own chosen target. Every wait is on a condition.
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { addTarget, fillSql, pickTarget, sameOrigin, shoot, signIn, sqlEditor, sqlitePath, stamp } from './support'

const targetName = `e2e-catalog-${stamp}`
const table = `cat_orders_${stamp}`

async function runJob(page: Page, target: number, sql: string): Promise<void> {
  const res = await page.request.post('/api/jobs', {
    headers: sameOrigin,
    data: { name: `catalog setup ${stamp}`, scripts: [{ sql, target_ids: [target] }] },
  })
  expect(res.status(), await res.text()).toBe(201)
  const { id } = (await res.json()) as { id: number }
  await expect
    .poll(async () => ((await (await page.request.get(`/api/jobs/${id}`)).json()) as { status: string }).status, {
      timeout: 30_000,
    })
    .toBe('success')
}

function options(page: Page) {
  return page.locator('.cm-tooltip-autocomplete li')
}

test('the console completes table and column names from the chosen target, fetched once when first needed', async ({ page }) => {
  await signIn(page)
  const file = join(dirname(sqlitePath), `catalog-${stamp}.db`)
  writeFileSync(file, '')
  const target = await addTarget(page, { name: targetName, engine: 'sqlite', database: file })
  await runJob(page, target, `CREATE TABLE ${table} (order_id INTEGER PRIMARY KEY, placed_at TEXT);`)

  const asked: string[] = []
  page.on('request', (r) => {
    if (/\/api\/targets\/\d+\/schema/.test(new URL(r.url()).pathname)) asked.push(r.url())
  })

  await test.step('nothing is fetched with the page, nor when the target is chosen', async () => {
    await page.goto('/queries')
    await expect(sqlEditor(page)).toHaveAttribute('data-ready', 'true')
    await pickTarget(page, page.getByTestId('target-select'), targetName)
    await expect(page.getByTestId('target-select')).toContainText(targetName)
    expect(asked).toEqual([])
  })

  await test.step('focusing the editor fetches the schema of that target, once', async () => {
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/targets/${target}/schema`)
    await sqlEditor(page).locator('.cm-content').click()
    expect((await answered).status()).toBe(200)
    expect(asked).toHaveLength(1)
  })

  await test.step('the start of the table name offers the table', async () => {
    await fillSql(page, 'SELECT * FROM ')
    await page.keyboard.press('End')
    await page.keyboard.type('cat_ord')
    await expect(options(page).filter({ hasText: table })).toHaveCount(1)
    await shoot(page, 'catalog-1-table')
  })

  await test.step('after `table.` the columns are offered with their types', async () => {
    await page.keyboard.press('Escape')
    await fillSql(page, `SELECT ${table}`)
    await page.keyboard.press('End')
    await page.keyboard.type('.')
    // Opened by typing or, where CodeMirror waits for more, by asking.
    const column = options(page).filter({ hasText: 'order_id' })
    await expect(async () => {
      if (!(await column.count())) await page.keyboard.press('Control+Space')
      await expect(column).toHaveCount(1, { timeout: 1000 })
    }).toPass()
    await expect(options(page).filter({ hasText: 'placed_at' })).toHaveCount(1)
    await expect(column).toContainText('INTEGER')
    await shoot(page, 'catalog-2-columns')
  })

  await test.step('focusing again asks nothing more', async () => {
    await page.keyboard.press('Escape')
    await page.getByTestId('query-row-limit-item').locator('input').focus()
    await sqlEditor(page).locator('.cm-content').click()
    await expect(sqlEditor(page).locator('.cm-content')).toBeFocused()
    expect(asked).toHaveLength(1)
  })
})

test('each script of the job editor completes from its own chosen target', async ({ page }) => {
  await signIn(page)
  // Two targets, each with a table the other has not.
  const made: { name: string; id: number; table: string }[] = []
  for (const n of [1, 2]) {
    const file = join(dirname(sqlitePath), `catalog-job-${n}-${stamp}.db`)
    writeFileSync(file, '')
    const name = `e2e-catalog-job-${n}-${stamp}`
    const id = await addTarget(page, { name, engine: 'sqlite', database: file })
    const t = `job_${n === 1 ? 'invoices' : 'parcels'}_${stamp}`
    await runJob(page, id, `CREATE TABLE ${t} (id INTEGER PRIMARY KEY, ${n === 1 ? 'amount REAL' : 'weight_kg REAL'});`)
    made.push({ name, id, table: t })
  }
  const script = (index: number) => page.locator(`[data-testid="script-editor"][data-index="${index}"]`)

  await page.goto('/jobs/new')
  await page.getByTestId('script-add').click()
  await expect(script(1)).toBeVisible()
  for (const [i, m] of made.entries()) {
    await pickTarget(page, script(i).getByTestId('target-select'), m.name)
    await expect(script(i).getByTestId('target-select')).toContainText(m.name)
  }

  for (const [i, m] of made.entries()) {
    await test.step(`script ${i + 1} offers the table of ${m.name}, and its columns`, async () => {
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/targets/${m.id}/schema`)
      await fillSql(page, 'SELECT * FROM ', i)
      expect((await answered).status()).toBe(200)
      await page.keyboard.press('End')
      await page.keyboard.type('job_')
      await expect(options(page).filter({ hasText: m.table })).toHaveCount(1)
      // Not the other script's target's table.
      await expect(options(page).filter({ hasText: made[1 - i]!.table })).toHaveCount(0)
      await shoot(page, `catalog-job-script-${i + 1}`)
      await page.keyboard.press('Escape')

      await fillSql(page, `SELECT ${m.table}`, i)
      await page.keyboard.press('End')
      await page.keyboard.type('.')
      const column = options(page).filter({ hasText: i === 0 ? 'amount' : 'weight_kg' })
      await expect(async () => {
        if (!(await column.count())) await page.keyboard.press('Control+Space')
        await expect(column).toHaveCount(1, { timeout: 1000 })
      }).toPass()
      await page.keyboard.press('Escape')
    })
  }
})

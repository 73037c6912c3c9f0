// The SQL editor journey, against a real AutoDB server and a real SQLite target:
// the console highlights SQL, Ctrl+Enter runs only the statement at the cursor,
// Format reformats a SELECT and refuses a procedural block, Tab leaves the editor,
// the height follows the keyboard, and the text survives a reload; in the job
// editor Ctrl+Enter runs nothing and the script survives a reload. Screenshots in
// English, in Chinese and 390 px wide. Every wait is on a condition.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { addTarget, fillSql, shoot, signIn, sqlEditor, sqlitePath, sqlText, stamp, pickTarget } from './support'

const targetName = `e2e-editor-sqlite-${stamp}`
const twoStatements = 'SELECT 1 AS first_value;\nSELECT 2 AS second_value;'

async function chooseTarget(page: Page, name: string): Promise<void> {
  await pickTarget(page, page.getByTestId('target-select'), name)
}

function content(page: Page, nth = 0): Locator {
  return sqlEditor(page, nth).locator('.cm-content')
}

test('the console highlights SQL, runs the statement at the cursor, formats, and keeps the text over a reload', async ({
  page,
}) => {
  await signIn(page)
  await addTarget(page, { name: targetName, engine: 'sqlite', database: sqlitePath })
  await page.goto('/queries')
  await chooseTarget(page, targetName)

  await test.step('highlights the keywords, named by the field label', async () => {
    await fillSql(page, twoStatements)
    const lines = sqlEditor(page).locator('.cm-line')
    await expect(lines).toHaveCount(2)
    await expect(lines.nth(1).locator('.tok-keyword').first()).toHaveText('SELECT')
    await expect(page.getByRole('textbox', { name: 'SQL', exact: true })).toHaveClass(/cm-content/)
  })

  await test.step('Ctrl+Enter on the second statement runs that one only, and the text stays whole', async () => {
    await sqlEditor(page).locator('.cm-line').nth(1).click()
    await page.keyboard.press('End')
    await page.keyboard.press('Control+Enter')
    await expect(page).toHaveURL(/\/queries\?id=\d+$/)
    await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')
    await expect(page.getByTestId('query-result')).toHaveCount(1)
    await expect(page.getByTestId('result-column')).toHaveCount(1)
    await expect(page.getByTestId('result-column')).toContainText('second_value')
    const row = page.getByTestId('result-table').locator('.n-data-table-tbody .n-data-table-tr')
    await expect(row).toHaveCount(1)
    // The first data column (the grid's checkbox and row-number columns come before it).
    await expect(row.locator('[data-col-key="c0"]')).toHaveText('2')

    const id = new URL(page.url()).searchParams.get('id')
    const sent = (await (await page.request.get(`/api/queries/${id}`)).json()) as { sql: string }
    expect(sent.sql).toBe('SELECT 2 AS second_value;')
    expect(await sqlText(page)).toBe(twoStatements)
    await shoot(page, 'editor-1-console')
  })

  await test.step('after a reload the text written is back, not only the statement that ran', async () => {
    await page.reload()
    await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')
    await expect(page.getByTestId('result-column')).toContainText('second_value')
    await expect.poll(() => sqlText(page)).toBe(twoStatements)
  })

  await test.step('Format reformats a SELECT, and one undo takes it back', async () => {
    await fillSql(page, 'select a, b from t where a = 1')
    await page.getByTestId('sql-format').click()
    await expect.poll(() => sqlText(page)).toBe('SELECT\n  a,\n  b\nFROM\n  t\nWHERE\n  a = 1')
    await content(page).focus()
    await page.keyboard.press('ControlOrMeta+z')
    await expect.poll(() => sqlText(page)).toBe('select a, b from t where a = 1')
  })

  await test.step('Format is refused for a procedural block, with the reason shown', async () => {
    await fillSql(page, 'CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;')
    await expect(page.getByTestId('sql-format')).toBeDisabled()
    await expect(page.getByTestId('sql-format-refused')).toContainText('procedural block')
  })

  await test.step('Tab leaves the editor; the height handle follows the arrow keys', async () => {
    await content(page).focus()
    await page.keyboard.press('Tab')
    await expect(content(page)).not.toBeFocused()
    // Nothing was typed into the text by that Tab.
    expect(await sqlText(page)).toBe('CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;')

    const handle = page.getByTestId('sql-editor-resize')
    const before = (await sqlEditor(page).locator('.cm-editor').boundingBox())!.height
    await handle.focus()
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await expect(handle).toHaveAttribute('aria-valuenow', String(Math.round(before) + 48))
    await expect.poll(async () => (await sqlEditor(page).locator('.cm-editor').boundingBox())!.height).toBeGreaterThan(before + 40)

    // And the mouse: dragged 100 px up, the editor is that much shorter.
    const grip = (await handle.boundingBox())!
    await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2)
    await page.mouse.down()
    await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2 - 100, { steps: 5 })
    await page.mouse.up()
    await expect(handle).toHaveAttribute('aria-valuenow', String(Math.round(before) + 48 - 100))
  })

  await test.step("completes the dialect's keywords", async () => {
    await fillSql(page, '')
    await page.keyboard.type('SELEC')
    const option = page.locator('.cm-tooltip-autocomplete li').filter({ hasText: /^SELECT$/ })
    await expect(option).toHaveCount(1)
    // CodeMirror ignores a pick in the first moments after the list opens (against
    // accidental picks while typing): pick again until it is taken.
    await expect(async () => {
      if (await option.count()) await option.click()
      expect(await sqlText(page)).toBe('SELECT')
    }).toPass()
  })
})

test('in the job editor Ctrl+Enter runs nothing, and the script survives a reload until the job is sent', async ({ page }) => {
  await signIn(page)
  await page.goto('/jobs/new')
  const script = `CREATE TABLE e2e_editor_${stamp} (id INTEGER);`
  await fillSql(page, script)
  const posted: string[] = []
  page.on('request', (r) => {
    if (r.method() === 'POST') posted.push(new URL(r.url()).pathname)
  })
  await content(page).press('Control+Enter')
  await shoot(page, 'editor-4-job')
  await page.reload()
  await expect.poll(() => sqlText(page)).toBe(script)
  await expect(page).toHaveURL(/\/jobs\/new$/)
  expect(posted).toEqual([])
})

test.describe('in zh-CN', () => {
  test.use({ locale: 'zh-CN' })

  test('the editor reads in Chinese', async ({ page }) => {
    await signIn(page)
    await page.goto('/queries')
    await fillSql(page, twoStatements)
    await expect(page.getByTestId('sql-format')).toHaveText('格式化')
    await expect(page.getByTestId('sql-editor-resize')).toHaveAttribute('aria-label', /编辑器高度/)
    await shoot(page, 'editor-2-console-zh-CN')
  })
})

test.describe('at 390 × 844', () => {
  test.use({ viewport: { width: 390, height: 844 } })

  test('the editor fits a phone, its toolbar in reach', async ({ page }) => {
    await signIn(page)
    await page.goto('/queries')
    await fillSql(page, `${twoStatements}\nSELECT 'a long line that is wider than a phone screen' AS wide;`)
    const box = (await sqlEditor(page).boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(390)
    await expect(page.getByTestId('sql-format')).toBeInViewport()
    await shoot(page, 'editor-3-narrow')
  })
})

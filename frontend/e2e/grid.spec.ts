// The result grid journey (issue 13), against a real AutoDB and a SQLite target:
// open values whole in the cell viewer (JSON indented, bytes as hex, long text
// with its length, NULL as NULL), check rows by their numbers and copy them as
// TSV, CSV, JSON and INSERTs (read back from the clipboard), and scroll a
// 300-column result that renders only the cells in view, walking it with the arrow keys; a
// PostgreSQL JSON value keeps every digit of its numbers. Waits are on conditions.
import { expect, test, type Locator, type Page } from '@playwright/test'
import { addTarget, checkA11y, fillSql, pickTarget, sameOrigin, shoot, signIn, sqlitePath, stamp } from './support'

test.use({ permissions: ['clipboard-read', 'clipboard-write'] })

const targetName = `e2e-grid-sqlite-${stamp}`
// Three rows of literals (no table needed); SQLite names the columns by their aliases.
const long = `${'long text '.repeat(60)}\nand a second line`
// Built in SQL, and every line short: a line wider than the editor makes it scroll sideways,
// which axe flags in the editor (not the grid).
const select = [
  `SELECT 1 AS id, 'it''s "quoted"' AS name,`,
  `  '{"a":[1,2],"b":{"c":null}}' AS doc,`,
  `  x'48656c6c6f00' AS data, NULL AS note`,
  `UNION ALL SELECT 2,`,
  `  replace(hex(zeroblob(60)), '00', 'long text ')`,
  `    || char(10) || 'and a second line',`,
  `  '[]', x'', 'tab' || char(9) || 'here'`,
  `UNION ALL SELECT 3, '', NULL, x'ff', '=1+1'`,
].join('\n')

function table(page: Page): Locator {
  return page.getByTestId('result-table')
}

/** A data cell of the grid, by 0-based row and column. */
function cell(page: Page, row: number, col: number): Locator {
  return table(page).locator(`[data-r="${row}"][data-c="${col}"]`)
}

/** The row-number cell of a 1-based row. */
function rowNumber(page: Page, n: number): Locator {
  return table(page).locator('.n-data-table-td.row-number').filter({ hasText: new RegExp(`^${n}$`) })
}

async function run(page: Page, sql: string): Promise<void> {
  await fillSql(page, sql)
  await page.getByTestId('query-run').click()
  await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')
}

async function clipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText())
}

let targetId = 0

test('a user opens values whole, copies checked rows in four formats, and scrolls a wide result both ways', async ({ page }) => {
  await test.step('signs in, adds a SQLite target and runs a query of literals', async () => {
    await signIn(page)
    targetId = await addTarget(page, { name: targetName, engine: 'sqlite', database: sqlitePath })
    await page.goto('/queries')
    await pickTarget(page, page.getByTestId('target-select'), targetName)
    await run(page, select)
    await expect(page.getByTestId('result-row-count')).toContainText('3')
    await expect(cell(page, 2, 0)).toHaveText('3')
  })

  const viewer = page.getByTestId('cell-viewer')

  await test.step('a double-click opens JSON text indented', async () => {
    await cell(page, 0, 2).dblclick()
    await expect(viewer).toBeVisible()
    await expect(viewer).toHaveAttribute('data-kind', 'json')
    await expect(viewer.getByTestId('cell-viewer-value')).toHaveText(JSON.stringify({ a: [1, 2], b: { c: null } }, null, 2))
    await checkA11y(page)
    await expect(viewer).toBeInViewport({ ratio: 1 })
    await shoot(page, 'grid-viewer-json')
    await viewer.getByTestId('cell-viewer-copy').click()
    await expect.poll(() => clipboard(page)).toBe(JSON.stringify({ a: [1, 2], b: { c: null } }, null, 2))
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()
  })

  await test.step('Enter on a focused cell opens long text whole, with its length', async () => {
    await cell(page, 1, 1).focus()
    await page.keyboard.press('Enter')
    await expect(viewer).toHaveAttribute('data-kind', 'text')
    // The grid shows it cut and on one line; the viewer has all of it, line break included.
    await expect(cell(page, 1, 1)).toContainText('…')
    expect(await viewer.getByTestId('cell-viewer-value').textContent()).toBe(long)
    await expect(viewer.getByTestId('cell-viewer-size')).toContainText(String(long.length))
    await expect(viewer).toBeInViewport({ ratio: 1 })
    await shoot(page, 'grid-viewer-text')
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()
  })

  await test.step('bytes show as a hex dump with their size, and NULL as NULL', async () => {
    await cell(page, 0, 3).dblclick()
    await expect(viewer).toHaveAttribute('data-kind', 'bytes')
    await expect(viewer.getByTestId('cell-viewer-value')).toContainText('00000000  48 65 6c 6c 6f 00')
    await expect(viewer.getByTestId('cell-viewer-value')).toContainText('Hello.')
    await expect(viewer.getByTestId('cell-viewer-size')).toContainText('6')
    await shoot(page, 'grid-viewer-bytes')
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()

    await cell(page, 0, 4).dblclick()
    await expect(viewer).toHaveAttribute('data-kind', 'null')
    await expect(viewer.getByTestId('cell-viewer-value')).toHaveText('NULL')
    await expect(viewer.getByTestId('cell-viewer-copy')).toBeDisabled()
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()
  })

  await test.step('Ctrl+C on a focused cell copies its value', async () => {
    await cell(page, 0, 1).focus()
    await page.keyboard.press('ControlOrMeta+c')
    await expect.poll(() => clipboard(page)).toBe(`it's "quoted"`)
    // Its "copied" note fades in and out; axe would catch it half-transparent.
    await expect(page.locator('.n-message')).toHaveCount(0)
  })

  const dialog = page.getByTestId('copy-rows')
  const preview = dialog.getByTestId('copy-preview')

  await test.step('checks rows 1 to 3 with a shift-click on the row numbers, then unchecks row 2', async () => {
    await rowNumber(page, 1).click()
    await rowNumber(page, 3).click({ modifiers: ['Shift'] })
    await expect(table(page).getByRole('checkbox', { name: 'Check row 2' })).toHaveAttribute('aria-checked', 'true')
    await expect(page.getByTestId('result-copy')).toHaveAttribute('data-rows', '3')
    await rowNumber(page, 2).click()
    await expect(page.getByTestId('result-copy')).toHaveAttribute('data-rows', '2')
  })

  await test.step('copies them as TSV, with a header, formulas guarded, and reads the clipboard', async () => {
    await page.getByTestId('result-copy').click()
    await expect(dialog).toBeVisible()
    const tsv =
      'id\tname\tdoc\tdata\tnote\n' +
      `1\t"it's ""quoted"""\t"{""a"":[1,2],""b"":{""c"":null}}"\t48656c6c6f00\t\n` +
      "3\t\t\tff\t'=1+1\n"
    await expect(preview).toHaveValue(tsv)
    await checkA11y(page)
    await shoot(page, 'grid-copy-tsv')
    await dialog.getByTestId('copy-rows-copy').click()
    await expect(dialog).toBeHidden()
    await expect.poll(() => clipboard(page)).toBe(tsv)
  })

  await test.step('as CSV, JSON and INSERT statements for SQLite into a named table', async () => {
    await page.getByTestId('result-copy').click()
    await dialog.locator('[data-format="csv"]').click()
    const csv = 'id,name,doc,data,note\r\n1,"it\'s ""quoted""","{""a"":[1,2],""b"":{""c"":null}}",48656c6c6f00,\r\n3,"",,ff,"\'=1+1"\r\n'
    // A textarea shows line ends as LF; the clipboard gets the CSV's CRLF.
    await expect(preview).toHaveValue(csv.replace(/\r\n/g, '\n'))
    await dialog.getByTestId('copy-rows-copy').click()
    await expect.poll(() => clipboard(page)).toBe(csv)
    // The dialog keeps the format it was left with.
    await page.getByTestId('result-copy').click()
    await expect(dialog.locator('[data-format="csv"] input')).toBeChecked()
    await dialog.locator('[data-format="json"]').click()
    expect(JSON.parse(await preview.inputValue())).toEqual([
      { id: 1, name: `it's "quoted"`, doc: '{"a":[1,2],"b":{"c":null}}', data: '48656c6c6f00', note: null },
      { id: 3, name: '', doc: null, data: 'ff', note: '=1+1' },
    ])
    await dialog.locator('[data-format="insert"]').click()
    await expect(dialog.getByTestId('copy-dialect')).toContainText('SQLite')
    await dialog.getByTestId('copy-table').locator('input').fill('people')
    const inserts =
      `INSERT INTO people ("id", "name", "doc", "data", "note") VALUES (1, 'it''s "quoted"', '{"a":[1,2],"b":{"c":null}}', X'48656c6c6f00', NULL);\n` +
      `INSERT INTO people ("id", "name", "doc", "data", "note") VALUES (3, '', NULL, X'ff', '=1+1');\n`
    await expect(preview).toHaveValue(inserts)
    await shoot(page, 'grid-copy-insert')
    await dialog.getByTestId('copy-rows-copy').click()
    await expect.poll(() => clipboard(page)).toBe(inserts)
  })

  await test.step('a 300-column result renders only the cells in view, and scrolls to the last column and row', async () => {
    const cols = Array.from({ length: 300 }, (_, i) => `i + ${i} AS c${i + 1}`).join(', ')
    // Sent through the API and opened by its address: the editor is not the subject here.
    const sql = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)\nSELECT ${cols} FROM s`
    const res = await page.request.post('/api/queries', { headers: sameOrigin, data: { sql, target_ids: [targetId] } })
    expect(res.status(), await res.text()).toBe(201)
    await page.goto(`/queries?id=${((await res.json()) as { id: number }).id}`)
    await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')
    await expect(page.getByTestId('result-row-count')).toContainText('1000')
    await expect(table(page)).toHaveAttribute('data-columns', '300')
    await expect(cell(page, 0, 0)).toHaveText('1')

    const rendered = await table(page).locator('.n-data-table-td').count()
    const headers = await table(page).locator('.n-data-table-th').count()
    expect(rendered, 'cells rendered of 300,000').toBeLessThan(1500)
    expect(headers, 'headers rendered of 302').toBeLessThan(60)
    await expect(cell(page, 0, 299)).toHaveCount(0)

    // Sideways to the end: the last column comes into view.
    const body = table(page).locator('.n-data-table-base-table-body .v-vl')
    await body.evaluate((el) => el.scrollTo({ left: el.scrollWidth }))
    await expect(cell(page, 0, 299)).toHaveText('300')
    await expect(table(page).getByTestId('result-column').filter({ hasText: /^c300/ })).toBeVisible()
    await expect(cell(page, 0, 0)).toHaveCount(0)
    // And down to the last row.
    await body.evaluate((el) => el.scrollTo({ top: el.scrollHeight }))
    await expect(cell(page, 999, 299)).toHaveText('1299')
    // Every row is as high as the grid counts on, so the last one is reachable and whole.
    const heights = await table(page)
      .locator('.n-data-table-base-table-body tr')
      .evaluateAll((trs) => [...new Set(trs.map((tr) => Math.round(tr.getBoundingClientRect().height)))])
    expect(heights).toHaveLength(1)
    const last = await rowNumber(page, 1000).boundingBox()
    const frame = await table(page).locator('.n-data-table-base-table-body').boundingBox()
    expect(last && frame && last.y + last.height).toBeLessThanOrEqual(frame!.y + frame!.height + 1)
    expect(await table(page).locator('.n-data-table-td').count()).toBeLessThan(1500)
    await table(page).scrollIntoViewIfNeeded()
    await shoot(page, 'grid-wide')
  })

  await test.step('arrow keys walk past the rendered columns and rows, each cell shown whole beside the fixed ones', async () => {
    const body = table(page).locator('.n-data-table-base-table-body .v-vl')
    await body.evaluate((el) => el.scrollTo({ left: 0, top: 0 }))
    await cell(page, 0, 0).focus()
    const focused = page.locator(':focus')
    /** The focused cell lies inside the grid's body, right of the fixed number column. */
    async function shownWhole(): Promise<void> {
      const [box, frame, fixed] = await Promise.all([
        focused.boundingBox(),
        table(page).locator('.n-data-table-base-table-body').boundingBox(),
        rowNumber(page, Number(await focused.getAttribute('data-r')) + 1).boundingBox(),
      ])
      expect(box && frame && fixed, 'cell, body and number column have boxes').toBeTruthy()
      expect(box!.x).toBeGreaterThanOrEqual(fixed!.x + fixed!.width - 1)
      expect(box!.x + box!.width).toBeLessThanOrEqual(frame!.x + frame!.width + 1)
      expect(box!.y).toBeGreaterThanOrEqual(frame!.y - 1)
      expect(box!.y + box!.height).toBeLessThanOrEqual(frame!.y + frame!.height + 1)
    }
    // Far past what is rendered at first (the last column was not in the page above), pressed
    // as fast as the keyboard sends them.
    for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowRight')
    await expect(focused).toHaveAttribute('data-c', '60')
    await expect(focused).toHaveText('61')
    await shownWhole()
    for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowDown')
    await expect(focused).toHaveAttribute('data-r', '40')
    await expect(focused).toHaveText('101')
    await shownWhole()
    // Back left: the cell comes out from under the fixed columns, not behind them.
    for (let i = 0; i < 59; i++) await page.keyboard.press('ArrowLeft')
    await expect(focused).toHaveAttribute('data-c', '1')
    await expect(focused).toHaveText('42')
    await shownWhole()
    await page.keyboard.press('ArrowUp')
    await expect(focused).toHaveAttribute('data-r', '39')
    await shownWhole()
    // At an edge the key does nothing.
    await page.keyboard.press('ArrowLeft')
    await page.keyboard.press('ArrowLeft')
    await expect(focused).toHaveAttribute('data-c', '0')
    await expect(focused).toHaveText('40')
    await shoot(page, 'grid-keys')
    // Enter right after an arrow opens the cell moved to.
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('Enter')
    const viewer = page.getByTestId('cell-viewer')
    await expect(viewer).toBeVisible()
    await expect(viewer.getByTestId('cell-viewer-value')).toHaveText('41')
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()
  })
})


test.describe('in Chinese', () => {
  test.use({ locale: 'zh-CN' })

  test('the viewer and the copy dialog speak Chinese, and the viewer passes axe', async ({ page }) => {
    await signIn(page)
    // The target of the journey above, or its own when this test runs alone.
    const id = targetId || (await addTarget(page, { name: `${targetName}-zh`, engine: 'sqlite', database: sqlitePath }))
    const res = await page.request.post('/api/queries', {
      headers: sameOrigin,
      data: { sql: `SELECT '数据库 🚀' AS 名字, x'00ff' AS data`, target_ids: [id] },
    })
    expect(res.status(), await res.text()).toBe(201)
    await page.goto(`/queries?id=${((await res.json()) as { id: number }).id}`)
    await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')

    await cell(page, 0, 0).dblclick()
    const viewer = page.getByTestId('cell-viewer')
    await expect(viewer.getByTestId('cell-viewer-kind')).toHaveText('文本')
    // Five characters (the rocket is one, though two UTF-16 units), fourteen bytes in UTF-8.
    await expect(viewer.getByTestId('cell-viewer-size')).toHaveText('5 个字符 · UTF-8 共 14 字节')
    await expect(viewer).toBeInViewport({ ratio: 1 })
    await checkA11y(page)
    await shoot(page, 'grid-viewer-zh')
    await page.keyboard.press('Escape')

    await expect(page.getByTestId('result-copy')).toHaveText('复制行')
    await table(page).getByRole('checkbox', { name: '勾选第 1 行' }).click()
    await expect(page.getByTestId('result-copy')).toHaveText('复制 1 行')
  })
})

test("a JSON value from PostgreSQL keeps every digit of its id in the grid, the viewer and the copy", async ({ page }) => {
  await signIn(page)
  const id = await addTarget(page, {
    name: `e2e-grid-pg-${stamp}`,
    engine: 'postgres',
    host: '127.0.0.1',
    port: 5432,
    database: 'postgres',
    username: 'postgres',
    trusted_for_queries: true,
  })
  // A double would make the id 12345678901234567000000 and the amount 0.1.
  const doc = '{"id": 12345678901234567890123, "amount": 0.1000000000000000055511}'
  const res = await page.request.post('/api/queries', {
    headers: sameOrigin,
    data: { sql: `SELECT '${doc}'::jsonb AS doc`, target_ids: [id] },
  })
  expect(res.status(), await res.text()).toBe(201)
  await page.goto(`/queries?id=${((await res.json()) as { id: number }).id}`)
  await expect(page.getByTestId('query-status')).toHaveAttribute('data-status', 'success')

  // jsonb writes the shorter key first.
  await expect(cell(page, 0, 0)).toHaveText('{"id":12345678901234567890123,"amount":0.1000000000000000055511}')
  await cell(page, 0, 0).dblclick()
  const viewer = page.getByTestId('cell-viewer')
  await expect(viewer).toHaveAttribute('data-kind', 'json')
  await expect(viewer.getByTestId('cell-viewer-value')).toHaveText(
    '{\n  "id": 12345678901234567890123,\n  "amount": 0.1000000000000000055511\n}',
  )
  // Its size is the database's text (jsonb wrote it as it was given), not the indented one.
  await expect(viewer.getByTestId('cell-viewer-size')).toContainText(`${doc.length} characters`)
  await expect(viewer).toBeInViewport({ ratio: 1 })
  await shoot(page, 'grid-json-digits')
  await page.keyboard.press('Escape')

  await page.getByTestId('result-copy').click()
  const dialog = page.getByTestId('copy-rows')
  await dialog.locator('[data-format="json"]').click()
  await expect(dialog.getByTestId('copy-preview')).toHaveValue(
    '[\n  {\n    "doc": {\n      "id": 12345678901234567890123,\n      "amount": 0.1000000000000000055511\n    }\n  }\n]\n',
  )
})

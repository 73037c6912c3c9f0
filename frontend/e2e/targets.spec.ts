// Targets (issue 13): "Test" inside the form before saving (a good and a bad setting), CSV
// import with a per-row report (one row refused), the Health column after a test, and the home
// page's card of targets failing their last check. Real AutoDB, real PostgreSQL.
import { expect, test, type Page } from '@playwright/test'
import { addTarget, sameOrigin, shoot, signIn, stamp } from './support'

/**
 * The list shows target `name` once filtered by it: it holds every journey's targets, 20 to a
 * page, so an unfiltered page need not reach it.
 */
async function expectListed(page: Page, name: string): Promise<void> {
  await page.getByTestId('target-filter').locator('input').fill(name)
  await expect(page.getByTestId('targets-table').getByText(name, { exact: true })).toBeVisible()
}

async function fillForm(page: Page, fields: Record<string, string>): Promise<void> {
  const form = page.getByTestId('target-form')
  for (const [name, value] of Object.entries(fields)) await form.locator(`input[name="${name}"]`).fill(value)
}

test.describe('targets', () => {
  test.use({ viewport: { width: 1440, height: 900 } })

  test('a new target is tested inside the form before it is saved, good and bad', async ({ page }) => {
    await signIn(page)
    await page.goto('/targets')
    await page.getByTestId('target-new').click()
    const name = `e2e-form-${stamp}`
    await fillForm(page, { name, host: '127.0.0.1', port: '1', database: 'postgres', username: 'postgres' })
    // Nothing listens on port 1: the database's refusal shows in the form.
    await page.getByTestId('target-form-test').click()
    const result = page.getByTestId('form-test-result')
    await expect(result).toHaveAttribute('data-ok', 'false')
    await expect(page.getByTestId('form-test-error')).not.toBeEmpty()
    await shoot(page, 'targets-form-test-failed')
    await fillForm(page, { port: '5432' })
    await expect(result).toHaveCount(0)
    await page.getByTestId('target-form-test').click()
    await expect(result).toHaveAttribute('data-ok', 'true')
    await expect(result).toContainText('PostgreSQL')
    // The test stored nothing.
    const list = await page.request.get('/api/targets')
    expect(((await list.json()) as { name: string }[]).some((t) => t.name === name)).toBe(false)
    await page.getByTestId('target-save').click()
    await expect(page.getByTestId('target-form')).toBeHidden()
    await expectListed(page, name)
  })

  test('a test of a listed target shows in its Health column, and a failing one on the home page', async ({ page }) => {
    await signIn(page)
    const good = `e2e-health-ok-${stamp}`
    const down = `e2e-health-down-${stamp}`
    const base = { engine: 'postgres', host: '127.0.0.1', database: 'postgres', username: 'postgres' }
    await addTarget(page, { name: good, ...base, port: 5432 })
    const downId = await addTarget(page, { name: down, ...base, port: 1 })
    await page.goto(`/targets?q=${good}`)
    const row = page.getByTestId('targets-table').locator('tr', { hasText: good })
    await expect(row.getByTestId('health-badge')).toHaveAttribute('data-health', 'unchecked')
    await row.getByRole('button', { name: 'Test', exact: true }).click()
    await expect(page.getByTestId('test-result').locator('[data-ok="true"]')).toBeVisible()
    await page.getByTestId('test-result').getByRole('button', { name: 'Close', exact: true }).click()
    await expect(row.getByTestId('health-badge')).toHaveAttribute('data-health', 'ok')
    // ISO 8601, 24-hour, with the zone's offset.
    await expect(row.getByTestId('health-badge')).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2}/)

    const res = await page.request.post(`/api/targets/${downId}/test`, { headers: sameOrigin })
    expect(res.status()).toBe(200)
    await page.goto(`/targets?q=${down}`)
    const downRow = page.getByTestId('targets-table').locator('tr', { hasText: down })
    await expect(downRow.getByTestId('health-badge')).toHaveAttribute('data-health', 'failed')
    await downRow.getByTestId('health-badge').hover()
    await expect(page.getByTestId('health-hint')).not.toBeEmpty()
    await shoot(page, 'targets-health')

    await page.goto('/')
    const card = page.getByTestId('home-failing-targets')
    await expect(card.getByRole('link', { name: down })).toBeVisible()
    await expect(card.getByRole('link', { name: good })).toHaveCount(0)
    await shoot(page, 'home-failing-targets')
  })

  test('an import of two rows, one bad, reports each row; the dry run stores nothing', async ({ page }) => {
    await signIn(page)
    await page.goto('/targets')
    const good = `e2e-import-${stamp}`
    const csv = `name,engine,host,port,database,username,tags\n${good},postgres,127.0.0.1,5432,postgres,postgres,e2e;imported\nbad-${stamp},mongo,127.0.0.1,1,x,y,\n`
    await page.getByTestId('target-import-open').click()
    await page.getByTestId('import-csv').locator('textarea').fill(csv)
    await page.getByTestId('import-dry-run').click()
    const statuses = page.getByTestId('import-rows').getByTestId('import-status')
    await expect(statuses).toHaveText(['Would create', 'Refused'])
    await expect(page.getByTestId('import-rows').getByTestId('import-error').nth(1)).toContainText('engine')
    let list = await page.request.get('/api/targets')
    expect(((await list.json()) as { name: string }[]).some((t) => t.name === good)).toBe(false)
    await page.getByTestId('import-run').click()
    await expect(statuses).toHaveText(['Created', 'Refused'])
    await expect(page.getByTestId('import-summary')).toContainText('1 of 2')
    await shoot(page, 'targets-import')
    list = await page.request.get('/api/targets')
    expect(((await list.json()) as { name: string }[]).some((t) => t.name === good)).toBe(true)
    await page.getByTestId('target-import').getByRole('button', { name: 'Close', exact: true }).click()
    await expect(page.getByTestId('target-import')).toBeHidden()
    await expectListed(page, good)
  })
})

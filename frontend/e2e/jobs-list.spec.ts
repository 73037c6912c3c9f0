// The job list against a real AutoDB server: a job on three SQLite targets, one of
// which is no database, ends 2/3; searching by part of its name (any case, `%` and
// `_` plain) narrows the list to it, and the search stays in the URL through a
// reload and going back. The list shows its target count and success ratio, and
// still fits 390 px. Every wait is on a condition.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { addTarget, checkA11y, sameOrigin, screenshotPath, signIn, sqlitePath, stamp } from './support'

const tag = `list-${stamp}`
/** Unique to this run; `_` and `%` must match themselves, not any character. */
const jobName = `Nightly_${stamp} 50% vacuum`
const otherName = `nightlyx${stamp} 50x vacuum`

async function submit(page: Page, name: string, targetIds: number[]): Promise<number> {
  const res = await page.request.post('/api/jobs', {
    headers: sameOrigin,
    data: { name, on_error: 'continue', scripts: [{ sql: 'CREATE TABLE list_t (id INTEGER);', target_ids: targetIds }] },
  })
  expect(res.status(), await res.text()).toBe(201)
  return ((await res.json()) as { id: number }).id
}

async function ended(page: Page, id: number): Promise<boolean> {
  const res = await page.request.get(`/api/jobs/${id}`)
  return ((await res.json()) as { finished_at: string | null }).finished_at !== null
}

test('the job list searches names from the URL and shows each job its targets and success ratio', async ({ page }) => {
  let jobId = 0
  let otherId = 0

  await test.step('signs in and runs a job on three targets, one of them no database', async () => {
    await signIn(page)
    const folder = join(dirname(sqlitePath), tag)
    mkdirSync(folder, { recursive: true })
    writeFileSync(join(folder, 'a.db'), '')
    writeFileSync(join(folder, 'b.db'), '')
    // Not a SQLite file: the run on it fails with the database's own message.
    writeFileSync(join(folder, 'bad.db'), 'this is a text file, not a database\n'.repeat(40))
    const ids: number[] = []
    for (const file of ['a', 'b', 'bad']) {
      ids.push(await addTarget(page, { name: `${tag}-${file}`, engine: 'sqlite', database: join(folder, `${file}.db`) }))
    }
    jobId = await submit(page, jobName, ids)
    otherId = await submit(page, otherName, [ids[0]!])
    await expect.poll(() => ended(page, jobId), { timeout: 60_000 }).toBe(true)
    await expect.poll(() => ended(page, otherId), { timeout: 60_000 }).toBe(true)
  })

  const table = () => page.getByTestId('jobs-table')
  const row = (id: number) => table().locator('tbody tr', { has: page.locator(`a[href$="/jobs/${id}"]`) })
  const search = () => page.getByTestId('job-search').locator('input')

  await test.step('typing part of the name in another case narrows the list and puts it in the URL', async () => {
    await page.goto('/jobs')
    await expect(row(jobId)).toBeVisible()
    await expect(row(otherId)).toBeVisible()
    await search().fill(`nightly_${stamp.toUpperCase()} 50%`)
    await expect(page).toHaveURL((url) => url.searchParams.get('q') === `nightly_${stamp.toUpperCase()} 50%`)
    await expect(row(otherId)).toHaveCount(0)
    await expect(table().locator('tbody tr')).toHaveCount(1)
    await expect(row(jobId)).toBeVisible()
    await checkA11y(page)
  })

  await test.step('shows the finished job over 3 targets with 2 of 3 runs succeeded', async () => {
    await expect(row(jobId).getByTestId('job-targets')).toHaveText('3')
    await expect(row(jobId).getByTestId('job-ratio-label')).toHaveText('2/3')
    await expect(row(jobId).getByTestId('job-ratio')).toContainText('66%')
    await expect(row(jobId).getByTestId('job-ratio')).toHaveAttribute('aria-label', /2 of 3 runs succeeded, 1 failed/)
    await page.screenshot({ path: screenshotPath('jobs-list-ratio') })
  })

  await test.step('the search survives a reload', async () => {
    await page.reload()
    await expect(search()).toHaveValue(`nightly_${stamp.toUpperCase()} 50%`)
    await expect(row(jobId)).toBeVisible()
    await expect(table().locator('tbody tr')).toHaveCount(1)
  })

  await test.step('and going to the job and back', async () => {
    await row(jobId).locator(`a[href$="/jobs/${jobId}"]`).click()
    await expect(page).toHaveURL(new RegExp(`/jobs/${jobId}$`))
    await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'error')
    await page.goBack()
    await expect(search()).toHaveValue(`nightly_${stamp.toUpperCase()} 50%`)
    await expect(table().locator('tbody tr')).toHaveCount(1)
    await expect(row(jobId)).toBeVisible()
  })

  await test.step('a name nothing has shows the empty list; clearing the box shows both jobs again', async () => {
    await search().fill(`no such job ${stamp}`)
    await expect(table()).toContainText('No jobs match the filters')
    await search().fill('')
    await expect(page).toHaveURL((url) => !url.searchParams.has('q'))
    await expect(row(jobId)).toBeVisible()
    await expect(row(otherId)).toBeVisible()
  })

  await test.step('at 390 px the table scrolls inside itself, the page does not', async () => {
    await page.setViewportSize({ width: 390, height: 800 })
    await search().fill(stamp)
    await expect(row(jobId)).toBeVisible()
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: window.innerWidth,
    }))
    expect(widths.page).toBeLessThanOrEqual(widths.window)
    const scroller = table().locator('.n-scrollbar-container').last()
    expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
    await page.screenshot({ path: screenshotPath('jobs-list-390'), fullPage: true })
  })
})

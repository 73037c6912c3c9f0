// Every page and its main dialogs, in both languages, at 1440 and at 390 pixels wide, and in
// dark mode (issue 13): each opens, reads in its language, shows nothing beyond the window's right edge that cannot
// be scrolled to, and has no serious or critical axe finding. Each problem found is listed, page
// by page, before the test fails. Screenshots: target/e2e-screenshots/page-*.png and dialog-*.png.
import { expect, test, type Page } from '@playwright/test'
import { a11yProblems, addTarget, sameOrigin, shoot, signIn, sqlitePath, stamp } from './support'

const CJK = /[\u4e00-\u9fff]/

interface Seed {
  jobId: number
  queryId: number
}

/** A target, a job that ran on it and a stored query: so the detail pages have something to show. */
async function seed(page: Page, variant: string): Promise<Seed> {
  const target = await addTarget(page, { name: `e2e-pages-${variant}-${stamp}`, engine: 'sqlite', database: sqlitePath })
  const job = await page.request.post('/api/jobs', {
    headers: sameOrigin,
    data: { name: `e2e pages ${stamp}`, scripts: [{ sql: 'SELECT 1;', target_ids: [target] }] },
  })
  expect(job.status(), await job.text()).toBe(201)
  const query = await page.request.post('/api/queries', {
    headers: sameOrigin,
    data: { sql: "SELECT 1 AS n, 'pages' AS word", target_ids: [target] },
  })
  expect(query.status(), await query.text()).toBe(201)
  return {
    jobId: ((await job.json()) as { id: number }).id,
    queryId: ((await query.json()) as { id: number }).id,
  }
}

function pages(seeded: Seed): [string, string][] {
  return [
    ['home', '/'],
    ['targets', '/targets'],
    ['jobs', '/jobs'],
    ['job-new', '/jobs/new'],
    ['job-detail', `/jobs/${seeded.jobId}`],
    ['queries', `/queries?id=${seeded.queryId}`],
    ['query-history', '/queries/history'],
    ['schedules', '/schedules'],
    ['grants', '/grants'],
    ['grant-admin', '/grants/admin'],
    ['users', '/users'],
    ['audit', '/audit'],
    ['account', '/account'],
    ['not-found', '/no/such/page'],
  ]
}

/** The dialogs and drawers, each opened from its page by the button with this test id. */
function dialogs(seeded: Seed): [string, string, string][] {
  return [
    ['target-form', '/targets', 'target-new'],
    ['target-import', '/targets', 'target-import-open'],
    ['job-run-log', `/jobs/${seeded.jobId}`, 'run-log-open'],
    ['schedule-form', '/schedules', 'schedule-new'],
    ['policy-form', '/grants/admin', 'policy-new'],
    ['token-form', '/account', 'token-new'],
  ]
}

/** Waits until the page shows what it loaded: a heading, no skeleton, no table still loading. */
async function settled(page: Page): Promise<void> {
  await expect(page.locator('h1').first()).toBeVisible()
  await expect(page.locator('.n-skeleton')).toHaveCount(0)
  await expect(page.locator('.n-data-table--loading, .n-spin--spinning')).toHaveCount(0)
}

/**
 * What lies past the window's right edge and cannot be scrolled to, and whether the page
 * itself scrolls sideways: elements whose right edge is beyond the window count unless a
 * region of their own (a table's body, a code block) scrolls them; the page's content panel
 * is no such region: a page wider than a phone is a page the phone cannot show.
 */
async function cutOff(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const found: string[] = []
    const panel = document.querySelector('[role=main] .n-scrollbar-container')
    for (const whole of [document.documentElement, panel]) {
      if (whole && whole.scrollWidth > whole.clientWidth + 1) {
        found.push(`the page scrolls sideways: ${whole.scrollWidth} px in ${whole.clientWidth}`)
      }
    }
    // A table's header is moved sideways with its body (by script, App.vue): it scrolls too.
    const scrolls = (el: Element) =>
      el !== panel &&
      (['auto', 'scroll'].includes(getComputedStyle(el).overflowX) || el.classList.contains('n-data-table-base-table-header'))
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0 || r.right <= width + 1) continue
      if (getComputedStyle(el).visibility === 'hidden') continue
      let up = el.parentElement
      let held = false
      while (up && up !== document.body) {
        if (scrolls(up) && up.getBoundingClientRect().right <= width + 1) {
          held = true
          break
        }
        up = up.parentElement
      }
      if (held) continue
      // Report the outermost offender only: its children are cut with it.
      const parent = el.parentElement
      if (parent && parent !== document.body && parent.getBoundingClientRect().right > width + 1) continue
      const id = el.getAttribute('data-testid') ?? el.className.toString().split(' ').slice(0, 2).join('.')
      found.push(`<${el.tagName.toLowerCase()} ${id}> ends at ${Math.round(r.right)} px`)
    }
    return found
  })
}

const variants = [
  { name: 'en-1440', locale: 'en-US', viewport: { width: 1440, height: 900 }, dark: false },
  { name: 'zh-CN-1440', locale: 'zh-CN', viewport: { width: 1440, height: 900 }, dark: false },
  { name: 'en-390', locale: 'en-US', viewport: { width: 390, height: 844 }, dark: false },
  { name: 'zh-CN-390', locale: 'zh-CN', viewport: { width: 390, height: 844 }, dark: false },
  { name: 'en-1440-dark', locale: 'en-US', viewport: { width: 1440, height: 900 }, dark: true },
] as const

for (const v of variants) {
  test.describe(v.name, () => {
    test.use({ locale: v.locale, viewport: v.viewport, colorScheme: v.dark ? 'dark' : 'light' })
    const zh = v.locale === 'zh-CN'

    test(`every page opens, reads in its language, fits the window and passes axe (${v.name})`, async ({ page }) => {
      test.setTimeout(180_000)
      const problems: string[] = []

      await page.goto('/login')
      await expect(page.getByTestId('login-submit')).toBeVisible()
      await expect(page.getByTestId('login-submit')).toHaveText(zh ? CJK : /^[^\u4e00-\u9fff]+$/)
      problems.push(...(await cutOff(page)).map((p) => `login: ${p}`))
      problems.push(...(await a11yProblems(page)).map((p) => `login: ${p}`))
      await shoot(page, `page-login-${v.name}`)

      await signIn(page)
      if (v.dark) await expect(page.locator('html')).toHaveClass(/dark/)
      const seeded = await seed(page, v.name)
      for (const [name, path] of pages(seeded)) {
        await page.goto(path)
        await settled(page)
        // The page's own words (a job's name in its heading is the user's): Chinese in zh-CN, none in English.
        const words = await page.locator('[role=main]').innerText()
        if (zh !== CJK.test(words)) problems.push(`${name}: the page does not read in ${v.locale}`)
        problems.push(...(await cutOff(page)).map((p) => `${name}: ${p}`))
        problems.push(...(await a11yProblems(page)).map((p) => `${name}: ${p}`))
        await shoot(page, `page-${name}-${v.name}`)
      }
      for (const [name, path, opener] of dialogs(seeded)) {
        await page.goto(path)
        await settled(page)
        await page.getByTestId(opener).first().click()
        const dialog = page.locator('.n-drawer, .n-modal').last()
        await expect(dialog).toBeVisible()
        // Opened all the way (drawers slide in).
        await expect.poll(() => dialog.evaluate((el) => el.getAnimations({ subtree: true }).length)).toBe(0)
        problems.push(...(await cutOff(page)).map((p) => `${name}: ${p}`))
        problems.push(...(await a11yProblems(page)).map((p) => `${name}: ${p}`))
        await shoot(page, `dialog-${name}-${v.name}`)
      }
      expect(problems, `problems found (${v.name})`).toEqual([])
    })
  })
}

// Issue 13: the sidebar's icons and the dark mode switch (kept across reloads, the system's
// preference on a first visit), with the pages still accessible in dark.
import { expect, test, type Page } from '@playwright/test'
import { checkA11y, shoot, signIn } from './support'

test('the sidebar shows an icon per entry, hidden from screen readers', async ({ page }) => {
  await signIn(page)
  const links = page.getByTestId('main-menu').getByRole('link')
  await expect(links.first()).toBeVisible()
  const items = page.getByTestId('main-menu').locator('.n-menu-item')
  const count = await items.count()
  expect(count).toBeGreaterThanOrEqual(8)
  for (let i = 0; i < count; i++) {
    const icon = items.nth(i).locator('svg[data-icon]')
    await expect(icon).toBeVisible()
    await expect(icon).toHaveAttribute('aria-hidden', 'true')
  }
  // The entries are still named by their text alone.
  await expect(page.getByTestId('main-menu').getByRole('link', { name: 'Jobs', exact: true })).toBeVisible()
})

test('dark mode is switched in the header, kept across a reload, and stays accessible', async ({ page }) => {
  await signIn(page)
  await page.goto('/jobs')
  const toggle = page.getByTestId('theme-switch')
  await expect(toggle).toHaveAttribute('aria-pressed', 'false')
  await expect(page.locator('html')).not.toHaveClass(/dark/)

  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-pressed', 'true')
  await expect(page.locator('html')).toHaveClass(/dark/)
  // naive-ui's dark colours reach its components (the header is a dark layout).
  await expect(page.locator('.n-layout-header')).toHaveCSS('background-color', 'rgb(24, 24, 28)')

  await page.reload()
  await expect(page.getByTestId('theme-switch')).toHaveAttribute('aria-pressed', 'true')
  await expect(page.locator('html')).toHaveClass(/dark/)
  await expect(page.locator('.n-layout-header')).toHaveCSS('background-color', 'rgb(24, 24, 28)')
  await expect(page.getByTestId('job-new')).toBeVisible()
  await checkA11y(page)
  await shoot(page, 'look-dark-jobs')

  await page.getByTestId('theme-switch').click()
  await expect(page.locator('html')).not.toHaveClass(/dark/)
  await expect(page.locator('.n-layout-header')).toHaveCSS('background-color', 'rgb(255, 255, 255)')
})

test.describe('with the system in dark mode', () => {
  test.use({ colorScheme: 'dark' })

  test('a first visit follows the system', async ({ page }) => {
    await signIn(page)
    await expect(page.getByTestId('theme-switch')).toHaveAttribute('aria-pressed', 'true')
    await expect(page.locator('html')).toHaveClass(/dark/)
  })
})

/** Of the chart's drawn pixels, the share that is near white: its grid lines were, on a dark page. */
async function brightShare(page: Page): Promise<number> {
  return page.getByTestId('outcome-chart').locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d')
    if (!ctx) return 1
    const { data } = ctx.getImageData(0, 0, c.width, c.height)
    let bright = 0
    for (let i = 0; i < data.length; i += 4) {
      const [r = 0, g = 0, b = 0, a = 0] = data.subarray(i, i + 4)
      if (a > 128 && r > 200 && g > 200 && b > 200) bright++
    }
    return bright / (c.width * c.height)
  })
}

test('the home chart is drawn in the theme colours and redrawn when the theme flips', async ({ page }) => {
  await signIn(page)
  await expect(page.getByTestId('outcome-chart').locator('canvas')).toBeVisible()
  await expect(page.locator('html')).not.toHaveClass(/dark/)
  await page.getByTestId('theme-switch').click()
  await expect(page.locator('html')).toHaveClass(/dark/)
  // Light grid lines and dark words on a dark card were the bug: near-white is only the legend's words.
  await expect.poll(() => brightShare(page)).toBeLessThan(0.01)
  await shoot(page, 'look-dark-home')
  await page.getByTestId('theme-switch').click()
  await expect(page.locator('html')).not.toHaveClass(/dark/)
})

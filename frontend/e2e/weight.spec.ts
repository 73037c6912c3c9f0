// The login page's weight as the browser loads it, and the cache rules of what it loads
// (the same rules as nginx's site: backend/src/startup.rs, nginx/autodb-locations.conf).
import { gzipSync } from 'node:zlib'
import { expect, test, type Response } from '@playwright/test'

/** The budget of issue 13: JavaScript of the login page, gzip'd. */
const BUDGET = 150 * 1024

test('the login page loads at most 150 KB of gzip\'d JavaScript, cached as immutable', async ({ page }) => {
  const scripts: Response[] = []
  page.on('response', (r) => {
    if (r.request().resourceType() === 'script') scripts.push(r)
  })
  const doc = await page.goto('/login')
  await expect(page.getByTestId('login-submit')).toBeVisible()
  await page.waitForLoadState('networkidle')

  expect(doc?.headers()['cache-control']).toBe('no-cache')
  expect(scripts.length).toBeGreaterThan(1)
  let total = 0
  for (const r of scripts) {
    expect(r.status(), r.url()).toBe(200)
    expect(new URL(r.url()).pathname, 'every script is a hashed bundle').toMatch(/^\/assets\/.+\.js$/)
    expect(r.headers()['cache-control'], r.url()).toBe('public, max-age=31536000, immutable')
    // The binary's file server may not compress: count what gzip makes of each body.
    total += gzipSync(await r.body(), { level: 9 }).length
  }
  console.warn(`login page JavaScript: ${(total / 1024).toFixed(1)} KB gzip'd in ${scripts.length} files`)
  expect(total).toBeLessThanOrEqual(BUDGET)
})

test('a client-side route is index.html, revalidated every time', async ({ request }) => {
  const res = await request.get('/jobs/12345')
  expect(res.status()).toBe(200)
  expect(res.headers()['content-type']).toContain('text/html')
  expect(res.headers()['cache-control']).toBe('no-cache')
})

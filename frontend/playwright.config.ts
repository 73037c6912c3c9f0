// Playwright runs the user journeys in e2e/ against a running AutoDB (API and
// built UI from one server); e2e/run-e2e.sh starts one and sets the env.
import { defineConfig } from '@playwright/test'

const baseURL = process.env.AUTODB_E2E_URL
if (!baseURL) {
  throw new Error('AUTODB_E2E_URL is not set: run e2e/run-e2e.sh, or point it at a running AutoDB')
}

export default defineConfig({
  testDir: './e2e',
  // One journey that builds on its own steps; parallel workers would only race.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    // The UI picks its language from the browser: pin English for the assertions.
    locale: 'en-US',
    launchOptions: {
      // The system Chromium; never a downloaded browser build.
      executablePath: process.env.AUTODB_E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
})

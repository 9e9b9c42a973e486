// Headless Chromium (Debian's) for the e2e tests, and the editor's login through Node-RED's own page.
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.EMS_CHROMIUM || '/usr/bin/chromium';
/** Why the browser tests are skipped, or undefined when Chromium is there. */
export const chromiumAbsent = fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium, or set EMS_CHROMIUM)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Signs in through the editor's login dialog (the page must show it). */
export async function editorLogin(page: Page, login: string, password: string): Promise<void> {
  await page.waitForSelector('#node-dialog-login-username', { timeout: 30_000 });
  await page.fill('#node-dialog-login-username', login);
  await page.fill('#node-dialog-login-password', password);
  await page.click('#node-dialog-login-submit');
}

// What the dashboard's Chromium tests share: waiting with a named deadline, reading widgets as a person sees them,
// picking dropdown options and signing in through the dashboard's login page.
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Polls `probe` until it answers a value; fails after `ms` naming what it waited for and the last thing seen. */
export async function until<T>(what: string, ms: number, probe: () => Promise<{ value?: T; seen: unknown }>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await probe();
    if (r.value !== undefined) return r.value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; last seen ${JSON.stringify(r.seen)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** `work`, or a failure naming it after `ms`. */
export async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the text of `selector` (every match, joined) matches `pattern`; fails naming what it waited for and the text seen. */
export async function textOf(page: Page, what: string, selector: string, pattern: RegExp, ms = 20_000): Promise<string> {
  const read = () => page.evaluate((sel) => Array.from(document.querySelectorAll(sel)).map((e) => (e as HTMLElement).innerText).join(' | '), selector);
  return until(what, ms, async () => {
    const seen = await read().catch((e: Error) => `(${e.message})`);
    return { value: pattern.test(seen) ? seen : undefined, seen };
  });
}

/** The cells of a table widget's body rows (an empty table has none; Vuetify's "no data" row is left out). */
export function rowsOf(page: Page, table: string): Promise<string[][]> {
  return page.evaluate((sel) => Array.from(document.querySelectorAll(`${sel} tbody tr`))
    .map((r) => Array.from(r.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim()))
    .filter((cells) => cells.length > 1), table);
}

/** The options a dropdown widget (by class) offers, as a person sees them when opening it (closed again after). */
export async function optionsOf(page: Page, dropdown: string): Promise<string[]> {
  await page.locator(`.${dropdown} .v-field`).click({ timeout: 10_000 });
  const items = page.locator('.v-overlay-container .v-list-item');
  await items.first().waitFor({ state: 'visible', timeout: 10_000 });
  const texts = (await items.allInnerTexts()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  await page.locator('.v-overlay-container .v-list-item').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  return texts;
}

/** Opens a dropdown widget (by its class) and clicks the option whose text contains `option`, as a person does. */
export async function pick(page: Page, dropdown: string, option: string): Promise<void> {
  await page.locator(`.${dropdown} .v-field`).click({ timeout: 10_000 });
  await page.locator('.v-overlay-container .v-list-item', { hasText: option }).click({ timeout: 10_000 })
    .catch(async (e: Error) => {
      const items = await page.locator('.v-overlay-container .v-list-item').allTextContents();
      throw new Error(`option "${option}" of ${dropdown} not offered (${items.join(' | ')}): ${e.message}`);
    });
}

/**
 * A browser context of its own for a user (kept in `contexts` for closing), signed in through the dashboard's login
 * page from `/dashboard/<start>`; answers the page once the login has brought it back there.
 */
export async function signIn(browser: Browser, contexts: BrowserContext[], url: string, user: { login: string; password: string }, o: { timeZone: string; start?: string }): Promise<Page> {
  const start = o.start ?? 'overview';
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, timezoneId: o.timeZone });
  contexts.push(context);
  context.setDefaultTimeout(15_000); // every page action fails naming its target after 15 s
  const page = await context.newPage();
  await page.goto(`${url}/dashboard/${start}`);
  await page.waitForURL(/dashboard-login/, { timeout: 10_000 });
  await page.fill('#ems-username', user.login);
  await page.fill('#ems-password', user.password);
  await page.click('#ems-submit');
  await page.waitForURL(new RegExp(`/dashboard/${start}$`), { timeout: 15_000 })
    .catch((e: Error) => { throw new Error(`${user.login}'s login did not reach /dashboard/${start}: ${e.message}`); });
  return page;
}

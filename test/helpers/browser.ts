/** Debian's Chromium, driven by playwright-core, started as the tests need it on these machines. */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';

/**
 * Debian's headless shell of Chromium (the package `chromium-headless-shell`) where it is installed, else its Chromium;
 * `CHROMIUM_PATH` names another. The shell is the same Blink, V8 and network stack without the browser's own layer,
 * as Playwright runs headless by default: on two cores the browser files took half the CPU and two thirds of the time
 * on it (the pages' file 115 s of CPU and 75 s alone on `/usr/bin/chromium`, 57 s and 46 s on the shell). Both block
 * a form whose answer redirects past the page's `form-action` alike.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? (existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : '/usr/bin/chromium');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * A browser of the file's own: on the run's shared Chromium (`shared-chromium.ts`) where there is one, or a Chromium
 * of its own where the test needs more arguments, such as `--host-resolver-rules` to map host names to loopback.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  // Only inside a vitest worker: the benchmarks start Chromium through here too, and vitest's API throws elsewhere.
  const shared = extraArgs.length === 0 && process.env.VITEST ? (await import('vitest')).inject('sharedChromium') : undefined;
  if (shared) {
    const answer = await fetch(shared);
    if (!answer.ok) throw new Error(await answer.text());
    return chromium.connect(await answer.text(), { timeout: 30_000 });
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Signs in on the emulator's sign-in page at `emulatorUrl`, where `page` was sent: as its first test employee, or as
 * `navIdent`; resolves once the page has left the emulator and loaded.
 */
export async function signInOnEmulator(page: Page, emulatorUrl: string, navIdent?: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(emulatorUrl));
  if (navIdent) {
    await page.locator('#navIdent').fill(navIdent);
    await page.locator('#name').fill(`Test ${navIdent}`);
    await page.locator('#email').fill(`${navIdent.toLowerCase()}@trygdeetaten.no`);
  }
  await page.locator('button:has-text("Sign in")').click();
  await page.waitForURL((url) => !url.href.startsWith(emulatorUrl));
  await page.waitForLoadState('load');
}

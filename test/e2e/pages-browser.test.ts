/**
 * The pages as an employee meets them in Chromium: the home page, the token page, the advice and error
 * pages, logging out and signing in as someone else, the command line's pages; axe-core on each, at
 * 375 px wide and in dark mode too. Then beyond the happy path: a browser without JavaScript (the token form, a
 * device's approval), the keyboard (an audience pasted and sent with Enter), and two tabs.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { AxeResults } from 'axe-core';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { accessPolicyYaml } from '../../src/generator/idp/entra/advice.js';
import { deviceAuthorization, poll } from '../helpers/authorization-server.js';
import { launchChromium, signInOnEmulator } from '../helpers/browser.js';
import { installClock, testClock } from '../helpers/clock.js';
import { startStack, type Stack } from '../helpers/stack.js';

vi.setConfig({ testTimeout: 120_000 });
// Before the service starts: the device page's reading time passes by the clock.
installClock();

const TIME_ZONE = 'Asia/Kolkata';
const LOCALE = 'en-GB';
const AUDIENCE = 'dev-gcp:my-team:my-app';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ emulator: { unauthorizedTargets: ['dev-gcp:locked:api'], missingTargets: ['dev-gcp:ghost:api'] } });
  browser = await launchChromium();
  context = await newContext();
  page = await context.newPage();
  dir = await mkdtemp(join(tmpdir(), 'pages-test-'));
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function newContext(options: { width?: number; dark?: boolean } = {}): Promise<BrowserContext> {
  const created = await browser.newContext({
    timezoneId: TIME_ZONE,
    locale: LOCALE,
    viewport: { width: options.width ?? 1024, height: 800 },
    colorScheme: options.dark ? 'dark' : 'light',
  });
  await created.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
  return created;
}

/**
 * axe-core's minified build: the same rules as the source the package exports, in half the size. Putting it into a page
 * costs more than a check itself (a second or so on a busy machine): it is put into each document once, where
 * @axe-core/playwright's AxeBuilder puts it in twice for every check, once into a blank page of its own. That made the
 * checks most of this file's time (a quiet machine: 92 s for the file with AxeBuilder, 68 s without); one test below
 * keeps the two in agreement.
 */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on the page, put into its document if it is not there yet. */
async function axeViolations(p: Page): Promise<AxeResults['violations']> {
  await p.waitForLoadState('load');
  if (!(await p.evaluate<boolean>('typeof window.axe === "object"'))) await p.evaluate(AXE_SOURCE);
  // Every violation in full; of the other kinds (passes, incomplete, inapplicable) no more than one element each, unread here.
  return (await p.evaluate<AxeResults>('axe.run(document, { resultTypes: ["violations"] })')).violations;
}

/** No serious or critical violation, with the rule and the elements named when there is one. */
async function expectAccessible(p: Page): Promise<void> {
  const bad = (await axeViolations(p))
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
  expect(bad, p.url()).toEqual([]);
}

async function expectNoSidewaysScroll(p: Page): Promise<void> {
  const [scroll, client] = await p.evaluate<[number, number]>(
    '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
  );
  expect(scroll, p.url()).toBeLessThanOrEqual(client);
}

/** Signs in on the emulator's page: as its first test employee, or as `navIdent`. */
const signIn = (p: Page, navIdent?: string) => signInOnEmulator(p, stack.emulator!.baseUrl, navIdent);

const clipboard = (p: Page) => p.evaluate<string>('navigator.clipboard.readText()');
const bodyStyle = (p: Page, property: 'fontFamily' | 'backgroundColor') =>
  p.evaluate<string>(`getComputedStyle(document.body).${property}`);

describe('the home page', () => {
  it('checks the audience as one types, and says who is not logged in', async () => {
    await page.goto(`${stack.url}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Entra ID token generator');
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Not logged in/);
    await expect(page.locator('#emulator-heading ~ ul').textContent()).resolves.toContain('Z990001 Kari Nordmann');
    const input = page.locator('#aud');
    const verdict = page.locator('#aud-verdict');
    const onBehalf = page.locator('button:has-text("Token on your behalf")');
    await expect.poll(() => onBehalf.isDisabled()).toBe(true);

    await input.pressSequentially('Dev GCP');
    await expect.poll(() => verdict.textContent()).toMatch(/^Invalid audience "Dev GCP": it contains white space/);
    await expect(input.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(onBehalf.isDisabled()).resolves.toBe(true);

    for (const form of ['dev-gcp.my-team.my-app', 'api://dev-gcp.my-team.my-app/.default', AUDIENCE]) {
      await input.fill('');
      await input.pressSequentially(form);
      await expect.poll(() => verdict.textContent()).toBe(`Valid: ${AUDIENCE} (scope api://dev-gcp.my-team.my-app/.default)`);
    }
    await expect(input.getAttribute('aria-invalid')).resolves.toBe('false');
    await expect(onBehalf.isDisabled()).resolves.toBe(false);
    await expectAccessible(page);
  });

  it('gets a token on your behalf with its button, through the login page', async () => {
    await page.locator('button:has-text("Token on your behalf")').click();
    await page.waitForURL((url) => url.href.startsWith(stack.emulator!.baseUrl));
    await page.waitForLoadState('load');
    await expectAccessible(page); // the emulator's sign-in page
    await signIn(page);
    await page.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Token on behalf of you');
  });
});

describe('the token page', () => {
  it('shows the token once, copies it and the curl line, and explains the claims', async () => {
    const token = (await page.locator('#access-token').textContent())!;
    expect(decodeJwt(token).aud).toBe(stack.emulator!.clientIdFor(AUDIENCE));
    const html = await page.content();
    expect(html.split(token).length - 1).toBe(3); // the token block, the JSON token response, and the curl line's copy source
    await expect(page.locator('#curl-shown').textContent()).resolves.not.toContain(token);

    await page.locator('button:has-text("Copy token")').click();
    await expect.poll(() => page.locator('[data-copy-status-for="access-token"]').textContent()).toBe('Copied.');
    expect(await clipboard(page)).toBe(token);
    await page.locator('button:has-text("Copy curl command")').click();
    await expect.poll(() => clipboard(page)).toBe(`curl -H "Authorization: Bearer ${token}" https://<your-api>/…`);

    const row = (claim: string) => page.locator('#claims-table tr', { has: page.locator(`th code:text-is("${claim}")`) });
    await expect(row('aud').locator('td').nth(1).textContent()).resolves.toContain(`the client id of ${AUDIENCE}`);
    await expect(row('NAVident').locator('td').nth(1).textContent()).resolves.toMatch(/NAV ident/);
    await expect(row('scp').locator('td').nth(1).textContent()).resolves.toMatch(/What the token allows on the employee's behalf/);

    // The expiry in the reader's clock (not UTC), relative, and not yet marked.
    const exp = decodeJwt(token).exp!;
    const local = new Date(exp * 1000).toLocaleTimeString(LOCALE, { hour: '2-digit', minute: '2-digit', timeZone: TIME_ZONE });
    // An expiry on another day of the reader's calendar (within the hour before their midnight) starts with its date.
    const dayOf = (ms: number) => new Date(ms).toLocaleDateString(LOCALE, { timeZone: TIME_ZONE });
    const day = dayOf(exp * 1000) === dayOf(Date.now()) ? '' : `${dayOf(exp * 1000)} `;
    const expiry = page.locator('p time.expiry');
    await expect.poll(() => expiry.textContent()).toMatch(new RegExp(`^${day}${local}, in (59|60) minutes$`));
    await expect(expiry.getAttribute('class')).resolves.not.toContain('soon');
    await expect(row('exp').locator('td').first().textContent()).resolves.toContain(local);
    await expect(page.locator('#raw-token-details').getAttribute('open')).resolves.toBeNull();
    await expect(page.locator('#token-claims').textContent()).resolves.toContain(String(decodeJwt(token).oid));
    await expectAccessible(page);
  });

  it('has the token, Copy token and the expiry in the first screen at 375x667 and 1280x800, the JSON response a click away', async () => {
    for (const viewport of [
      { width: 375, height: 667 },
      { width: 1280, height: 800 },
    ]) {
      const sized = await context.newPage();
      await sized.setViewportSize(viewport);
      await sized.goto(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
      for (const selector of ['#access-token', 'button:has-text("Copy token")', 'p time.expiry']) {
        const box = (await sized.locator(selector).boundingBox())!;
        expect(box, `${selector} at ${viewport.width}x${viewport.height}`).toBeTruthy();
        expect(box.y + box.height, `${selector} at ${viewport.width}x${viewport.height}`).toBeLessThanOrEqual(viewport.height);
        expect(box.x + box.width, `${selector} at ${viewport.width}x${viewport.height}`).toBeLessThanOrEqual(viewport.width);
      }
      const response = sized.locator('#token-response');
      await expect(response.isVisible()).resolves.toBe(false);
      await sized.locator('summary:has-text("Token response (JSON)")').click();
      await expect(response.isVisible()).resolves.toBe(true);
      const body = JSON.parse((await response.textContent())!) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type'].filter((key) => key in body).sort());
      expect(body.access_token).toBe(await sized.locator('#access-token').textContent());
      expect(body.token_type).toBe('Bearer');
      expect(typeof body.expires_in).toBe('number');
      // The claims table below the first screen's essentials.
      const claims = (await sized.locator('#claims-table').boundingBox())!;
      expect(claims.y).toBeGreaterThan((await sized.locator('button:has-text("Copy token")').boundingBox())!.y);
      await sized.close();
    }
  });

  it('counts the expiry down and marks it under five minutes', async () => {
    const clocked = await context.newPage();
    await clocked.clock.install();
    await clocked.goto(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    const expiry = clocked.locator('p time.expiry');
    await expect.poll(() => expiry.textContent()).toMatch(/in (59|60) minutes$/);
    await clocked.clock.fastForward('56:00');
    await expect.poll(() => expiry.textContent()).toMatch(/, in [34] minutes$|, in \d+ seconds$/);
    await expect(expiry.getAttribute('class')).resolves.toContain('soon');
    const renew = clocked.locator('#token-renew');
    await expect(renew.isVisible()).resolves.toBe(false);
    await clocked.clock.fastForward('05:00');
    await expect.poll(() => expiry.textContent()).toMatch(/^expired at .* ago$/);
    // Once expired, the page offers a new token: the same page asked again.
    await expect.poll(() => renew.isVisible()).toBe(true);
    await expect(renew.textContent()).resolves.toMatch(/^This token has expired\.\s+Get a new one$/);
    await expectAccessible(clocked);
    await renew.locator('a:text-is("Get a new one")').click();
    await clocked.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(clocked.locator('h1').textContent()).resolves.toBe('Token on behalf of you');
    // The page's clock is still past the hour: its new token reads as expired from the start, and the offer says so.
    await expect.poll(() => renew.textContent()).toMatch(/^This token has expired\.\s+Get a new one$/);
    await clocked.close();
  });

  it('labels /api/m2m as an app token asked for by the employee, and says what idtyp and roles mean', async () => {
    await page.goto(`${stack.url}/api/m2m?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('App token (client credentials)');
    const intro = (await page.locator('h1 + p').textContent())!;
    expect(intro).toMatch(
      new RegExp(
        `^An app token for ${AUDIENCE}: the token generator acting as itself, with no employee in the token, asked for by Kari ` +
          `Nordmann \\(Z990001\\)\\.$`,
      ),
    );
    expect(intro).not.toMatch(/on behalf of/);
    const text = (await page.locator('#claims-table').textContent())!;
    expect(text).toContain('app: an app token (client credentials)');
    expect(text).toContain(`What the token allows the asking app in ${AUDIENCE}`);
    await expectAccessible(page);
  });
});

describe('recent audiences', () => {
  it('lists the audiences this browser used, fills the field from one, and forgets them', async () => {
    await page.goto(`${stack.url}/api/obo?aud=dev-gcp:other-team:other-app`);
    await page.goto(`${stack.url}/`);
    const items = page.locator('#recent li');
    await expect.poll(() => items.count()).toBe(2);
    await expect(items.nth(0).textContent()).resolves.toContain('dev-gcp:other-team:other-app');
    await expect(items.nth(1).textContent()).resolves.toContain(AUDIENCE);
    await page.locator(`#recent button:text-is("${AUDIENCE}")`).click();
    await expect(page.locator('#aud').inputValue()).resolves.toBe(AUDIENCE);
    await expect.poll(() => page.locator('#aud-verdict').textContent()).toMatch(/^Valid/);
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Logged in as Kari Nordmann \(Z990001\) until/);
    await expectAccessible(page);
    await page.locator('button:has-text("Forget these")').click();
    await expect(items.count()).resolves.toBe(0);
    await page.reload();
    await expect(page.locator('#recent li').count()).resolves.toBe(0);
    await expect(page.locator('#recent-empty').isVisible()).resolves.toBe(true);
  });
});

describe('advice and error pages', () => {
  it('puts the YAML alone in its block with a copy button, the prose outside, the code once', async () => {
    const res = await page.goto(`${stack.url}/api/obo?aud=dev-gcp:locked:api`);
    expect(res?.status()).toBe(403);
    const yaml = accessPolicyYaml(stack.config.nais);
    await expect(page.locator('pre.snippet').textContent()).resolves.toBe(yaml);
    await page.locator('button:has-text("Copy YAML")').click();
    await expect.poll(() => clipboard(page)).toBe(yaml);
    await expect(page.locator('section.error').textContent()).resolves.toContain('The app must also let you in as a user');
    const text = (await page.locator('body').textContent())!;
    expect(text.match(/AADSTS65001/g)).toHaveLength(1);
    await expectAccessible(page);
    await page.goto(`${stack.url}/api/m2m?aud=dev-gcp:locked:api`);
    expect((await page.locator('body').textContent())!.match(/AADSTS501051/g)).toHaveLength(1);
    await expectAccessible(page);
  });

  it('has try again, sign in as someone else and log out on an error page after a login', async () => {
    await page.goto(`${stack.url}/api/obo?aud=dev-gcp:ghost:api`);
    await expectAccessible(page);
    await page.locator('a:has-text("Try again")').click();
    await page.waitForURL(`${stack.url}/api/obo?aud=dev-gcp:ghost:api`);
    await page.locator('a:has-text("Sign in as someone else")').click();
    // prompt=login: the emulator asks again even though it has a sign-in for Kari.
    await signIn(page, 'Z990042');
    await page.waitForURL(`${stack.url}/api/obo?aud=dev-gcp:ghost:api`);
    await page.goto(`${stack.url}/`);
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Logged in as Test Z990042 \(Z990042\)/);
    await page.goto(`${stack.url}/api/obo?aud=dev-gcp:locked:api`);
    await page.locator('a:has-text("Log out")').click();
    // The link shows the page that asks; only its button (a POST with the page's token) ends the session.
    await page.waitForURL(`${stack.url}/oauth2/logout`);
    await expectAccessible(page);
    await page.locator('button:has-text("Log out")').click();
    await page.waitForURL(`${stack.url}/oauth2/logged-out`);
    await expect(page.locator('h1').textContent()).resolves.toBe('You are logged out');
    await expectAccessible(page);
    await page.goto(`${stack.url}/`);
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Not logged in/);
  });

  it('says that a login link opened in another browser cannot be finished there, and starts a new login from it', async () => {
    // A login's return from the identity provider, its address kept as it passes (a link copied, a history entry).
    const starter = await browser.newContext();
    const started = await starter.newPage();
    const returned = started.waitForRequest((request) => new URL(request.url()).pathname === '/oauth2/callback');
    await started.goto(`${stack.url}/oauth2/login?redirect=%2F`);
    await signIn(started);
    const callback = (await returned).url();
    await starter.close();

    const other = await browser.newContext();
    const tab = await other.newPage();
    const res = await tab.goto(callback);
    expect(res?.status()).toBe(400);
    await expect(tab.locator('h1').textContent()).resolves.toBe('This login cannot be finished here');
    await expect(tab.locator('section.error > p').first().textContent()).resolves.toMatch(
      /^This link returns from a login that has expired, was already completed, or was started in another browser/,
    );
    await expectAccessible(tab);
    await tab.locator('a:text-is("Start a new login")').click();
    await signIn(tab);
    await tab.waitForURL(`${stack.url}/`);
    await expect(tab.locator('#who-heading + p').textContent()).resolves.toMatch(/^Logged in as /);
    await other.close();
  });

  it('passes axe on every other error page', async () => {
    // The identity provider's refusal is shown for a login this browser started: one started, and answered with a refusal.
    await page.goto(`${stack.url}/oauth2/login?redirect=%2F`);
    const state = new URL(page.url()).searchParams.get('state');
    expect(state).toBeTruthy();
    for (const [path, status] of [
      ['/nothing-here', 404],
      ['/api/obo?aud=Not%20Valid', 400],
      ['/oauth2/callback?code=x&state=y', 400],
      [`/oauth2/callback?error=access_denied&error_description=AADSTS50105%3A%20not%20assigned&state=${state}`, 403],
      [
        '/oauth2/authorize?response_type=code&client_id=tool&code_challenge_method=S256&code_challenge=x' +
          '&redirect_uri=https://evil.example/',
        400,
      ],
    ] as const) {
      const res = await page.goto(`${stack.url}${path}`);
      expect(res?.status(), path).toBe(status);
      await expect(page.locator('a:has-text("Sign in as someone else")').count()).resolves.toBe(1);
      await expectAccessible(page);
    }
  });

  it('has a favicon', async () => {
    const res = await fetch(`${stack.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(await res.text()).toMatch(/^<svg /);
    await page.goto(`${stack.url}/`);
    await expect(page.locator('link[rel="icon"]').getAttribute('href')).resolves.toBe('/static/favicon.svg');
  });
});

describe('the accessibility check', () => {
  it('finds on a page what @axe-core/playwright finds there', async () => {
    const p = await context.newPage();
    await p.goto(`${stack.url}/`);
    // Two serious violations put into one of our pages: an image without a text, a field without a label.
    await p.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend', '<img src="/x.png"><input type="text">')`);
    const brief = (violations: AxeResults['violations']) =>
      violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
    const ours = brief(await axeViolations(p));
    expect(ours.map((v) => v.id)).toEqual(expect.arrayContaining(['image-alt', 'label']));
    expect(ours).toEqual(brief((await new AxeBuilder({ page: p }).analyze()).violations));
    await p.close();
  });
});

describe('narrow screens and dark mode', () => {
  it('reads at 375 px and in dark mode, with no serious axe violation', async () => {
    let cookies: Cookie[] | undefined;
    for (const options of [{ width: 375 }, { width: 375, dark: true }, { dark: true }]) {
      const other = await newContext(options);
      const p = await other.newPage();
      await p.goto(`${stack.url}/`);
      await expectNoSidewaysScroll(p);
      await expectAccessible(p);
      // One login serves the three: the later ones take its cookies once their home page has been read logged out.
      if (cookies) await other.addCookies(cookies);
      await p.goto(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
      if (!cookies) {
        await signIn(p);
        cookies = await other.cookies();
      }
      await p.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
      await expectNoSidewaysScroll(p);
      await expectAccessible(p);
      await p.goto(`${stack.url}/api/obo?aud=dev-gcp:locked:api`);
      await expectNoSidewaysScroll(p);
      await expectAccessible(p);
      const background = await bodyStyle(p, 'backgroundColor');
      expect(background).toBe(options.dark ? 'rgb(18, 20, 23)' : 'rgb(244, 245, 247)');
      await other.close();
    }
  });
});

describe('the command line\u2019s pages', () => {
  function loginUrlFromCli(timeoutSeconds = 60): Promise<{ url: string; exited: Promise<number | null> }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/token-generator.js', 'obo', AUDIENCE, '--timeout', String(timeoutSeconds)], {
        env: {
          ...process.env,
          TOKEN_GENERATOR_URL: stack.url,
          TOKEN_GENERATOR_CACHE: join(dir, `cache-${randomUUID()}.json`),
          BROWSER: 'none',
        },
      });
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const match = /Log in with your browser: (\S+)/.exec(stderr);
        if (match) resolve({ url: match[1]!, exited });
      });
      child.on('error', reject);
    });
  }

  it('shows the loopback pages in the generator\u2019s style, accessible', async () => {
    const p = await (await newContext()).newPage();
    // Both commands started at once, each on a loopback port and a cache file of its own.
    const [first, second] = await Promise.all([loginUrlFromCli(5), loginUrlFromCli()]);
    // A login answer that is not for the waiting command: it keeps waiting for its own, until its timeout.
    const redirect = new URL(first.url).searchParams.get('redirect_uri')!;
    const refused = await p.goto(`${redirect}?code=x&state=not-the-one`);
    expect(refused?.status()).toBe(400);
    await expect(p.locator('h1').textContent()).resolves.toBe('Login not for this command');
    await expect(bodyStyle(p, 'fontFamily')).resolves.toMatch(/system-ui/);
    await expectAccessible(p);

    // The first command waits out its timeout meanwhile.
    await p.goto(second.url);
    await signIn(p);
    // The generator asks before it lets the command line in; that page is one of ours too.
    await p.locator('button:has-text("Allow")').waitFor();
    await expectAccessible(p);
    await p.locator('button:has-text("Allow")').click();
    await p.waitForURL((url) => url.href.startsWith('http://127.0.0.1:'));
    await expect(p.locator('h1').textContent()).resolves.toBe('Logged in');
    await expect(bodyStyle(p, 'fontFamily')).resolves.toMatch(/system-ui/);
    await expectAccessible(p);
    expect(await second.exited).toBe(0);
    expect(await first.exited).toBe(1);
  });
});

describe('a browser without JavaScript', () => {
  const blocked: string[] = [];
  const contexts: BrowserContext[] = [];

  /** A page of a browser of its own, with JavaScript off; what the Content-Security-Policy blocks is kept in `blocked`. */
  async function noScriptPage(): Promise<Page> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    contexts.push(context);
    const tab = await context.newPage();
    tab.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) blocked.push(message.text());
    });
    return tab;
  }

  afterAll(() => Promise.all(contexts.map((context) => context.close())));

  it("sends the home page's token form to the login and on to the token page", async () => {
    const tab = await noScriptPage();
    await tab.goto(`${stack.url}/`);
    await tab.locator('#aud').fill(AUDIENCE);
    await tab.locator('button:has-text("Token on your behalf")').click();
    // Without a session the answer redirects to the identity provider: the page's form-action must let that through.
    await signIn(tab);
    expect(blocked).toEqual([]);
    await tab.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(tab.locator('h1').textContent()).resolves.toBe('Token on behalf of you');
    const token = (await tab.locator('#access-token').textContent())!;
    expect(decodeJwt(token).aud).toBe(stack.emulator!.clientIdFor(AUDIENCE));
    // Without the script the page cannot see its token expire: the way to a new one is there from the start.
    const renew = tab.locator('#token-renew a:text-is("Get a new one")');
    await expect(renew.isVisible()).resolves.toBe(true);
    await expect(renew.getAttribute('href')).resolves.toBe(`/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
  });

  it("connects a device with the approval page's Allow", async () => {
    const started = await deviceAuthorization(stack.url);
    const tab = await noScriptPage();
    await tab.goto(`${stack.url}/oauth2/device?user_code=${encodeURIComponent(started.user_code)}`);
    await signIn(tab);
    await tab.locator('#typed_code').fill(started.user_code);
    const allow = tab.locator('button:text-is("Allow")');
    await expect(allow.isEnabled()).resolves.toBe(true);
    testClock().advance(1_100); // the employee read the page
    await allow.click({ timeout: 5_000 });
    await tab.waitForLoadState('load');
    await expect(tab.locator('h1').textContent()).resolves.toBe('Device connected');
    expect((await poll(stack.url, started.device_code)).body.access_token).toBeTruthy();
  });

  it("sends the device page's code form to the login once the session has ended, and the refused code's form too", async () => {
    const started = await deviceAuthorization(stack.url);
    const tab = await noScriptPage();
    await tab.goto(`${stack.url}/oauth2/device`);
    await signIn(tab);
    // The page left open while the session ends (here: the browser's cookies gone), then a code typed into its form.
    await tab.context().clearCookies();
    await tab.locator('#user_code').fill('BCDF-GHJK');
    await tab.locator('button:text-is("Continue")').click();
    // The answer redirects to the login at the identity provider: the form's form-action must let it through.
    await signIn(tab);
    expect(blocked).toEqual([]);
    await expect(tab.locator('section > p.error').textContent()).resolves.toMatch(/^That code is not known/);
    await tab.context().clearCookies();
    await tab.locator('#user_code').fill(started.user_code);
    await tab.locator('button:text-is("Continue")').click();
    await signIn(tab);
    expect(blocked).toEqual([]);
    await expect(tab.locator('h1').textContent()).resolves.toMatch(/^Connect a device to get tokens as /);
  });
});

describe('a device approval with the script', () => {
  it('arms Allow only once the page has been visible for a moment', async () => {
    const started = await deviceAuthorization(stack.url);
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${stack.url}/oauth2/device?user_code=${encodeURIComponent(started.user_code)}`);
    await signIn(tab);
    await tab.bringToFront();
    const allow = tab.locator('button:text-is("Allow")');
    await expect(allow.isDisabled()).resolves.toBe(true);
    await expect.poll(() => allow.isEnabled(), { timeout: 10_000 }).toBe(true);
    await context.close();
  });
});

describe('the keyboard', () => {
  it('sends an audience pasted into the home form with Enter at once, before its check has answered', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${stack.url}/`);
    await tab.locator('#aud').focus();
    await tab.keyboard.insertText(AUDIENCE);
    await tab.keyboard.press('Enter');
    await signIn(tab);
    await tab.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(tab.locator('h1').textContent()).resolves.toBe('Token on behalf of you');
    await context.close();
  });
});

describe('audiences typed into the home form', () => {
  it("says that an address is not an app and what a trailing colon is, and reads upper case, in a scope's scheme too", async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${stack.url}/`);
    const verdict = tab.locator('#aud-verdict');
    for (const [typed, said] of [
      ['https://my-app.intern.dev.nav.no', /: it is an address \(https:\/\/…\), not the name of an app\./],
      ['dev-gcp:my-team:my-app:', /: its last ":" has nothing after it \(an empty part\): leave that ":" out\./],
    ] as const) {
      await tab.locator('#aud').fill(typed);
      await expect.poll(() => verdict.textContent(), { timeout: 10_000 }).toMatch(said);
      await expect(tab.locator('button:has-text("Token on your behalf")').isDisabled()).resolves.toBe(true);
    }
    // NAIS names are lower case: upper case typed is read as such, and a URI's scheme is case-insensitive.
    for (const typed of ['Dev-GCP:My-Team:My-App', 'API://Dev-GCP.My-Team.My-App/.default']) {
      // Something refused first, so that each Valid seen is this audience's.
      await tab.locator('#aud').fill('my-app');
      await expect.poll(() => verdict.textContent(), { timeout: 10_000 }).toMatch(/1 part/);
      await tab.locator('#aud').fill(typed);
      await expect
        .poll(() => verdict.textContent(), { timeout: 10_000 })
        .toBe(`Valid: ${AUDIENCE} (scope api://dev-gcp.my-team.my-app/.default)`);
    }
    await context.close();
  });
});

describe('two tabs', () => {
  it('says that a log-out page left open was for another login, and logs out the present one from there', async () => {
    const context = await browser.newContext();
    const [one, two] = [await context.newPage(), await context.newPage()];
    await one.goto(`${stack.url}/oauth2/login?redirect=%2F`);
    await signIn(one);
    await two.goto(`${stack.url}/oauth2/logout`);
    // Meanwhile the first tab logs out and in again.
    await one.goto(`${stack.url}/oauth2/logout`);
    await one.locator('button:text-is("Log out")').click();
    await one.waitForURL(`${stack.url}/oauth2/logged-out`);
    await one.locator('a:has-text("Log in again")').click();
    await signIn(one);
    await two.bringToFront();
    await two.locator('button:text-is("Log out")').click();
    await two.waitForLoadState('load');
    await expect(two.locator('section.error > p').first().textContent()).resolves.toMatch(
      /^This log-out page was opened for another login than the one this browser has now/,
    );
    await two.locator('a:has-text("Log out")').click();
    await two.locator('button:text-is("Log out")').click();
    await two.waitForURL(`${stack.url}/oauth2/logged-out`);
    await two.goto(`${stack.url}/`);
    await expect(two.locator('#who-heading + p').textContent()).resolves.toMatch(/^Not logged in/);
    await context.close();
  });
});

describe('the home page left open', () => {
  it("says, when its tool's End its access is used after a logout in another tab, that the browser is logged out", async () => {
    const context = await browser.newContext();
    const [home, other] = [await context.newPage(), await context.newPage()];
    const started = await deviceAuthorization(stack.url);
    await home.goto(`${stack.url}/oauth2/device?user_code=${encodeURIComponent(started.user_code)}`);
    await signIn(home, 'Z990077'); // an employee of this test alone: the home page lists the tools of the employee
    await home.locator('#typed_code').fill(started.user_code);
    const allow = home.locator('button:text-is("Allow")');
    await expect.poll(() => allow.isEnabled(), { timeout: 10_000 }).toBe(true);
    testClock().advance(1_100);
    await allow.click();
    await home.locator('h1:text-is("Device connected")').waitFor();
    expect((await poll(stack.url, started.device_code)).body.access_token).toBeTruthy();
    await home.goto(`${stack.url}/`);
    const end = home.locator('#tools button:has-text("End its access")');
    await expect(end.count()).resolves.toBe(1);

    await other.goto(`${stack.url}/oauth2/logout`);
    await other.locator('button:text-is("Log out")').click();
    await other.waitForURL(`${stack.url}/oauth2/logged-out`);
    await home.bringToFront();
    await end.click();
    await home.waitForLoadState('load');
    await expect(home.locator('section.error > p').first().textContent()).resolves.toMatch(
      /^You are not logged in in this browser any more \(logged out in another tab, perhaps\)/,
    );
    await context.close();
  });
});

/**
 * Cookie tossing: a page on a sibling domain sets a session cookie of its own for the parent domain,
 * hoping the victim's next request to the generator carries the attacker's login. In Chromium, with
 * host names mapped to loopback: on plain http the two cookies of one name are refused and cleared;
 * on a loopback host the `__Host-` names make the tossed cookie useless.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium(['--host-resolver-rules=MAP *.nav.test 127.0.0.1, MAP *.localhost 127.0.0.1']);
});

afterAll(async () => {
  await browser?.close();
});

/** The attacker's page: sets `cookie` (a whole Set-Cookie value) on whoever visits it. */
async function evilSite(cookies: () => string[]): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    // Only the page sets the cookie: the browser's own later request for a favicon must not set it again
    // after the generator cleared it.
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('set-cookie', cookies());
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>Nothing to see</title><p>Nothing to see here.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/**
 * Logs in through the emulator's page as `navIdent` in `context`, landing on the token page of
 * `wanted`; when the emulator still knows the browser, it signs in again without its page.
 */
async function logIn(context: BrowserContext, wanted: string, navIdent: string, name: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(wanted);
  if (page.url() === wanted) return page;
  await page.locator('#navIdent').fill(navIdent);
  await page.locator('#name').fill(name);
  await page.locator('button:has-text("Sign in")').click();
  await page.waitForURL(wanted);
  return page;
}

async function tokenOwner(page: Page): Promise<unknown> {
  const token = (await page.locator('#access-token').textContent()) ?? '';
  return decodeJwt(token.trim()).NAVident;
}

async function stackAt(host: string): Promise<Stack> {
  const port = await freePort();
  return startStack({ env: { PORT: String(port), PUBLIC_URL: `http://${host}:${port}` } });
}

describe('cookie tossing from a sibling domain', () => {
  it('on plain http: two session cookies are refused and cleared, and the victim logs in again as herself', async () => {
    const stack = await stackAt('tg.nav.test');
    const base = 'http://tg.nav.test:' + new URL(stack.config.publicUrl).port;
    const attackerContext = await browser.newContext();
    const victimContext = await browser.newContext();
    let attackerTicket = '';
    const evil = await evilSite(() => [`tg_session=${attackerTicket}; Domain=nav.test; Path=/api`]);
    try {
      await logIn(attackerContext, `${base}/api/obo?aud=dev-gcp:team:app`, 'Z990099', 'Ola Angriper');
      attackerTicket = (await attackerContext.cookies(base)).find((c) => c.name === 'tg_session')!.value;

      const victim = await logIn(victimContext, `${base}/api/obo?aud=dev-gcp:team:app`, 'Z990001', 'Kari Nordmann');
      expect(await tokenOwner(victim)).toBe('Z990001');

      await victim.goto(`http://evil.nav.test:${evil.port}/`);
      expect((await victimContext.cookies(`${base}/api/obo`)).filter((c) => c.name === 'tg_session')).toHaveLength(2);

      const answer = await victim.goto(`${base}/api/obo?aud=dev-gcp:team:other`);
      expect(answer?.status()).toBe(400);
      expect(await victim.locator('main').textContent()).toMatch(/sent the cookie tg_session more than once/);
      expect((await victimContext.cookies(`${base}/api/obo`)).filter((c) => c.name === 'tg_session')).toHaveLength(0);

      const again = await logIn(victimContext, `${base}/api/obo?aud=dev-gcp:team:other`, 'Z990001', 'Kari Nordmann');
      expect(await tokenOwner(again)).toBe('Z990001');
    } finally {
      evil.server.close();
      await attackerContext.close();
      await victimContext.close();
      await stack.close();
    }
  }, 120_000);

  it('on a loopback host: the cookies are __Host- ones, which no sibling can set, and a tossed plain one is ignored', async () => {
    const stack = await stackAt('tg.localhost');
    const base = 'http://tg.localhost:' + new URL(stack.config.publicUrl).port;
    const attackerContext = await browser.newContext();
    const victimContext = await browser.newContext();
    let attackerTicket = '';
    const evil = await evilSite(() => [
      `tg_session=${attackerTicket}; Domain=localhost; Path=/`,
      `__Host-tg_session=${attackerTicket}; Domain=localhost; Path=/; Secure`,
      `__Host-tg_session=${attackerTicket}; Path=/api; Secure`,
    ]);
    try {
      await logIn(attackerContext, `${base}/api/obo?aud=dev-gcp:team:app`, 'Z990099', 'Ola Angriper');
      const set = (await attackerContext.cookies(base)).find((c) => c.name === '__Host-tg_session')!;
      expect(set.secure).toBe(true);
      expect(set.path).toBe('/');
      attackerTicket = set.value;

      // The victim, not logged in yet, visits the attacker's page on a sibling host, then the generator.
      const victim = await victimContext.newPage();
      await victim.goto(`http://evil.tg.localhost:${evil.port}/`);
      expect((await victimContext.cookies(`${base}/api/obo`)).filter((c) => c.name === '__Host-tg_session')).toHaveLength(0);
      await victim.goto(`${base}/api/obo?aud=dev-gcp:team:app`);
      // Sent to log in, not handed the attacker's token.
      expect(new URL(victim.url()).port).toBe(new URL(stack.emulator!.baseUrl).port);
      const own = await logIn(victimContext, `${base}/api/obo?aud=dev-gcp:team:app`, 'Z990001', 'Kari Nordmann');
      expect(await tokenOwner(own)).toBe('Z990001');
    } finally {
      evil.server.close();
      await attackerContext.close();
      await victimContext.close();
      await stack.close();
    }
  }, 120_000);
});

/**
 * The emulator's state-changing routes against other web sites: a page of another origin that
 * posts to key rotation (a simple cross-site request, no CORS needed) changes nothing, in Chromium
 * and by hand; programs still rotate; and rotations in a row keep the JWKS to the newest few keys.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { launchChromium } from '../helpers/browser.js';

let emulator: Emulator;
let browser: Browser;

beforeAll(async () => {
  emulator = await startEmulator();
  await emulator.ready();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});

const kids = async () =>
  ((await (await fetch(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`)).json()) as { keys: { kid: string }[] }).keys.map(
    (key) => key.kid,
  );
const rotate = (headers: Record<string, string> = {}, body?: string) =>
  fetch(`${emulator.baseUrl}/signing-keys/rotate`, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });

describe('key rotation from another site', () => {
  it('is refused when a page of another origin posts its form in Chromium', async () => {
    const before = await kids();
    let posted = false;
    const site = createServer((req, res) => {
      posted = true;
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<form id="f" method="post" action="${emulator.baseUrl}/signing-keys/rotate"></form>` +
            `<script>document.getElementById('f').submit()</script>`,
        );
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      const page = await browser.newPage();
      const answered = page.waitForResponse((response) => response.url().endsWith('/signing-keys/rotate'));
      await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      expect((await answered).status()).toBe(403);
      expect(posted).toBe(true);
      await page.close();
    } finally {
      site.close();
    }
    expect(await kids()).toEqual(before);
  });

  it('is refused for another Origin, a cross-site fetch and a form body, and taken from a program', async () => {
    const before = await kids();
    expect((await rotate({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await rotate({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await rotate({ 'content-type': 'text/plain' }, 'x')).status).toBe(403);
    expect((await rotate({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b')).status).toBe(403);
    expect(await kids()).toEqual(before);
    expect((await rotate({ origin: new URL(emulator.baseUrl).origin })).status).toBe(200);
    expect((await rotate()).status).toBe(200);
  });

  it('keeps the JWKS to the newest few keys, however often it rotates', async () => {
    const rotated: string[] = [];
    for (let i = 0; i < 5; i++) rotated.push(((await (await rotate()).json()) as { kid: string }).kid);
    const published = await kids();
    expect(published.length).toBeLessThanOrEqual(3);
    expect(published).toContain(rotated.at(-1));
    expect(published).toContain(rotated.at(-2));
  }, 60_000);
});

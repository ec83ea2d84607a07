/**
 * A client other people wrote: Debian's python3-authlib, run as a tool's own Python process
 * (test/e2e/clients/authlib-tool.py) against the generator and the emulator, with Chromium as the
 * employee's browser and the device approved on the generator's page. CI installs python3-authlib
 * (.ci/run); without it this test fails, it does not skip.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { approveDevice } from '../helpers/authorization-server.js';
import { installClock } from '../helpers/clock.js';
import { login } from '../helpers/http-login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Before the service starts: the device flow's poll interval passes by the clock, not by waiting.
const clock = installClock();
let stack: Stack;

const TARGET = 'dev-gcp:my-team:my-app';
const SCOPE = 'api://dev-gcp.my-team.my-app/.default';

interface Raw {
  status: number;
  type: string | null;
  body: { error?: string; error_description?: string } | string;
}

interface AuthlibRun {
  metadata: Record<string, unknown>;
  code: {
    access_token: string;
    token_type: string;
    refreshed: string;
    rotated: boolean;
    old_again: string | null;
    new_after: string | null;
  };
  basic: { access_token: string; refreshed: string; revoke_status: number; after_revoke: string | null; revoke_access_token: Raw };
  device: { pending: string | null; access_token: string; refresh_token: boolean };
  denied: { token?: string; error?: string; description?: string };
  client_credentials: string;
  json_body: Raw;
}

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** The employee in Chromium: logs in on the emulator when asked, then answers the tool. */
async function answerInBrowser(page: Page, url: string, decision: string) {
  await page.goto(url);
  if (page.url().startsWith(stack.emulator!.baseUrl)) await page.locator('button:has-text("Sign in")').click();
  await page.locator(`button:has-text("${decision}")`).click();
  await page.locator('text=back in the tool').waitFor();
}

/** Runs the tool, doing its browser steps and approving its device, and returns what it printed last. */
async function runTool(): Promise<AuthlibRun> {
  const tool = spawn('/usr/bin/python3', ['test/e2e/clients/authlib-tool.py'], {
    env: { ...process.env, GENERATOR_URL: stack.url, SCOPE, TARGET },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  tool.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The employee's browser, for this one run of the tool.
  const browser = await launchChromium();
  const page = await browser.newPage();
  const cookie = await login(stack.url);
  try {
    for await (const line of createInterface({ input: tool.stdout })) {
      const event = JSON.parse(line) as { open?: string; decision?: string; device?: string; result?: AuthlibRun };
      if (event.result) return event.result;
      if (event.open) await answerInBrowser(page, event.open, event.decision ?? 'Allow');
      if (event.device) {
        expect((await approveDevice(cookie, stack.url, event.device)).status).toBe(200);
        clock.advance(stack.config.devicePollIntervalSeconds * 1000);
      }
      tool.stdin.write('done\n');
    }
    throw new Error(`the tool ended without a result: ${stderr}`);
  } finally {
    tool.kill();
    await browser.close();
  }
}

async function verifyEmployeeToken(token: string) {
  const keys = createRemoteJWKSet(new URL(`${stack.emulator!.baseUrl}/${stack.emulator!.tenantId}/discovery/v2.0/keys`));
  const { payload } = await jwtVerify(token, keys, { issuer: stack.emulator!.issuer, audience: stack.emulator!.clientIdFor(TARGET) });
  expect(payload.idtyp).toBeUndefined();
  expect(payload.NAVident).toBe('Z990001');
}

describe('python3-authlib as a tool', () => {
  let run: AuthlibRun;

  beforeAll(async () => {
    run = await runTool();
    // A step that failed in the tool says how, rather than as a missing field.
    for (const [step, answer] of Object.entries(run)) expect(answer, step).not.toHaveProperty('failed');
  }, 60_000);

  it('redeems a code with PKCE S256 from its loopback listener, as a public client and with an empty secret as HTTP Basic', async () => {
    expect(run.code.token_type.toLowerCase()).toBe('bearer');
    await verifyEmployeeToken(run.code.access_token);
    await verifyEmployeeToken(run.basic.access_token);
  });

  it('refreshes with rotation: the old refresh token is refused, and its use ends the session', async () => {
    await verifyEmployeeToken(run.code.refreshed);
    expect(run.code.rotated).toBe(true);
    expect(run.code.old_again).toBe('invalid_grant');
    expect(run.code.new_after).toBe('invalid_grant');
  });

  it('revokes its refresh token (RFC 7009), which then refreshes nothing; an access token is unsupported_token_type', async () => {
    await verifyEmployeeToken(run.basic.refreshed);
    expect(run.basic.revoke_status).toBe(200);
    expect(run.basic.after_revoke).toBe('invalid_grant');
    expect(run.basic.revoke_access_token.status).toBe(400);
    expect(run.basic.revoke_access_token.body).toMatchObject({ error: 'unsupported_token_type' });
  });

  it('gets a token by the device flow, started and polled with its client_id in HTTP Basic', async () => {
    expect(run.device.pending).toBe('authorization_pending');
    await verifyEmployeeToken(run.device.access_token);
    expect(run.device.refresh_token).toBe(true);
  });

  it('hears an error, and gets no token, when the employee denies: Authlib sends the redirect without a code on as a token request', () => {
    expect(run.denied.token).toBeUndefined();
    expect(run.denied).toMatchObject({
      error: 'invalid_request',
      description: expect.stringMatching(/^client_credentials takes no code_verifier/),
    });
  });

  it('gets an app token by client credentials with a secret it insists on sending', async () => {
    const keys = createRemoteJWKSet(new URL(`${stack.emulator!.baseUrl}/${stack.emulator!.tenantId}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(run.client_credentials, keys, { audience: stack.emulator!.clientIdFor(TARGET) });
    expect(payload.idtyp).toBe('app');
  });

  it('refuses a token request sent as JSON with a 400 that says to send a form', () => {
    expect(run.json_body.status).toBe(400);
    expect(run.json_body.type).toMatch(/^application\/json/);
    expect(run.json_body.body).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringMatching(/x-www-form-urlencoded/),
    });
  });
});

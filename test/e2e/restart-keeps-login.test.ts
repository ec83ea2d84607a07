/**
 * `npm start` again keeps the employee logged in, in the browser and in the command line: outside NAIS
 * the session key and the in-memory sessions are kept in the state folder, readable by the user alone. So does
 * closing the terminal it ran in (SIGHUP), a stop as Ctrl-C is.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import { startStack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';
import { login } from '../helpers/http-login.js';
import { inTerminal } from '../helpers/terminal.js';
import { waitFor } from '../helpers/wait-for.js';

// Before the service starts: the hour after the restart passes by the clock, not by waiting.
const clock = installClock();

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-login-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The command line's `obo`, answering its login in `page` when it asks for one. */
function obo(
  url: string,
  page: Page,
  audience: string,
  ...options: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/token-generator.js', 'obo', audience, '--url', url, ...options], {
    env: { ...process.env, TOKEN_GENERATOR_CACHE: join(dir, 'tokens.json'), BROWSER: 'none' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const match = /Log in with your browser: (\S+)/.exec(stderr);
    if (match && !child.killed && stderr.indexOf(match[0]) === stderr.lastIndexOf(match[0]))
      void page.goto(match[1]!).then(() => page.locator('button:has-text("Allow")').click());
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const authenticated = async (page: Page, url: string) => {
  await page.goto(`${url}/oauth2/session`);
  return (JSON.parse((await page.locator('body').textContent()) ?? '{}') as { authenticated?: boolean }).authenticated;
};

describe('npm start again', () => {
  it('keeps the browser and the command line logged in, with the key and sessions readable by the user alone', async () => {
    const state = join(dir, 'state');
    const env = { PORT: String(await freePort()), EMULATOR_PORT: String(await freePort()), HOST: '127.0.0.1', EMULATOR_STATE_DIR: state };
    const page = await (await browser.newContext()).newPage();

    const first = await startStack({ env });
    try {
      await page.goto(`${first.url}/oauth2/login?redirect=%2Foauth2%2Fsession`);
      await page.locator('button:has-text("Sign in")').click();
      expect(await authenticated(page, first.url)).toBe(true);
      const login = await obo(first.url, page, 'dev-gcp:my-team:my-app');
      expect(login.code).toBe(0);
      expect(login.stderr).toMatch(/Log in with your browser/);
    } finally {
      await first.close();
    }
    expect((await stat(join(state, 'session-key.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(state, 'sessions.sealed'))).mode & 0o777).toBe(0o600);

    const second = await startStack({ env });
    try {
      // The employee tokens of before the restart have run out: each login is renewed with the emulator's refresh token of then.
      clock.advance(61 * 60_000);
      expect(await authenticated(page, second.url)).toBe(true);
      const tokenPage = await page.goto(`${second.url}/api/obo?aud=dev-gcp:my-team:other-app`);
      expect(tokenPage?.status()).toBe(200);
      // A token not from its cache: renewed with the refresh token of before the restart, for the target allowed then, no login.
      const renewed = await obo(second.url, page, 'dev-gcp:my-team:my-app', '--no-cache');
      expect(renewed.code).toBe(0);
      expect(renewed.stderr).not.toMatch(/Log in/);
    } finally {
      await second.close();
    }
  }, 120_000);
});

const NPM_START = [process.execPath, '--import', 'tsx', 'src/main.ts'];

/** Waits until the `npm start` on `env` is ready: its URL. */
async function ready(env: Record<string, string>): Promise<string> {
  const url = `http://localhost:${env.PORT}`;
  const isReady = () =>
    fetch(`${url}/internal/isready`).then(
      (r) => r.status === 200,
      () => false,
    );
  await waitFor(isReady, { what: 'npm start to be ready', timeout: 30_000 });
  return url;
}

/** `npm start` as a process of its own (src/main.ts), on the state folder, once it is ready. */
async function npmStart(env: Record<string, string>) {
  const [node, ...args] = NPM_START;
  const child = spawn(node!, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { url: await ready(env), child, exited };
}

/** The variables of an `npm start` on a state folder of its own, `name`. */
async function ownStart(name: string): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    EMULATOR_PORT: String(await freePort()),
    HOST: '127.0.0.1',
    EMULATOR_STATE_DIR: join(dir, name),
    LOG_LEVEL: 'warn',
  };
}

/** Logs in to an `npm start` on `env`, then stops it with `signal`; the login's cookie. */
async function loggedInThenStopped(env: Record<string, string>, signal: NodeJS.Signals): Promise<string> {
  const first = await npmStart(env);
  let cookie: string;
  try {
    cookie = await login(first.url);
  } finally {
    first.child.kill(signal);
  }
  expect(await first.exited).toBe(0);
  return cookie;
}

/** Whether an `npm start` on `env` knows the login of `cookie` as soon as it is ready. */
async function loggedInAfterStart(env: Record<string, string>, cookie: string): Promise<boolean> {
  const next = await npmStart(env);
  try {
    const session = await fetch(`${next.url}/oauth2/session`, { headers: { cookie } });
    return ((await session.json()) as { authenticated: boolean }).authenticated;
  } finally {
    next.child.kill('SIGTERM');
    await next.exited;
  }
}

describe('the terminal npm start ran in, closed', () => {
  it('stops it as Ctrl-C does, though writing to the terminal fails then: the login is kept for the next start', async () => {
    const env = await ownStart('hangup');
    // Logging as it does by default, each line to the terminal: gone once it closed.
    const terminal = inTerminal(NPM_START, { ...process.env, ...env, LOG_LEVEL: 'info' });
    let cookie: string;
    try {
      cookie = await login(await ready(env));
    } finally {
      await terminal.close();
    }
    expect(await loggedInAfterStart(env, cookie)).toBe(true);
  }, 90_000);
});

describe('npm start that cannot open its port', () => {
  it('puts the logins it read back in the state folder, for the start after it', async () => {
    const env = await ownStart('port-taken');
    const cookie = await loggedInThenStopped(env, 'SIGINT');
    // Something else holds the port: this start reads the logins, then cannot listen, and ends.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(Number(env.PORT), '127.0.0.1', () => resolve()));
    try {
      const [node, ...args] = NPM_START;
      const refused = spawn(node!, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
      expect(await new Promise((resolve) => refused.once('exit', resolve))).toBe(1);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(await loggedInAfterStart(env, cookie)).toBe(true);
  }, 90_000);
});

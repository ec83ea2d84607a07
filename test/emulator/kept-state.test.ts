/**
 * What a developer who restarts the emulator often expects still to work, over real HTTP: refresh tokens written as they
 * are handed out (a process killed with SIGKILL loses none but the last moment's, and leaves a whole file), kept with
 * their tenant, merged with another emulator's on the same state folder, and the browser's sign-in sessions and the
 * device codes being polled kept too.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { enterDeviceCode } from './clients/shared.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { freePort } from '../helpers/ports.js';
import { inTerminal } from '../helpers/terminal.js';
import { waitFor } from '../helpers/wait-for.js';
import { authorizeUrl, expectEntraError, login, tokenRequest, type Result } from './helpers.js';

const SCOPE = 'api://dev-gcp.team-a.my-api/.default';
const WEB = { target: 'dev-gcp:team-a:web', secrets: ['web-secret'], redirectUris: ['http://localhost:3000/callback'] };
const REDIRECT = WEB.redirectUris[0]!;
const CLI = { target: 'dev-gcp:team-a:cli', nativeRedirectUris: ['http://localhost/'] };
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const stateFolder = async () => join(await mkdtemp(join(tmpdir(), 'emulator-kept-')), 'state');

afterEach(() => {
  vi.restoreAllMocks();
});

const DEVICE_EMPLOYEE = { navIdent: 'Z990203', name: 'Enhet Ansatt', email: 'enhet.ansatt@trygdeetaten.no', groups: '' };

/** An emulator on a state folder of its own, with a device login its command-line app has begun. */
async function deviceLoginBegun() {
  const stateDir = await stateFolder();
  const port = await freePort();
  const first = await startEmulator({ stateDir, port });
  const cli = first.registerClient(CLI);
  const res = await fetch(`${first.baseUrl}/${first.tenantId}/oauth2/v2.0/devicecode`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: cli, scope: `openid offline_access ${SCOPE}` }),
  });
  const device = (await res.json()) as { device_code: string; user_code: string; verification_uri: string };
  return { stateDir, port, first, cli, device };
}

/** What the tests use of an emulator: its addresses, which one in another process has too. */
type Running = Pick<Emulator, 'baseUrl' | 'tenantId' | 'tokenEndpoint'>;

/** A refresh token of an employee's sign-in to WEB (registered as `clientId`) for `scope`, as an app's server-side login gets one. */
async function refreshTokenFrom(emulator: Running, clientId: string, scope = SCOPE): Promise<string> {
  const signedIn = await login(emulator as Emulator, { clientId, redirectUri: REDIRECT, scope: `openid offline_access ${scope}` });
  const redeemed = await tokenRequest(emulator as Emulator, {
    client_id: clientId,
    client_secret: 'web-secret',
    grant_type: 'authorization_code',
    code: signedIn.code,
    code_verifier: signedIn.verifier,
    redirect_uri: REDIRECT,
  });
  expect(redeemed.status).toBe(200);
  return String(redeemed.body.refresh_token);
}

const renew = (emulator: Running, clientId: string, refreshToken: string): Promise<Result> =>
  tokenRequest(emulator as Emulator, {
    client_id: clientId,
    client_secret: 'web-secret',
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
  });

/** Renews `refreshToken` on a new start of the emulator on the state folder: the answer's status. */
async function renewedAfterRestart(stateDir: string, refreshToken: string, options: { tenantId?: string } = {}): Promise<Result> {
  const restarted = await startEmulator({ stateDir, ...options });
  try {
    return await renew(restarted, restarted.registerClient(WEB), refreshToken);
  } finally {
    await restarted.close();
  }
}

/** The emulator as a process of its own, as `npm start` runs it. */
async function emulatorProcess(stateDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/emulator/servers/emulator-with-state.ts'], {
    env: { ...process.env, STATE_DIR: stateDir, CLIENT: JSON.stringify(WEB) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // The first line, once it is whole.
  const firstLine = () => (output.includes('\n') ? output.slice(0, output.indexOf('\n')) : undefined);
  const line = await waitFor(firstLine, { what: 'the emulator process to start', timeout: 30_000 });
  return { child, exited, ...(JSON.parse(line) as Running & { clientId: string }) };
}

/**
 * `entra-emulator` itself (its bin, as `npx entra-emulator` runs it) on the state folder, with WEB in a directory file
 * beside it, its output piped or in a terminal of its own: its addresses and WEB's client id, once it listens.
 */
async function emulatorCommand(stateDir: string, where: 'piped' | 'in a terminal' = 'piped', logLevel = 'info') {
  const directory = join(dirname(stateDir), 'emulator.yaml');
  const { redirectUris, ...web } = WEB;
  await writeFile(directory, JSON.stringify({ clients: [{ ...web, replyUrls: redirectUris }] }));
  const command = ['packages/entra-emulator/bin/entra-emulator.cjs', '--state-dir', stateDir, '--directory', directory, '--port', '0'];
  let output: () => string;
  let stop: () => Promise<unknown>;
  if (where === 'in a terminal') {
    // Logging as it does by default: each line written to the terminal, which is gone after it closed.
    const terminal = inTerminal([process.execPath, ...command], { ...process.env, LOG_LEVEL: logLevel });
    ({ output } = terminal);
    stop = terminal.close;
  } else {
    const child = spawn(process.execPath, command, { env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    output = () => text;
    stop = () => (child.kill('SIGTERM'), exited);
  }
  const [, baseUrl, tenantId, tokenEndpoint] = await waitFor(
    () => /Entra ID emulator: (\S+).*\n\s+tenant:\s+(\S+)\n[^]*\n\s+token:\s+(\S+)\n/.exec(output()),
    { what: 'the emulator command to start', timeout: 30_000 },
  );
  const running: Running = { baseUrl: baseUrl!, tenantId: tenantId!, tokenEndpoint: tokenEndpoint! };
  const env = (await (await fetch(`${baseUrl}/apps/${WEB.target}/env`)).json()) as { AZURE_APP_CLIENT_ID: string };
  return { running, clientId: env.AZURE_APP_CLIENT_ID, stop };
}

/** The keys the state folder's refresh token file holds, read as another process would while it is written. */
async function keptRefreshTokens(stateDir: string): Promise<string[]> {
  const text = await readFile(join(stateDir, 'refresh-tokens.json'), 'utf8').catch(() => '[]');
  return (JSON.parse(text) as { key: string }[]).map((entry) => entry.key);
}

/** A silent sign-in (prompt=none) to WEB with the browser's cookie: the redirect back to the app. */
async function silentSignIn(emulator: Running, clientId: string, cookie: string): Promise<URL> {
  const url = authorizeUrl(emulator as Emulator, {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid',
    prompt: 'none',
    state: 'state-1',
  });
  const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

describe('the kept state', () => {
  it('keeps a refresh token handed out shortly before the process was killed with SIGKILL, in a whole file', async () => {
    const stateDir = await stateFolder();
    const running = await emulatorProcess(stateDir);
    let refreshToken: string;
    let renewing = true;
    let renewals: Promise<void> = Promise.resolve();
    try {
      refreshToken = await refreshTokenFrom(running, running.clientId);
      // Renewals go on until the kill, each handing out a new refresh token, so that a write may be under way when it comes.
      renewals = (async () => {
        while (renewing) await renew(running, running.clientId, refreshToken).catch(() => undefined);
      })();
      await waitFor(async () => (await keptRefreshTokens(stateDir)).includes(refreshToken), {
        what: 'the refresh token in the state folder while the emulator runs',
      });
    } finally {
      running.child.kill('SIGKILL');
      expect(await running.exited).toBe('SIGKILL');
      renewing = false;
      await renewals;
    }
    // Whole: the file parses, and holds what was handed out.
    expect((await keptRefreshTokens(stateDir)).length).toBeGreaterThan(1);
    const renewed = await renewedAfterRestart(stateDir, refreshToken);
    expect(renewed.status).toBe(200);
  });

  it('ends when the terminal it ran in was closed while it answered a request, whose line it then failed to write', async () => {
    const stateDir = await stateFolder();
    // At debug every request is a line: this one's is written after the terminal closed.
    const first = await emulatorCommand(stateDir, 'in a terminal', 'debug');
    const { hostname, port } = new URL(first.running.baseUrl);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    const body = 'grant_type=client_credentials';
    socket.write(
      `POST /${first.running.tenantId}/oauth2/v2.0/token HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\ngrant`,
    );
    const answered = once(socket, 'data');
    const closed = first.stop();
    socket.end(body.slice('grant'.length));
    await answered;
    await closed;
  }, 60_000);

  it('keeps a refresh token handed out right before the terminal it ran in was closed (SIGHUP, writes to it failing)', async () => {
    const stateDir = await stateFolder();
    const first = await emulatorCommand(stateDir, 'in a terminal');
    let renewed: Result;
    try {
      // For WEB's own API: the directory file has no other app.
      const refreshToken = await refreshTokenFrom(first.running, first.clientId, `api://${WEB.target.replaceAll(':', '.')}/.default`);
      // Within the second before the kept state is written: the new refresh token is in the folder only if the close writes it.
      renewed = await renew(first.running, first.clientId, refreshToken);
    } finally {
      await first.stop();
    }
    expect(renewed.status).toBe(200);

    const again = await emulatorCommand(stateDir);
    try {
      expect((await renew(again.running, again.clientId, String(renewed.body.refresh_token))).status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('refuses a refresh token of another tenant kept in the same folder, as Entra does, and keeps it for its own', async () => {
    const stateDir = await stateFolder();
    const first = await startEmulator({ stateDir, tenantId: 'tenant-a' });
    const refreshToken = await refreshTokenFrom(first, first.registerClient(WEB));
    await first.close();

    const other = await renewedAfterRestart(stateDir, refreshToken, { tenantId: 'tenant-b' });
    expectEntraError(other, 7000012, 'invalid_grant');
    expect(String(other.body.error_description)).toContain('The grant was obtained for a different tenant.');
    expect((await renewedAfterRestart(stateDir, refreshToken, { tenantId: 'tenant-a' })).status).toBe(200);
  });

  it('keeps the refresh tokens of a file written before they carried their tenant, for the tenant that wrote them', async () => {
    const stateDir = await stateFolder();
    const first = await startEmulator({ stateDir, tenantId: 'tenant-a' });
    const refreshToken = await refreshTokenFrom(first, first.registerClient(WEB));
    await first.close();
    // As the version before wrote it: the same entries, without the tenant.
    const file = join(stateDir, 'refresh-tokens.json');
    const entries = JSON.parse(await readFile(file, 'utf8')) as { value: Record<string, unknown> }[];
    for (const entry of entries) delete entry.value.tenantId;
    await writeFile(file, JSON.stringify(entries));

    // An emulator of another tenant on the folder reads them first, and writes the file with a token of its own.
    const other = await startEmulator({ stateDir, tenantId: 'tenant-b' });
    await refreshTokenFrom(other, other.registerClient(WEB));
    expectEntraError(await renew(other, other.registerClient(WEB), refreshToken), 7000012, 'invalid_grant');
    await other.close();
    expect((await renewedAfterRestart(stateDir, refreshToken, { tenantId: 'tenant-a' })).status).toBe(200);
  });

  it("keeps both emulators' refresh tokens when two on one folder close at the same moment", async () => {
    const stateDir = await stateFolder();
    // The first writes the tenant; the others read it.
    const emulators = [await startEmulator({ stateDir })];
    emulators.push(...(await Promise.all([1, 2, 3].map(() => startEmulator({ stateDir })))));
    const tokens = await Promise.all(emulators.map((emulator) => refreshTokenFrom(emulator, emulator.registerClient(WEB))));
    await Promise.all(emulators.map((emulator) => emulator.close()));

    const restarted = await startEmulator({ stateDir });
    try {
      const clientId = restarted.registerClient(WEB);
      const statuses = await Promise.all(tokens.map(async (token) => (await renew(restarted, clientId, token)).status));
      expect(statuses).toEqual([200, 200, 200, 200]);
    } finally {
      await restarted.close();
    }
  });

  it("writes over the file with what another emulator wrote to it since this one's last write", async () => {
    const stateDir = await stateFolder();
    const [a, b] = [await startEmulator({ stateDir }), await startEmulator({ stateDir })];
    const keptTokens = async () =>
      (JSON.parse(await readFile(join(stateDir, 'refresh-tokens.json'), 'utf8').catch(() => '[]')) as unknown[]).length;
    try {
      // Each writes in turn, the first twice: its second write must start from the second's, not from its own first.
      for (const [emulator, count] of [
        [a, 1],
        [b, 2],
        [a, 3],
      ] as const) {
        await refreshTokenFrom(emulator, emulator.registerClient(WEB));
        await waitFor(async () => (await keptTokens()) === count, { what: `${count} refresh tokens in the file` });
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps the browser signed in across a restart, and a sign-out stays signed out', async () => {
    const stateDir = await stateFolder();
    const first = await startEmulator({ stateDir });
    const clientId = first.registerClient(WEB);
    const signedIn = await login(first, { clientId, redirectUri: REDIRECT, scope: 'openid' });
    const signedOut = await login(first, { clientId, redirectUri: REDIRECT, scope: 'openid' });
    const logout = await fetch(`${first.baseUrl}/${first.tenantId}/oauth2/v2.0/logout`, {
      redirect: 'manual',
      headers: { cookie: signedOut.cookie },
    });
    expect(logout.status).toBeLessThan(400);
    await first.close();

    const second = await startEmulator({ stateDir });
    try {
      second.registerClient(WEB);
      const silent = await silentSignIn(second, clientId, signedIn.cookie);
      expect(silent.searchParams.get('error')).toBeNull();
      expect(silent.searchParams.get('code')).toBeTruthy();
      expect((await silentSignIn(second, clientId, signedOut.cookie)).searchParams.get('error')).toBe('login_required');
    } finally {
      await second.close();
    }
  });

  it('takes the sign-in form of a page shown before a restart', async () => {
    const stateDir = await stateFolder();
    const port = await freePort();
    const first = await startEmulator({ stateDir, port });
    const clientId = first.registerClient(WEB);
    const url = authorizeUrl(first, { client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: 's' });
    const page = await fetch(url, { redirect: 'manual' });
    const html = await page.text();
    await first.close();

    const second = await startEmulator({ stateDir, port });
    try {
      second.registerClient(WEB);
      // The employee answers the page the emulator showed before it restarted.
      const action = /<form method="post" action="([^"]+)">/.exec(html)![1]!.replace(/&amp;/g, '&');
      const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m): [string, string] => [
        m[1]!,
        m[2]!,
      ]);
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0]!)
        .join('; ');
      const signedIn = await fetch(new URL(action, url), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie },
        body: new URLSearchParams([...hidden, ...Object.entries(DEVICE_EMPLOYEE)]),
      });
      expect(signedIn.status).toBe(302);
      expect(new URL(signedIn.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    } finally {
      await second.close();
    }
  });

  it('goes on with a device login begun before a restart', async () => {
    const { stateDir, port, first, cli, device } = await deviceLoginBegun();
    await first.close();

    const second = await startEmulator({ stateDir, port });
    try {
      second.registerClient(CLI);
      const poll = () => tokenRequest(second, { grant_type: DEVICE_CODE_GRANT, client_id: cli, device_code: device.device_code });
      expect((await poll()).body.error).toBe('authorization_pending');
      expect(await enterDeviceCode(device.verification_uri, device.user_code, DEVICE_EMPLOYEE)).toContain('You have signed in');
      // The device polls again after its interval.
      const now = Date.now();
      vi.spyOn(Date, 'now').mockImplementation(() => now + 6_000);
      const tokens = await poll();
      expect(tokens.status).toBe(200);
      expect(tokens.body.refresh_token).toBeTruthy();
    } finally {
      await second.close();
    }
  });

  it('keeps a device code redeemed before a restart redeemed after it', async () => {
    const { stateDir, port, first, cli, device } = await deviceLoginBegun();
    expect(await enterDeviceCode(device.verification_uri, device.user_code, DEVICE_EMPLOYEE)).toContain('You have signed in');
    // Redeemed while it runs, after the approval was written: the redemption is a change the file must take too.
    await waitFor(async () => (await readFile(join(stateDir, 'device-codes.json'), 'utf8').catch(() => '')).includes('"approved"'), {
      what: 'the approval written',
    });
    const now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now + 6_000);
    const poll = (e: Running) =>
      tokenRequest(e as Emulator, { grant_type: DEVICE_CODE_GRANT, client_id: cli, device_code: device.device_code });
    expect((await poll(first)).status).toBe(200);
    await first.close();
    const second = await startEmulator({ stateDir, port });
    try {
      second.registerClient(CLI);
      vi.spyOn(Date, 'now').mockImplementation(() => now + 12_000);
      const again = await poll(second);
      expect(again.body.error).toBe('invalid_grant');
    } finally {
      await second.close();
    }
  });
});

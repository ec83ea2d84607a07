import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { login } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Each case runs the command a few times, each a fresh Node.js with tsx: slow on a loaded machine.
vi.setConfig({ testTimeout: 60_000 });

let stack: Stack;
let dir: string;
let cacheFile: string;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack({ emulator: { unauthorizedTargets: ['dev-gcp:locked:api'] } });
  dir = await mkdtemp(join(tmpdir(), 'cli-test-'));
  cacheFile = join(dir, 'cache', 'tokens.json');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { env?: Record<string, string>; stdin?: string; onStderr?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/token-generator.js', ...args], {
      env: { ...process.env, TOKEN_GENERATOR_URL: stack.url, TOKEN_GENERATOR_CACHE: cacheFile, BROWSER: 'none', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr);
    });
    child.stdin.end(options.stdin ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const keys = () => createRemoteJWKSet(new URL(`${stack.emulator!.baseUrl}/${stack.emulator!.tenantId}/discovery/v2.0/keys`));

describe('token-generator m2m', () => {
  it('prints an app token and a newline, nothing else, then serves it from the cache', async () => {
    const first = await cli(['m2m', 'dev-gcp:my-team:my-app']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(first.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
    expect(payload.idtyp).toBe('app');

    const before = stack.emulator!.stats.tokenRequests;
    const again = await cli(['m2m', 'dev-gcp:my-team:my-app', '--url', stack.url]);
    expect(again.stdout).toBe(first.stdout);
    const fresh = await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache']);
    expect(fresh.code).toBe(0);
    expect(stack.emulator!.stats.tokenRequests - before).toBe(1);
  });

  it('keeps its cache readable by the user alone, and never prints an expired token from it', async () => {
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as { generators: Record<string, { tokens: Record<string, { accessToken: string; expiresAt: number }> }> };
    cached.generators[stack.url]!.tokens['m2m dev-gcp:my-team:stale'] = { accessToken: 'STALE.TOKEN.VALUE', expiresAt: Date.now() + 60_000 };
    await writeFile(cacheFile, JSON.stringify(cached));
    const run = await cli(['m2m', 'dev-gcp:my-team:stale']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('STALE');
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
  });

  it('fails with the service\u2019s advice and the access policy to add', async () => {
    const run = await cli(['m2m', 'dev-gcp:locked:api']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toMatch(/^token-generator: dev-gcp:locked:api has not authorized this token generator/);
    expect(run.stderr).toContain('        - application: azure-token-generator');
  });

  it('fails with one line for a bad audience, a missing one, and an unreachable generator', async () => {
    const bad = await cli(['m2m', 'Dev GCP']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/Invalid audience/);
    const missing = await cli(['m2m']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs an audience/);
    const down = await cli(['m2m', 'dev-gcp:a:b', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^token-generator: cannot reach the generator at http:\/\/127\.0\.0\.1:9/);
  });

  it('has --help for each command, and help <command>', async () => {
    for (const command of ['m2m', 'obo', 'env', 'exec', 'decode', 'logout']) {
      const run = await cli([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: token-generator ${command}`);
      const help = await cli(['help', command]);
      expect(help.code).toBe(0);
      expect(help.stdout).toBe(run.stdout);
    }
    const general = await cli(['help']);
    expect(general.code).toBe(0);
    expect(general.stdout).toContain('Usage: token-generator <command>');
    const unknown = await cli(['help', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('token-generator: unknown command "frobnicate"; see token-generator --help\n');
   }, 120_000);

  it('names an unknown or malformed flag in one line that points to --help', async () => {
    const unknown = await cli(['m2m', 'dev-gcp:my-team:my-app', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe('token-generator: unknown option --bogus; see token-generator --help\n');
    const short = await cli(['m2m', '-x']);
    expect(short.stderr).toBe('token-generator: unknown option -x; see token-generator --help\n');
    const noValue = await cli(['m2m', 'dev-gcp:my-team:my-app', '--url']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toBe('token-generator: option --url needs a value; see token-generator --help\n');
    const extraValue = await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache=yes']);
    expect(extraValue.stderr).toBe('token-generator: option --no-cache takes no value; see token-generator --help\n');
  });

  it('says in one line that a --url is not a token generator', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Welcome</title>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    try {
      for (const url of [stack.emulator!.baseUrl, `http://127.0.0.1:${(other.address() as AddressInfo).port}`]) {
        const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--url', url, '--no-cache']);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toMatch(new RegExp(`^token-generator: ${url.replace(/[.:/]/g, '\\$&')} is not a token generator \\(it answered HTTP \\d+ to /api/public/m2m\\): check --url or TOKEN_GENERATOR_URL\\n$`));
      }
    } finally {
      other.close();
    }
  });
});

describe('token-generator env and exec', () => {
  it('writes VAR=<token> into a .env file and keeps every other line', async () => {
    const file = join(dir, '.env');
    await writeFile(file, '# settings\nFOO=1\nTOKEN=old-value\n\nexport OTHER="x y"\nTOKEN_SUFFIX=keep\n');
    const run = await cli(['env', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', '--file', file]);
    expect(run.code).toBe(0);
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[0]).toBe('# settings');
    expect(lines[1]).toBe('FOO=1');
    expect(lines[2]).toMatch(/^TOKEN=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(lines.slice(3)).toEqual(['', 'export OTHER="x y"', 'TOKEN_SUFFIX=keep', '']);
    const added = await cli(['env', 'dev-gcp:my-team:my-app', '--name', 'NEW_TOKEN', '--file', file]);
    expect(added.code).toBe(0);
    expect((await readFile(file, 'utf8')).split('\n').at(-2)).toMatch(/^NEW_TOKEN=ey/);
  });

  it('runs a command with the token in its environment, with its exit code', async () => {
    const token = (await cli(['m2m', 'dev-gcp:my-team:my-app'])).stdout.trim();
    const run = await cli(['exec', 'dev-gcp:my-team:my-app', '--name', 'API_TOKEN', '--', process.execPath, '-e', 'process.stdout.write(process.env.API_TOKEN); process.exit(3)']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe(token);
  });
});

describe('token-generator decode', () => {
  it('shows header, claims, expiry in words, and that the signature verifies', async () => {
    const token = (await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache'])).stdout.trim();
    const run = await cli(['decode', token]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"alg": "RS256"');
    expect(run.stdout).toContain('"idtyp": "app"');
    expect(run.stdout).toMatch(/Expiry: expires in (59|60) minutes/);
    expect(run.stdout).toContain(`Signature: valid (issued by ${stack.emulator!.issuer}, the token generator's identity provider`);
    const fromStdin = await cli(['decode'], { stdin: `${token}\n` });
    expect(fromStdin.stdout).toMatch(/Signature: valid/);
  });

  it('does not call valid a token whose issuer only vouches for itself, and names that issuer', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'made-up', alg: 'RS256', use: 'sig' };
    const server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
      else res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const token = await new SignJWT({ NAVident: 'Z990001' }).setProtectedHeader({ alg: 'RS256', kid: 'made-up' }).setIssuer(issuer).setExpirationTime('1h').sign(privateKey);
      const run = await cli(['decode', token]);
      expect(run.code).toBe(0);
      expect(run.stdout).not.toMatch(/Signature: valid/);
      expect(run.stdout).toContain(`Signature: matches keys that ${issuer}, the issuer the token names itself, publishes at ${issuer}/keys`);
      expect(run.stdout).toContain(`not checked against a trusted issuer (the token generator's is ${stack.emulator!.issuer})`);
    } finally {
      server.close();
    }
  });

  it('says so when the signature does not verify, with a non-zero exit', async () => {
    const token = (await cli(['m2m', 'dev-gcp:my-team:my-app'])).stdout.trim();
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    const run = await cli(['decode', tampered]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Signature: NOT valid/);
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
    const changed = await cli(['decode', forged]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('"admin"');
    expect(changed.stdout).toMatch(/Signature: NOT valid/);
    const garbage = await cli(['decode', 'not-a-token']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/not a JWT/);
  });

  it('ends quietly with status 0 when its output is cut by a closed pipe', async () => {
    const token = (await cli(['m2m', 'dev-gcp:my-team:my-app'])).stdout.trim();
    const errors = join(dir, 'decode-stderr.txt');
    const run = await new Promise<Run>((resolve) => {
      // The exit status is the command's own (PIPESTATUS[0]), not head's.
      const shell = spawn('bash', ['-c', 'node bin/token-generator.js decode "$1" 2>"$2" | head -1; exit "${PIPESTATUS[0]}"', 'pipe', token, errors], {
        env: { ...process.env, TOKEN_GENERATOR_URL: stack.url, TOKEN_GENERATOR_CACHE: cacheFile },
      });
      let stdout = '';
      shell.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      shell.on('exit', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(run.stdout).toBe('Header:\n');
    expect(await readFile(errors, 'utf8')).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('token-generator after the generator restarts', () => {
  it('drops a cached token of the old tenant and fetches one from the new', async () => {
    const port = await freePort();
    const cache = join(dir, 'restart', 'tokens.json');
    const env = { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: '0' };
    const url = `http://localhost:${port}`;
    const first = await startStack({ env });
    let firstToken: string;
    try {
      firstToken = (await cli(['m2m', 'dev-gcp:my-team:my-app', '--url', url], { env: { TOKEN_GENERATOR_CACHE: cache } })).stdout.trim();
      expect(decodeJwt(firstToken).iss).toBe(first.emulator!.issuer);
    } finally {
      await first.close();
    }
    const second = await startStack({ env });
    try {
      const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--url', url], { env: { TOKEN_GENERATOR_CACHE: cache } });
      expect(run.code).toBe(0);
      const token = run.stdout.trim();
      expect(token).not.toBe(firstToken);
      const newKeys = createRemoteJWKSet(new URL(`${second.emulator!.baseUrl}/${second.emulator!.tenantId}/discovery/v2.0/keys`));
      await jwtVerify(token, newKeys, { issuer: second.emulator!.issuer });
      expect(await readFile(cache, 'utf8')).not.toContain(firstToken);
      // The new token is cached as before.
      const again = await cli(['m2m', 'dev-gcp:my-team:my-app', '--url', url], { env: { TOKEN_GENERATOR_CACHE: cache } });
      expect(again.stdout.trim()).toBe(token);
    } finally {
      await second.close();
    }
  });
});

describe('token-generator obo', () => {
  it('logs in through the browser it asked for, then renews from the cache and the session without one', async () => {
    const page = await (await browser.newContext()).newPage();
    let opened = false;
    const first = await cli(['obo', 'dev-gcp:my-team:my-app'], {
      onStderr: (text) => {
        const match = /Log in with your browser: (\S+)/.exec(text);
        if (match && !opened) {
          opened = true;
          void (async () => {
            await page.goto(match[1]!);
            await page.locator('button:has-text("Sign in")').click();
          })();
        }
      },
    });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(first.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
    expect(payload.NAVident).toBeTruthy();
    expect(payload.idtyp).toBeUndefined();
    await expect(page.locator('body').textContent()).resolves.toMatch(/Logged in/);

    const cached = await cli(['obo', 'dev-gcp:my-team:my-app']);
    expect(cached.stdout).toBe(first.stdout);
    expect(cached.stderr).not.toMatch(/Log in/);
    const renewed = await cli(['obo', 'dev-gcp:other-team:other-app']);
    expect(renewed.code).toBe(0);
    expect(renewed.stderr).not.toMatch(/Log in/);
    await jwtVerify(renewed.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:other-team:other-app') });
  });

  it('says the login timed out when nobody logs in', async () => {
    const run = await cli(['obo', 'dev-gcp:my-team:my-app', '--no-cache', '--timeout', '1'], { env: { TOKEN_GENERATOR_CACHE: join(dir, 'empty.json') } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/login timed out/);
  });

  it('forgets everything at logout', async () => {
    const run = await cli(['logout']);
    expect(run.code).toBe(0);
    await expect(stat(cacheFile)).rejects.toThrow();
  });
});

describe('the loopback redirect', () => {
  const challenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
  const verifier = 'v'.repeat(43);
  const state = 's'.repeat(20);
  const start = (cookie: string, redirectUri: string) =>
    fetch(
      `${stack.url}/oauth2/cli/login?${new URLSearchParams({ redirect_uri: redirectUri, state, code_challenge: challenge(verifier), code_challenge_method: 'S256' })}`,
      { headers: { cookie }, redirect: 'manual' },
    );

  it('refuses every target that is not a loopback address', async () => {
    const cookie = await login(stack.url);
    for (const target of [
      'http://evil.com/callback',
      'https://127.0.0.1:1234/callback',
      'http://localhost:1234/callback',
      'http://127.0.0.1.evil.com:1234/callback',
      'http://user@127.0.0.1:1234/callback',
      'http://127.0.0.1/callback',
      'http://[::2]:1234/callback',
      'http://0x7f000001:1234/callback',
      'http://127.1:1234/callback',
      'http://127.0.0.1:1234@evil.com/callback',
      'http://127.0.0.1:1234/callback#frag',
      '//127.0.0.1:1234/callback',
      'javascript:alert(1)',
      '',
    ]) {
      const res = await start(cookie, target);
      expect(res.status, target).toBe(400);
    }
    expect((await start(cookie, 'http://127.0.0.1:1234/callback')).status).toBe(302);
    expect((await start(cookie, 'http://[::1]:1234/callback')).status).toBe(302);
  });

  it('hands out codes that are single-use and bound to the verifier and the redirect URI', async () => {
    const cookie = await login(stack.url);
    const redirectUri = 'http://127.0.0.1:4321/callback';
    const location = new URL((await start(cookie, redirectUri)).headers.get('location')!);
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe(state);
    const code = location.searchParams.get('code')!;
    expect(code).not.toMatch(/eyJ/);
    const redeem = (body: Record<string, string>) => fetch(`${stack.url}/oauth2/cli/token`, { method: 'POST', body: new URLSearchParams(body) });
    expect((await redeem({ code, code_verifier: 'w'.repeat(43), redirect_uri: redirectUri })).status).toBe(400);
    expect((await redeem({ code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9999/callback' })).status).toBe(400);
    const ok = await redeem({ code, code_verifier: verifier, redirect_uri: redirectUri });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { session: string }).session).toBeTruthy();
    const again = await redeem({ code, code_verifier: verifier, redirect_uri: redirectUri });
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/already used/);
  });

  it('sends a browser without a session to log in first', async () => {
    const res = await start('', 'http://127.0.0.1:1234/callback');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/oauth2\/login\?redirect=%2Foauth2%2Fcli%2Flogin/);
  });
});

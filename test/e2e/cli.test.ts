import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { deviceAuthorization } from '../helpers/authorization-server.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

// Each case runs the command a few times, each a fresh Node.js with tsx: slow on a loaded machine.
vi.setConfig({ testTimeout: 60_000 });

let stack: Stack;
let dir: string;
let cacheFile: string;
let browser: Browser;

beforeAll(async () => {
  // The --device login polls every second rather than RFC 8628's five.
  stack = await startStack({ env: { DEVICE_POLL_INTERVAL_SECONDS: '1' }, emulator: { unauthorizedTargets: ['dev-gcp:locked:api'] } });
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

function cli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; onStderr?: (text: string) => void; user?: { uid: number; gid: number } } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/token-generator.js', ...args], {
      env: { ...process.env, TOKEN_GENERATOR_URL: stack.url, TOKEN_GENERATOR_CACHE: cacheFile, BROWSER: 'none', ...options.env },
      ...options.user,
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

/** What the tests read of the command's cache file. */
interface CacheFileShape {
  generators: Record<string, { tokens: Record<string, unknown>; refreshTokens?: Record<string, string> }>;
}

/** What the command's cache file keeps for the test stack's generator. */
async function kept(): Promise<CacheFileShape['generators'][string]> {
  return (JSON.parse(await readFile(cacheFile, 'utf8')) as CacheFileShape).generators[stack.url]!;
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

    // Another spelling of the app is the same cache entry, not a second one fetched from the generator.
    const spelled = await cli(['m2m', 'API://Dev-GCP.My-Team.My-App/.default']);
    expect(spelled.stdout).toBe(fresh.stdout);
    expect(Object.keys((await kept()).tokens)).toEqual(['m2m dev-gcp:my-team:my-app']);
  });

  it('keeps its cache readable by the user alone, and never prints an expired token from it', async () => {
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      generators: Record<string, { tokens: Record<string, { accessToken: string; expiresAt: number }> }>;
    };
    cached.generators[stack.url]!.tokens['m2m dev-gcp:my-team:stale'] = {
      accessToken: 'STALE.TOKEN.VALUE',
      expiresAt: Date.now() + 60_000,
    };
    await writeFile(cacheFile, JSON.stringify(cached));
    const run = await cli(['m2m', 'dev-gcp:my-team:stale']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('STALE');
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
  });

  it('prints the token, and says so in one line, when its cache cannot be written', async () => {
    const blocked = join(dir, 'a-file');
    await writeFile(blocked, '');
    // Under a file, and under /proc, where Node's own recursive mkdir never settled.
    for (const cache of [join(blocked, 'tokens.json'), ...(process.platform === 'linux' ? ['/proc/nonexistent/tokens.json'] : [])]) {
      const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache'], { env: { TOKEN_GENERATOR_CACHE: cache } });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      expect(run.stderr).toMatch(/^token-generator: cannot write the token cache .* \([A-Z]+\): tokens are not kept\n$/);
    }
  });

  it('fails with the service\u2019s advice and the access policy to add', async () => {
    const run = await cli(['m2m', 'dev-gcp:locked:api']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toMatch(/^token-generator: dev-gcp:locked:api has not authorized this token generator/);
    expect(run.stderr).toContain('        - application: azure-token-generator');
  });

  it('fails with one line for a bad audience, a missing one, and an unreachable generator', async () => {
    const [bad, missing, down] = await Promise.all([
      cli(['m2m', 'Dev GCP']),
      cli(['m2m']),
      cli(['m2m', 'dev-gcp:a:b', '--url', 'http://127.0.0.1:9']),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/Invalid audience/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs an audience/);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^token-generator: cannot reach the generator at http:\/\/127\.0\.0\.1:9/);
  });

  it('has --help for each command, and help <command>', async () => {
    // Fourteen commands that touch neither the cache nor the network: run side by side.
    const commands = ['m2m', 'obo', 'env', 'exec', 'decode', 'logout'];
    const [general, unknown, ...helps] = await Promise.all([
      cli(['help']),
      cli(['help', 'frobnicate']),
      ...commands.flatMap((command) => [cli([command, '--help']), cli(['help', command])]),
    ]);
    for (const [i, command] of commands.entries()) {
      const [run, help] = [helps[2 * i]!, helps[2 * i + 1]!];
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: token-generator ${command}`);
      expect(help.code).toBe(0);
      expect(help.stdout).toBe(run.stdout);
    }
    expect(general!.code).toBe(0);
    expect(general!.stdout).toContain('Usage: token-generator <command>');
    expect(unknown!.code).toBe(2);
    expect(unknown!.stderr).toBe('token-generator: unknown command "frobnicate"; see token-generator --help\n');
  }, 120_000);

  it('names an unknown or malformed flag in one line that points to --help', async () => {
    // Refused before the cache or the network is touched: run side by side.
    const [unknown, short, noValue, extraValue] = await Promise.all([
      cli(['m2m', 'dev-gcp:my-team:my-app', '--bogus']),
      cli(['m2m', '-x']),
      cli(['m2m', 'dev-gcp:my-team:my-app', '--url']),
      cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache=yes']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe('token-generator: unknown option --bogus; see token-generator --help\n');
    expect(short.stderr).toBe('token-generator: unknown option -x; see token-generator --help\n');
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toBe('token-generator: option --url needs a value; see token-generator --help\n');
    expect(extraValue.stderr).toBe('token-generator: option --no-cache takes no value; see token-generator --help\n');
  });

  it('says in one line that a --url is not a token generator', async () => {
    const other = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Welcome</title>'),
    );
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    try {
      for (const url of [stack.emulator!.baseUrl, `http://127.0.0.1:${(other.address() as AddressInfo).port}`]) {
        const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--url', url, '--no-cache']);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toMatch(
          new RegExp(
            `^token-generator: ${url.replace(/[.:/]/g, '\\$&')} is not a token generator \\(it answered HTTP \\d+ to ` +
              `/api/public/m2m\\): check --url or TOKEN_GENERATOR_URL\\n$`,
          ),
        );
      }
    } finally {
      other.close();
    }
  });

  it('says a --url with a path does not point at a token generator, and that it takes the root URL, as a usage error', async () => {
    for (const path of ['/api', '/api/obo']) {
      const url = `${stack.url}${path}`;
      // m2m asks the generator's token route, obo first discovers its metadata: both under the path, where nothing is.
      for (const [args, asked] of [
        [['m2m', 'dev-gcp:my-team:my-app'], '/api/public/m2m'],
        [['obo', 'dev-gcp:my-team:my-app'], '/.well-known/oauth-authorization-server'],
      ] as const) {
        const run = await cli([...args, '--url', url, '--no-cache']);
        expect([run.code, run.stdout, run.stderr]).toEqual([
          2,
          '',
          `token-generator: ${url} does not point at a token generator (it answered HTTP 404 to ${asked}): --url and ` +
            `TOKEN_GENERATOR_URL take the generator's root URL, such as ${stack.url}\n`,
        ]);
      }
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
    const run = await cli([
      'exec',
      'dev-gcp:my-team:my-app',
      '--name',
      'API_TOKEN',
      '--',
      process.execPath,
      '-e',
      'process.stdout.write(process.env.API_TOKEN); process.exit(3)',
    ]);
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
      const token = await new SignJWT({ NAVident: 'Z990001' })
        .setProtectedHeader({ alg: 'RS256', kid: 'made-up' })
        .setIssuer(issuer)
        .setExpirationTime('1h')
        .sign(privateKey);
      const run = await cli(['decode', token]);
      expect(run.code).toBe(0);
      expect(run.stdout).not.toMatch(/Signature: valid/);
      expect(run.stdout).toContain(
        `Signature: matches keys that ${issuer}, the issuer the token names itself, publishes at ${issuer}/keys`,
      );
      expect(run.stdout).toContain(`not checked against a trusted issuer (the token generator's is ${stack.emulator!.issuer})`);
    } finally {
      server.close();
    }
  });

  it('says so when the signature does not verify, with a non-zero exit', async () => {
    const token = (await cli(['m2m', 'dev-gcp:my-team:my-app'])).stdout.trim();
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
    const [run, changed, garbage] = await Promise.all([cli(['decode', tampered]), cli(['decode', forged]), cli(['decode', 'not-a-token'])]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Signature: NOT valid/);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('"admin"');
    expect(changed.stdout).toMatch(/Signature: NOT valid/);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/not a JWT/);
  });

  it('ends quietly with status 0 when its output is cut by a closed pipe', async () => {
    const token = (await cli(['m2m', 'dev-gcp:my-team:my-app'])).stdout.trim();
    const errors = join(dir, 'decode-stderr.txt');
    const run = await new Promise<Run>((resolve) => {
      // The exit status is the command's own (PIPESTATUS[0]), not head's.
      const shell = spawn(
        'bash',
        ['-c', 'node bin/token-generator.js decode "$1" 2>"$2" | head -1; exit "${PIPESTATUS[0]}"', 'pipe', token, errors],
        {
          env: { ...process.env, TOKEN_GENERATOR_URL: stack.url, TOKEN_GENERATOR_CACHE: cacheFile },
        },
      );
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
      // A cached token waits a second for the generator to name its tenant, else it is printed: the new generator's first
      // answer of that route, slower on a loaded machine, is not what this test is about.
      expect((await fetch(`${url}/api/public/identity-provider`)).status).toBe(200);
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

/** `obo --device` against `url` with its own cache, and the device page's URL once the command shows it. */
function deviceCommand(url: string, cache: string): { running: Promise<Run>; pageUrl: () => Promise<string> } {
  let shown: string | undefined;
  const running = cli(['obo', 'dev-gcp:my-team:my-app', '--device', '--url', url], {
    env: { TOKEN_GENERATOR_CACHE: cache },
    onStderr: (text) => (shown ??= /or open: (\S+)/.exec(text)?.[1]),
  });
  return { running, pageUrl: () => waitFor(() => shown, { what: 'the command to show the device code', timeout: 30_000 }) };
}

/** The command ended well, printing an employee token for dev-gcp:my-team:my-app, from `generator`'s emulator. */
function expectEmployeeTokenFrom(run: Run, generator: Stack): void {
  expect(run.code).toBe(0);
  expect(decodeJwt(run.stdout.trim()).aud).toBe(generator.emulator!.clientIdFor('dev-gcp:my-team:my-app'));
}

/** The employee signs in on the device page at `url` and allows the command. */
async function allowDevice(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('button:has-text("Sign in")').click();
  await page.locator('#typed_code').fill(new URL(url).searchParams.get('user_code')!);
  await page.locator('button:has-text("Allow")').click();
}

/**
 * A device login of the command through a hop in front of a generator that `start` starts on the hop's port: `between`
 * runs once the command shows its code, and returns the generator the employee then allows the command on. What the
 * command printed, and that generator.
 */
async function deviceLoginThrough(
  name: string,
  start: (port: number, proxy: FaultProxy) => Promise<Stack>,
  between: (generator: Stack, proxy: FaultProxy) => Promise<Stack>,
): Promise<{ run: Run; generator: Stack }> {
  const port = await freePort();
  const proxy = await startFaultProxy(`http://127.0.0.1:${port}`);
  let generator = await start(port, proxy);
  const { running, pageUrl } = deviceCommand(proxy.url, join(dir, `${name}.json`));
  const page = await (await browser.newContext()).newPage();
  try {
    const url = await pageUrl();
    generator = await between(generator, proxy);
    await allowDevice(page, url);
    return { run: await running, generator };
  } finally {
    await page.context().close();
    await generator.close();
    await proxy.close();
  }
}

describe('token-generator obo --device while the generator restarts', () => {
  it('keeps polling while nothing answers, and gets its tokens once the employee allows it after the restart', async () => {
    // `npm start` on a state folder, behind a hop that shows when the command polls.
    let env: Record<string, string>;
    const { run, generator } = await deviceLoginThrough(
      'device-restart',
      async (port, proxy) => {
        env = {
          PORT: String(port),
          HOST: '127.0.0.1',
          PUBLIC_URL: proxy.url,
          EMULATOR_PORT: String(await freePort()),
          DEVICE_POLL_INTERVAL_SECONDS: '1',
          EMULATOR_STATE_DIR: join(dir, 'device-restart'),
        };
        return startStack({ env });
      },
      async (generator, proxy) => {
        await generator.close();
        const since = proxy.requests.length;
        await waitFor(() => proxy.requests.slice(since).some((r) => r.path === '/oauth2/token'), {
          what: 'the command to poll while the generator is away',
          timeout: 20_000,
        });
        return startStack({ env });
      },
    );
    expect(run.stderr).not.toMatch(/cannot reach/);
    expectEmployeeTokenFrom(run, generator);
  }, 90_000);
});

describe('token-generator obo --device through failing answers', () => {
  it('keeps polling while its polls are answered 500, and gets its tokens once the employee allows it', async () => {
    // The generator behind a hop that answers its polls with an error page, as an ingress does between versions.
    const { run, generator } = await deviceLoginThrough(
      'failing',
      async (port, proxy) => {
        const started = await startStack({
          env: { PORT: String(port), PUBLIC_URL: proxy.url, DEVICE_POLL_INTERVAL_SECONDS: '1', EMULATOR_STATE_DIR: join(dir, 'failing') },
        });
        proxy.faultWhen = ({ path }) => path === '/oauth2/token';
        proxy.mode = 'error-500';
        return started;
      },
      async (generator, proxy) => {
        await waitFor(() => proxy.requests.filter((r) => r.path === '/oauth2/token').length >= 2, {
          what: 'the command to poll twice through the failing hop',
          timeout: 20_000,
        });
        proxy.mode = 'pass';
        return generator;
      },
    );
    expect(run.stderr).toMatch(/answered HTTP 500 to \/oauth2\/token.*: polling again\n/);
    expectEmployeeTokenFrom(run, generator);
  }, 90_000);
});

describe('token-generator with short-lived tokens', () => {
  it("keeps a token that lives a minute, as the generator's cache does, and prints it again without the generator", async () => {
    const cache = join(dir, 'short-lived', 'tokens.json');
    const short = await startStack({ emulator: { accessTokenLifetimeSeconds: 60 } });
    const m2m = () => cli(['m2m', 'dev-gcp:my-team:my-app', '--url', short.url], { env: { TOKEN_GENERATOR_CACHE: cache } });
    let first: Run;
    try {
      first = await m2m();
      expect(first.code).toBe(0);
    } finally {
      await short.close();
    }
    // The generator is gone: only the command's own cache can answer.
    const again = await m2m();
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
  });
});

/** Runs `obo` and answers in Chromium what it prints: the login URL, or the device flow's page. */
async function oboAnswered(
  page: Page,
  args: string[],
  pattern: RegExp,
  decision: 'Allow' | 'Deny' = 'Allow',
  env: Record<string, string> = {},
) {
  let answered: Promise<void> | undefined;
  let heading: string | null = null;
  const run = await cli(args, {
    env,
    onStderr: (text) => {
      const match = pattern.exec(text);
      if (match && !answered) {
        answered = (async () => {
          await page.goto(match[1]!);
          if (page.url().startsWith(stack.emulator!.baseUrl)) await page.locator('button:has-text("Sign in")').click();
          await page.locator(`button:has-text("${decision}")`).waitFor();
          heading = await page.locator('h1').textContent();
          await page.locator(`button:has-text("${decision}")`).click();
          // The command may end as soon as its listener has the answer: the page's own navigation there ends first.
          await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
        })();
      }
    },
  });
  await answered;
  return { run, heading: heading as string | null };
}

const refreshTokenInCache = async (file = cacheFile, target = 'dev-gcp:my-team:my-app') =>
  (JSON.parse(await readFile(file, 'utf8')) as { generators: Record<string, { refreshTokens?: Record<string, string> }> }).generators[
    stack.url
  ]?.refreshTokens?.[target];

const renewWith = (refreshToken: string, scope = 'dev-gcp:my-team:my-app') =>
  fetch(`${stack.url}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, scope }),
  });

describe('token-generator obo', () => {
  let page: Page;

  beforeAll(async () => {
    page = await (await browser.newContext()).newPage();
  });

  it('logs in through the page that asks, then renews from the cache and its refresh token without a browser', async () => {
    const { run: first, heading } = await oboAnswered(page, ['obo', 'dev-gcp:my-team:my-app'], /Log in with your browser: (\S+)/);
    expect(first.code).toBe(0);
    expect(heading).toBe('Let the token-generator command line on this computer get tokens as Kari Nordmann?');
    expect(first.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(first.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
    expect(payload.NAVident).toBeTruthy();
    expect(payload.idtyp).toBeUndefined();
    await expect(page.locator('body').textContent()).resolves.toMatch(/Logged in/);

    // From the cache, also when the app is written another way: the same entry, not renewed into a second one.
    const session = (await kept()).refreshTokens;
    for (const audience of ['dev-gcp:my-team:my-app', 'Dev-GCP.My-Team.My-App']) {
      const cached = await cli(['obo', audience]);
      expect(cached.stdout).toBe(first.stdout);
      expect(cached.stderr).not.toMatch(/Log in/);
    }
    expect(Object.keys((await kept()).tokens).filter((key) => key.startsWith('obo '))).toEqual(['obo dev-gcp:my-team:my-app']);
    expect((await kept()).refreshTokens).toEqual(session);
    const renewed = await cli(['obo', 'dev-gcp:my-team:my-app', '--no-cache']);
    expect(renewed.code).toBe(0);
    expect(renewed.stderr).not.toMatch(/Log in/);
    await jwtVerify(renewed.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
    // Consent is for its target (issue 24): another target is asked for on the page again.
    const other = await oboAnswered(page, ['obo', 'dev-gcp:other-team:other-app'], /Log in with your browser: (\S+)/);
    expect(other.run.code).toBe(0);
    await jwtVerify(other.run.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:other-team:other-app') });

    // Each target keeps its own session: both renew without a browser, the first one written another way too.
    for (const audience of ['dev-gcp.my-team.my-app', 'dev-gcp:other-team:other-app']) {
      const again = await cli(['obo', audience, '--no-cache']);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toMatch(/Log in/);
    }
  });

  it('renews one target from two commands at once without ending its session', async () => {
    // A refresh token used twice ends its session: the second command waits its turn and uses the new one.
    const both = await Promise.all([1, 2].map(() => cli(['obo', 'dev-gcp:my-team:my-app', '--no-cache', '--timeout', '5'])));
    for (const run of both) {
      expect(run.code).toBe(0);
      expect(run.stderr).not.toMatch(/Log in/);
    }
    const after = await cli(['obo', 'dev-gcp:my-team:my-app', '--no-cache', '--timeout', '5']);
    expect(after.code).toBe(0);
    expect(after.stderr).not.toMatch(/Log in/);
  });

  it('keeps one session when two commands log in for one target at once, so that logout ends every one', async () => {
    const file = join(dir, 'two-shells.json');
    const target = 'dev-gcp:two-shells:app';
    const second = await page.context().newPage();
    const runs = await Promise.all(
      [page, second].map((answering) =>
        oboAnswered(answering, ['obo', target], /Log in with your browser: (\S+)/, 'Allow', { TOKEN_GENERATOR_CACHE: file }),
      ),
    );
    await second.close();
    for (const { run } of runs) expect(run.code).toBe(0);
    // The home page lists each tool with access as the employee, with its target.
    const listed = async () => {
      await page.goto(`${stack.url}/`);
      return ((await page.locator('body').textContent()) ?? '').split(target).length - 1;
    };
    expect(await listed()).toBe(1);
    expect((await cli(['logout'], { env: { TOKEN_GENERATOR_CACHE: file } })).code).toBe(0);
    expect(await listed()).toBe(0);
  });

  it('logs in, renews and logs out at a generator addressed by its loopback IP, though it calls itself localhost', async () => {
    const file = join(dir, 'loopback-ip.json');
    const env = { TOKEN_GENERATOR_CACHE: file };
    const url = stack.url.replace('//localhost:', '//127.0.0.1:');
    const target = 'dev-gcp:loopback-ip:app';
    expect(url).not.toBe(stack.url);
    const { run } = await oboAnswered(page, ['obo', target, '--url', url], /Log in with your browser: (\S+)/, 'Allow', env);
    expect([run.code, run.stderr]).toEqual([0, expect.stringMatching(/^Log in with your browser: http:\/\/localhost:/) as unknown]);
    await jwtVerify(run.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor(target) });
    const renewed = await cli(['obo', target, '--url', url, '--no-cache'], { env });
    expect([renewed.code, renewed.stderr]).toEqual([0, '']);
    expect((await cli(['logout', '--url', url], { env })).stderr).toBe(
      'Logged out: cached tokens forgotten and the command line\u2019s sessions ended.\n',
    );
  });

  it('ends only its own session at logout, and ends with the browser login that allowed it', async () => {
    const session = async () => {
      await page.goto(`${stack.url}/oauth2/session`);
      return (JSON.parse((await page.locator('body').textContent()) ?? '{}') as { authenticated: boolean }).authenticated;
    };
    const targets = ['dev-gcp:my-team:my-app', 'dev-gcp:other-team:other-app'];
    const refreshTokens = await Promise.all(targets.map((target) => refreshTokenInCache(cacheFile, target)));
    expect(refreshTokens.every(Boolean)).toBe(true);
    expect((await cli(['logout'])).code).toBe(0);
    await expect(stat(cacheFile)).rejects.toThrow();
    // Every target's session ended.
    for (const [i, refreshToken] of refreshTokens.entries())
      expect(((await (await renewWith(refreshToken!, targets[i])).json()) as { error: string }).error).toBe('invalid_grant');
    expect(await session()).toBe(true);

    expect((await oboAnswered(page, ['obo', 'dev-gcp:my-team:my-app'], /Log in with your browser: (\S+)/)).run.code).toBe(0);
    const cached = (await refreshTokenInCache())!;
    // The browser's own logout: a page with a button, or at once.
    await page.goto(`${stack.url}/oauth2/logout`);
    const button = page.locator('button:has-text("Log out")');
    if (await button.count()) await button.click();
    expect(await session()).toBe(false);
    // The command line's session ends no later than the browser login that allowed it.
    expect(((await (await renewWith(cached)).json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('does not call its sessions ended at logout when the generator could not be asked, and forgets its tokens all the same', async () => {
    const file = join(dir, 'unreachable.json');
    const url = `http://127.0.0.1:${await freePort()}`;
    await writeFile(file, JSON.stringify({ generators: { [url]: { refreshToken: 'v1.a-session', tokens: {} } } }));
    const run = await cli(['logout', '--url', url], { env: { TOKEN_GENERATOR_CACHE: file } });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/sessions were not ended: cannot reach the generator at .*home page\.\n$/);
    expect(run.stderr).not.toMatch(/Logged out/);
    await expect(stat(file)).rejects.toThrow();
  });

  describe('logout with a cache it cannot change', () => {
    // Root changes files whatever their modes say: as root the command runs as `nobody`, and meets what a user meets.
    const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    const asUser = user ? { user } : {};
    const notForgotten = (file: string, sessions = '') =>
      `token-generator: cached tokens not forgotten: ${file} cannot be changed (EACCES), and the tokens it holds for ` +
      `${stack.url} stay in it until they expire.${sessions} Make its folder writable and run logout again, or remove the file.\n`;

    /** A cache folder with an app token cached in it, and a session's refresh token: the folder, the file, the token. */
    async function cachedIn(): Promise<{ folder: string; file: string; token: string }> {
      const folder = await mkdtemp(join(tmpdir(), 'cli-read-only-'));
      const file = join(folder, 'tokens.json');
      const cached = await cli(['m2m', 'dev-gcp:my-team:my-app'], { env: { TOKEN_GENERATOR_CACHE: file } });
      expect(cached.code).toBe(0);
      const data = JSON.parse(await readFile(file, 'utf8')) as { generators: Record<string, { refreshTokens?: Record<string, string> }> };
      data.generators[stack.url]!.refreshTokens = { 'dev-gcp:my-team:my-app': 'v1.a-session' };
      await writeFile(file, JSON.stringify(data));
      return { folder, file, token: cached.stdout };
    }

    it('says so, where and what to do, and exits with 1, when the folder is read-only; the sessions still end', async () => {
      const { folder, file, token } = await cachedIn();
      const env = { TOKEN_GENERATOR_CACHE: file };
      if (user) for (const path of [folder, file]) await chown(path, user.uid, user.gid);
      await chmod(folder, 0o500);
      try {
        const run = await cli(['logout'], { env, ...asUser });
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(notForgotten(file, ' The command line\u2019s sessions were ended.'));
        // Truly still there: the next command hands out the same token from it.
        expect((await cli(['m2m', 'dev-gcp:my-team:my-app'], { env, ...asUser })).stdout).toBe(token);
      } finally {
        await chmod(folder, 0o700);
        await rm(folder, { recursive: true, force: true });
      }
    });

    const unreadable = (file: string) =>
      `token-generator: not logged out: ${file} cannot be read (EACCES), so the command line\u2019s sessions whose refresh ` +
      'tokens it holds could not be ended, and the file is left as it is. Written by another user (a command run with sudo), ' +
      `it is theirs: run logout as they did (sudo token-generator logout), or remove it (sudo rm ${file}); its sessions ` +
      'then end with the browser login that allowed them.\n';

    /** Runs logout on a file it cannot read, in a folder it can (`writable`) or cannot change: the file is left as it was. */
    async function logoutUnreadable(writable: boolean): Promise<void> {
      const { folder, file } = await cachedIn();
      const held = await readFile(file, 'utf8');
      // As root, the file stays root's (made with sudo) and the folder is the user's or root's; otherwise the file is made
      // unreadable, and the folder read-only when it must be.
      if (user && writable) await chown(folder, user.uid, user.gid);
      if (!user) {
        await chmod(file, 0o000);
        if (!writable) await chmod(folder, 0o500);
      }
      try {
        const run = await cli(['logout'], { env: { TOKEN_GENERATOR_CACHE: file }, ...asUser });
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(unreadable(file));
        await chmod(file, 0o600);
        expect(await readFile(file, 'utf8')).toBe(held);
      } finally {
        await chmod(folder, 0o700);
        await rm(folder, { recursive: true, force: true });
      }
    }

    it('says so too for a file it can neither read nor remove (made by another user: sudo)', async () => {
      await logoutUnreadable(false);
    });

    it('leaves a file it cannot read but could remove, and says its sessions were not ended (made with sudo in its folder)', async () => {
      await logoutUnreadable(true);
    });

    it('never writes over a file it cannot read when it gets a token, and says it is not kept', async () => {
      const { folder, file } = await cachedIn();
      const held = await readFile(file, 'utf8');
      if (user) await chown(folder, user.uid, user.gid);
      else await chmod(file, 0o000);
      try {
        const run = await cli(['m2m', 'dev-gcp:my-team:another-app'], { env: { TOKEN_GENERATOR_CACHE: file }, ...asUser });
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/^ey/);
        expect(run.stderr).toContain(`cannot read the token cache ${file} (EACCES): it is left as it is, and tokens are not kept`);
        await chmod(file, 0o600);
        expect(await readFile(file, 'utf8')).toBe(held);
      } finally {
        await chmod(folder, 0o700);
        await rm(folder, { recursive: true, force: true });
      }
    });
  });

  it('logs in again by itself when its session was ended elsewhere', async () => {
    const file = join(dir, 'ended.json');
    await writeFile(file, JSON.stringify({ generators: { [stack.url]: { refreshToken: 'v1.not-a-session', tokens: {} } } }));
    const { run } = await oboAnswered(page, ['obo', 'dev-gcp:my-team:my-app'], /Log in with your browser: (\S+)/, 'Allow', {
      TOKEN_GENERATOR_CACHE: file,
    });
    expect(run.code).toBe(0);
    expect(await refreshTokenInCache(file)).toMatch(/^(?!v1\.not-a-session$)./);
    // The single refresh token of a file written before sessions per target is gone.
    expect(JSON.parse(await readFile(file, 'utf8'))).not.toHaveProperty(['generators', stack.url, 'refreshToken']);
  });

  it("keeps a cache file's single refresh token from before sessions per target for the target it belongs to", async () => {
    const first = join(dir, 'first-login.json');
    expect(
      (
        await oboAnswered(page, ['obo', 'dev-gcp:my-team:my-app'], /Log in with your browser: (\S+)/, 'Allow', {
          TOKEN_GENERATOR_CACHE: first,
        })
      ).run.code,
    ).toBe(0);
    const file = join(dir, 'older.json');
    const single = (await refreshTokenInCache(first))!;
    await rm(first);
    await writeFile(file, JSON.stringify({ generators: { [stack.url]: { refreshToken: single, tokens: {} } } }));
    // Another target: the single one is refused as not consented for it, and a login starts that target's session.
    const other = await oboAnswered(page, ['obo', 'dev-gcp:other-team:other-app'], /Log in with your browser: (\S+)/, 'Allow', {
      TOKEN_GENERATOR_CACHE: file,
    });
    expect(other.run.code).toBe(0);
    // The single one still renews the target it was for, without a browser.
    const again = await cli(['obo', 'dev-gcp:my-team:my-app', '--no-cache', '--timeout', '5'], { env: { TOKEN_GENERATOR_CACHE: file } });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/Log in/);
  });

  it('says so when the employee denies it in the browser', async () => {
    const { run } = await oboAnswered(page, ['obo', 'dev-gcp:my-team:my-app'], /Log in with your browser: (\S+)/, 'Deny', {
      TOKEN_GENERATOR_CACHE: join(dir, 'denied.json'),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/you denied the command line/);
  });

  it('fails for a target that has not let the generator in with the advice, the access policy and the sentence after it', async () => {
    const { run } = await oboAnswered(page, ['obo', 'dev-gcp:locked:api'], /Log in with your browser: (\S+)/, 'Allow', {
      TOKEN_GENERATOR_CACHE: join(dir, 'locked.json'),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    // After the line that sent the employee to log in.
    const lines = run.stderr.slice(run.stderr.indexOf('token-generator: ')).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^token-generator: dev-gcp:locked:api has not authorized this token generator .* on behalf of employees\./);
    expect(lines[0]).not.toContain('spec:');
    expect(lines.slice(1, 4)).toEqual(['', 'spec:', '  accessPolicy:']);
    expect(lines).toContain('        - application: azure-token-generator');
    expect(lines.at(-1)).toMatch(/^The app must also let you in as a user/);
    expect(lines).toHaveLength(11);
  });

  it('logs in with --device: a code to enter on any device, approved there in Chromium', async () => {
    expect((await deviceAuthorization(stack.url)).interval).toBe(1);
    const file = join(dir, 'device.json');
    const other = await (await browser.newContext()).newPage();
    let opened = false;
    const run = await cli(['obo', 'dev-gcp:my-team:my-app', '--device'], {
      env: { TOKEN_GENERATOR_CACHE: file },
      onStderr: (text) => {
        const match = /or open: (\S+)/.exec(text);
        if (match && !opened) {
          opened = true;
          void (async () => {
            await other.goto(match[1]!);
            await other.locator('button:has-text("Sign in")').click();
            await other.locator('#typed_code').fill(new URL(match[1]!).searchParams.get('user_code')!);
            await other.locator('button:has-text("Allow")').click();
          })();
        }
      },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/enter the code [B-Z]{4}-[B-Z]{4}/);
    await jwtVerify(run.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
    expect(await refreshTokenInCache(file)).toBeTruthy();
    await other.context().close();
  }, 60_000);

  it('says the login timed out when nobody logs in', async () => {
    const run = await cli(['obo', 'dev-gcp:my-team:my-app', '--no-cache', '--timeout', '1'], {
      env: { TOKEN_GENERATOR_CACHE: join(dir, 'empty.json') },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/login timed out/);
  });
});

describe('token-generator as a command', () => {
  it('says its version, the one in package.json', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const run = await cli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`token-generator ${version}\n`);
  });

  it('suggests the command or flag meant by a mistyped one, and nothing when none is near', async () => {
    // Refused before the cache or the network is touched: run side by side.
    const [command, swapped, flag, far] = await Promise.all([
      cli(['m2n', 'dev-gcp:my-team:my-app']),
      cli(['deocde']),
      cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cach']),
      cli(['launch-rockets']),
    ]);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe('token-generator: unknown command "m2n" (did you mean m2m?); see token-generator --help\n');
    expect(swapped.stderr).toBe('token-generator: unknown command "deocde" (did you mean decode?); see token-generator --help\n');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('token-generator: unknown option --no-cach (did you mean --no-cache?); see token-generator --help\n');
    expect(far.stderr).toBe('token-generator: unknown command "launch-rockets"; see token-generator --help\n');
  });
});

describe('token-generator obo, its loopback listener', () => {
  it('ignores a request without its state and keeps waiting for the real answer', async () => {
    const page = await (await browser.newContext()).newPage();
    let stray: { status: number; body: string } | undefined;
    let opened = false;
    const run = await cli(['obo', 'dev-gcp:my-team:my-app'], {
      env: { TOKEN_GENERATOR_CACHE: join(dir, 'stray.json') },
      onStderr: (text) => {
        const match = /Log in with your browser: (\S+)/.exec(text);
        if (!match || opened) return;
        opened = true;
        void (async () => {
          const redirectUri = new URL(match[1]!).searchParams.get('redirect_uri')!;
          const res = await fetch(`${redirectUri}?code=stolen&state=guessed`);
          stray = { status: res.status, body: await res.text() };
          const none = await fetch(`${redirectUri}?code=stolen`);
          expect(none.status).toBe(400);
          await page.goto(match[1]!);
          await page.locator('button:has-text("Sign in")').click();
          await page.locator('button:has-text("Allow")').click();
        })();
      },
    });
    expect(stray?.status).toBe(400);
    expect(stray?.body).toContain('Login not for this command');
    expect(run.code).toBe(0);
    await jwtVerify(run.stdout.trim(), keys(), { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
    await page.context().close();
  });

  it('refuses an answer with its state but another issuer (RFC 9207), without redeeming the code', async () => {
    let opened = false;
    const run = await cli(['obo', 'dev-gcp:my-team:my-app', '--timeout', '30'], {
      env: { TOKEN_GENERATOR_CACHE: join(dir, 'other-issuer.json') },
      onStderr: (text) => {
        const match = /Log in with your browser: (\S+)/.exec(text);
        if (!match || opened) return;
        opened = true;
        const login = new URL(match[1]!).searchParams;
        const answer = new URLSearchParams({ code: 'a-code', state: login.get('state')!, iss: 'https://attacker.example' });
        void fetch(`${login.get('redirect_uri')!}?${answer}`);
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the login's answer did not come from http:\/\/localhost:\d+ \(unexpected "iss"/);
  });
});

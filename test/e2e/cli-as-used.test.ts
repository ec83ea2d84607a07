/**
 * The command line as a developer meets it outside the happy path: a word too many, a cache file
 * damaged by hand, a relative cache folder or an empty HOME, a --url copied with a query, an https
 * --url, exec under Ctrl-C or `kill`, decode at a terminal. Each runs the built command against the
 * service on a free port.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { clientCertificate } from '../emulator/helpers.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startTcpHop } from '../helpers/tcp-hop.js';
import { inTerminal } from '../helpers/terminal.js';
import { waitFor } from '../helpers/wait-for.js';

vi.setConfig({ testTimeout: 60_000 });

let stack: Stack;
let dir: string;
let cacheFile: string;
const bin = join(process.cwd(), 'bin/token-generator.js');

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'cli-as-used-'));
  cacheFile = join(dir, 'cache', 'tokens.json');
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The command line's environment here: the test stack's generator, the file's cache, no browser opened. */
function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TOKEN_GENERATOR_URL: stack.url, TOKEN_GENERATOR_CACHE: cacheFile, BROWSER: 'none' };
}

function cli(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    onStdout?: (text: string, pid: number) => void;
    /** Started as the leader of a process group of its own, without a controlling terminal (as from a script or CI job). */
    detached?: boolean;
  } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const env = cliEnv();
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: options.cwd ?? process.cwd(), detached: options.detached ?? false });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child.pid!);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;

describe('a word too many', () => {
  it('is a usage error, not ignored: env with the file as a word does not write .env, logout takes none, exec wants --', async () => {
    const cwd = await mkdtemp(join(dir, 'project-'));
    const env = await cli(['env', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', 'other.env'], { cwd });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('token-generator: env takes one operand, not also "other.env"; see token-generator env --help\n');
    expect(await readdir(cwd)).toEqual([]);

    const two = await cli(['obo', 'dev-gcp:my-team:my-app', 'dev-gcp:other-team:other-app']);
    expect(two.code).toBe(2);
    expect(two.stdout).toBe('');

    const logout = await cli(['logout', 'now']);
    expect(logout.code).toBe(2);
    expect(logout.stderr).toMatch(/^token-generator: logout takes no operand, not also "now"/);

    const exec = await cli(['exec', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', 'env']);
    expect(exec.code).toBe(2);
    expect(exec.stderr).toMatch(/not also "env" \(the command to run goes after --\)/);
  });
});

describe('an option meant for another command', () => {
  it('is a usage error naming the command\u2019s options, not ignored: m2m --device, env --device without --obo', async () => {
    const cwd = await mkdtemp(join(dir, 'project-'));
    const m2m = await cli(['m2m', 'dev-gcp:my-team:my-app', '--device']);
    expect([m2m.code, m2m.stdout, m2m.stderr]).toEqual([
      2,
      '',
      'token-generator: m2m does not take --device; its options are --url, --no-cache; see token-generator m2m --help\n',
    ]);
    const env = await cli(['env', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', '--device'], { cwd });
    expect([env.code, env.stderr]).toEqual([
      2,
      'token-generator: env takes --device only with --obo, for the login a token on your behalf may need; ' +
        'see token-generator env --help\n',
    ]);
    expect(await readdir(cwd)).toEqual([]);
    const logout = await cli(['logout', '--no-cache']);
    expect([logout.code, logout.stderr]).toEqual([
      2,
      'token-generator: logout does not take --no-cache; its options are --url; see token-generator logout --help\n',
    ]);
    const obo = await cli(['obo', 'dev-gcp:my-team:my-app', '--file', '.env']);
    expect([obo.code, obo.stderr]).toEqual([
      2,
      'token-generator: obo does not take --file; its options are --url, --no-cache, --device, --timeout; ' +
        'see token-generator obo --help\n',
    ]);
    // The options a command takes still work, and --help still answers whatever else is given.
    const help = await cli(['m2m', '--device', '--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Usage: token-generator m2m') as unknown]);
    const env2 = await cli(['env', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', '--file', 'a.env', '--no-cache'], { cwd });
    expect([env2.code, await readdir(cwd)]).toEqual([0, ['a.env']]);
  });
});

describe('a cache file damaged, or edited by hand', () => {
  it('is read for what it holds of its shape: the token is printed, not an unexpected error', async () => {
    const file = join(dir, 'damaged', 'tokens.json');
    await mkdir(join(dir, 'damaged'), { recursive: true });
    const shapes = [
      { generators: 'x' },
      { generators: { [stack.url]: {} } },
      { generators: { [stack.url]: { tokens: null } } },
      { generators: { [stack.url]: { tokens: { 'm2m dev-gcp:my-team:my-app': null } } } },
      { generators: { [stack.url]: { tokens: { 'm2m dev-gcp:my-team:my-app': 'text' } } } },
      [],
    ];
    for (const shape of shapes) {
      await writeFile(file, JSON.stringify(shape), { mode: 0o600 });
      const run = await cli(['m2m', 'dev-gcp:my-team:my-app'], { env: { TOKEN_GENERATOR_CACHE: file } });
      expect({ shape, code: run.code, stderr: run.stderr }).toEqual({ shape, code: 0, stderr: '' });
      expect(run.stdout).toMatch(JWT);
      // And the next command finds the token it kept.
      const again = await cli(['m2m', 'dev-gcp:my-team:my-app'], { env: { TOKEN_GENERATOR_CACHE: file } });
      expect(again.stdout).toBe(run.stdout);
    }
  });
});

describe('the cache folder', () => {
  it('is never under the current folder for a relative XDG_CACHE_HOME, which the XDG spec says to ignore', async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    const cwd = await mkdtemp(join(dir, 'checkout-'));
    const run = await cli(['m2m', 'dev-gcp:my-team:my-app'], {
      cwd,
      env: { TOKEN_GENERATOR_CACHE: undefined, HOME: home, XDG_CACHE_HOME: 'relative/cache' },
    });
    expect(run.code).toBe(0);
    expect(await readdir(cwd)).toEqual([]);
    expect(await readdir(join(home, '.cache', 'entra-token-generator'))).toEqual(['tokens.json']);
  });
});

describe('without a usable HOME', () => {
  it('keeps the cache in the home the user database names, not under the current folder', async () => {
    const { cliEnvOf } = await import('../../src/cli/variables.js');
    vi.stubEnv('HOME', '');
    try {
      expect(cliEnvOf({}).cacheFile).toMatch(/^\/.+\/\.cache\/entra-token-generator\/tokens\.json$/);
      expect(cliEnvOf({ XDG_CACHE_HOME: 'relative' }).cacheFile).toMatch(/^\/.+\/\.cache\/entra-token-generator\/tokens\.json$/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('--url and TOKEN_GENERATOR_URL', () => {
  it('with a query or a fragment (a page address, copied) is a usage error that names the root URL', async () => {
    for (const url of [`${stack.url}/?aud=dev-gcp:my-team:my-app`, `${stack.url}#token`]) {
      const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache'], { env: { TOKEN_GENERATOR_URL: url } });
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `token-generator: --url and TOKEN_GENERATOR_URL take the generator's root URL, such as ${stack.url}, without a query or ` +
          `fragment: not ${url}\n`,
      );
    }
  });
});

describe('an https --url', () => {
  it('where plain http answers says so in one line, with the http URL to try, not OpenSSL\u2019s lines', async () => {
    const url = stack.url.replace(/^http:/, 'https:');
    const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `token-generator: cannot reach the generator at ${url}: what answers there does not speak https; is --url ${stack.url}?\n`,
    );
  });

  it('with a self-signed certificate says in one line how to trust it', async () => {
    const { certificatePem, privateKeyPem } = await clientCertificate('CN=localhost');
    const server = createServer({ cert: certificatePem, key: privateKeyPem }, (_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const run = await cli(['m2m', 'dev-gcp:my-team:my-app', '--no-cache', '--url', url]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `token-generator: cannot reach the generator at ${url} (self-signed certificate): its certificate is not trusted here: ` +
          'give Node.js the CA that signed it with NODE_EXTRA_CA_CERTS=<file>\n',
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a cached token of a generator that takes connections and never answers', () => {
  it('is printed within a second or so of the check, not after 10 s', async () => {
    const proxy = await startFaultProxy(stack.url);
    try {
      const file = join(dir, 'hung', 'tokens.json');
      const m2m = () => cli(['m2m', 'dev-gcp:my-team:my-app', '--url', proxy.url], { env: { TOKEN_GENERATOR_CACHE: file } });
      const first = await m2m();
      expect(first.stdout).toMatch(JWT);
      proxy.mode = 'blackhole';
      const started = performance.now();
      const cached = await m2m();
      const seconds = (performance.now() - started) / 1000;
      expect([cached.code, cached.stdout, cached.stderr]).toEqual([0, first.stdout, '']);
      // It still asked whose tokens the generator gives (the check of a new tenant stays), and did not wait out 10 s for it.
      expect(proxy.requests.filter((r) => r.mode === 'blackhole').map((r) => r.path)).toEqual(['/api/public/identity-provider']);
      expect(seconds).toBeLessThan(6);
      // Nor for one that sends its head and then its body a byte at a time, never ending it: the second is for the whole answer.
      proxy.mode = 'trickle';
      const trickled = await m2m();
      expect([trickled.code, trickled.stdout, trickled.stderr]).toEqual([0, first.stdout, '']);
      expect(proxy.requests.filter((r) => r.mode === 'trickle').map((r) => r.path)).toEqual(['/api/public/identity-provider']);
    } finally {
      await proxy.close();
    }
  });
});

describe('a generator behind a proxy that passes its own name on, started without PUBLIC_URL', () => {
  it('shows the generator\u2019s refusal of that name (421) and what to do, not "not a token generator"', async () => {
    // A hop that passes the Host as the client sent it, as a proxy in front of `npm start` may (an https one too).
    const hop = await startTcpHop({ port: Number(new URL(stack.url).port) });
    try {
      const url = `http://127.0.0.1:${hop.port}`;
      // m2m asks the generator's token route; obo first discovers its metadata through openid-client.
      for (const command of ['m2m', 'obo']) {
        const run = await cli([command, 'dev-gcp:my-team:my-app', '--no-cache', '--url', url]);
        expect([run.code, run.stdout, run.stderr]).toEqual([
          1,
          '',
          `token-generator: the generator at ${url} does not answer to the name 127.0.0.1:${hop.port} (HTTP 421): This service ` +
            'answers only to its own name. Use the address it was configured with (PUBLIC_URL). Behind a proxy at that address, ' +
            `it needs PUBLIC_URL=${url} where it runs.\n`,
        ]);
      }
    } finally {
      await hop.close();
    }
  });
});

describe('exec under signals', () => {
  it('exits as a shell says for a command ended by a signal: 128 plus its number', async () => {
    const run = await cli([
      'exec',
      'dev-gcp:my-team:my-app',
      '--name',
      'TOKEN',
      '--',
      process.execPath,
      '-e',
      'process.kill(process.pid, "SIGTERM")',
    ]);
    expect(run.code).toBe(143);
  });

  it('passes SIGINT and SIGTERM on to the command and ends as it ends, after it cleaned up', async () => {
    const script =
      'for (const s of ["SIGINT", "SIGTERM"])' +
      ' process.on(s, () => { process.stdout.write(`cleaned up after ${s}\\n`); process.exit(7); });' +
      'process.stdout.write("ready\\n"); setTimeout(() => process.exit(0), 20_000);';
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const run = await cli(['exec', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', '--', process.execPath, '-e', script], {
        onStdout: (text, pid) => {
          if (text === 'ready\n') process.kill(pid, signal);
        },
        detached: true,
      });
      expect({ signal: run.signal, code: run.code, stdout: run.stdout }).toEqual({
        signal: null,
        code: 7,
        stdout: `ready\ncleaned up after ${signal}\n`,
      });
    }
  });
});

describe('exec and SIGINT', () => {
  /**
   * Counts the SIGINTs it hears, and says the count at each SIGTERM, which ends it at the third. A SIGINT the command line
   * passes on comes before the SIGTERM it passes on after it. Three rounds, as two SIGINTs that reach a process before it
   * took the first are one: the double one of a round can pass unseen.
   */
  const counter =
    'let n = 0, t = 0; process.on("SIGINT", () => process.stdout.write(`INT ${++n}\\n`));' +
    'process.on("SIGTERM", () => { process.stdout.write(`TERM after ${n}\\n`); if (++t === 3) process.exit(0); });' +
    'process.stdout.write(`ready ${process.ppid}\\n`); setTimeout(() => process.exit(1), 50_000);';
  const exec = [bin, 'exec', 'dev-gcp:my-team:my-app', '--name', 'TOKEN', '--', process.execPath, '-e', counter];
  const once = 'INT 1\nTERM after 1\nINT 2\nTERM after 2\nINT 3\nTERM after 3\n';

  /** Three rounds of `interrupt`, then SIGTERM to the command line alone; what the command said after "ready". */
  async function rounds(output: () => string, interrupt: (pid: number) => void): Promise<string> {
    const ready = await waitFor(() => /ready (\d+)\n/.exec(output()), { what: 'the command to start' });
    const pid = Number(ready[1]);
    for (const round of [1, 2, 3]) {
      interrupt(pid);
      await waitFor(() => output().includes(`INT ${round}\n`), { what: `SIGINT ${round} to reach the command` });
      process.kill(pid, 'SIGTERM');
      await waitFor(() => output().split('TERM after').length > round, { what: `SIGTERM ${round} to reach the command` });
    }
    return output()
      .slice(output().indexOf(ready[0]) + ready[0].length)
      .replaceAll('^C', '');
  }

  it.each([
    ['to its process group, as a terminal does', (pid: number) => process.kill(-pid, 'SIGINT')],
    ['to the command line alone (kill -INT)', (pid: number) => process.kill(pid, 'SIGINT')],
  ])('reaches the command once when sent %s, without a terminal', async (_how, send) => {
    // The leader of a process group of its own, without a controlling terminal: as a script's or CI job's child.
    const child = spawn(process.execPath, exec, { env: cliEnv(), detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      expect(await rounds(() => stdout, send)).toBe(once);
      expect(await ended).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reaches the command once from Ctrl-C at a terminal, which signals the command itself', async () => {
    const terminal = inTerminal([process.execPath, ...exec], cliEnv());
    try {
      expect(await rounds(terminal.output, () => terminal.type('\x03'))).toBe(once);
    } finally {
      await terminal.close();
    }
  });
});

describe('decode at a terminal without a token', () => {
  it('says what to give, and does not wait for the keyboard', async () => {
    const terminal = inTerminal([process.execPath, bin, 'decode'], { ...process.env, TOKEN_GENERATOR_URL: stack.url });
    try {
      await waitFor(() => terminal.output().includes('give a token as argument or on standard input'), {
        what: 'decode to say what to give',
        timeout: 15_000,
      });
      expect(terminal.output()).toContain('such as token-generator decode "$TOKEN"');
    } finally {
      await terminal.close();
    }
  });
});

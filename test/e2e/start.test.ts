/**
 * `npm start` as an employee meets it: the program itself (src/main.ts) in a pipe and in a pseudo-terminal,
 * the banner's examples tried as printed, and the messages of a start that cannot go on.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';

const MAIN = ['--import', 'tsx', 'src/main.ts'];
const READY = /Employee token:|No app in the directory/;

interface Started {
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** Starts the program with its output in a pipe, or through `script` in a pseudo-terminal. */
function startMain(env: Record<string, string>, terminal: boolean): Started {
  const command = terminal ? 'script' : process.execPath;
  const args = terminal ? ['-qec', [process.execPath, ...MAIN].map(quote).join(' '), '/dev/null'] : MAIN;
  const child = spawn(command, args, { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    stop: async () => {
      // Through `script` the signal goes to the program via its terminal's process group.
      child.kill('SIGTERM');
      if (terminal) child.stdin.end();
      return exited;
    },
  };
}

async function until(started: Started, pattern: RegExp, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(started.output())) {
    if (Date.now() > deadline) throw new Error(`not seen in time: ${pattern}\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const running: Started[] = [];
afterAll(async () => {
  await Promise.all(running.map((started) => started.stop()));
});

async function ports() {
  const port = await freePort();
  return { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: String(await freePort()), url: `http://localhost:${port}` };
}

function withoutAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
}

describe('npm start in a pipe', () => {
  it('writes JSON log lines, the banner, no warning about the session key and no emulator request lines', async () => {
    const { url, ...env } = await ports();
    const started = startMain(env, false);
    running.push(started);
    await until(started, READY);
    const res = await fetch(`${url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }) });
    expect(res.status).toBe(200);
    await started.stop();
    const lines = started.output().split('\n').filter(Boolean);
    const logLines = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; component?: string });
    const text = lines.filter((line) => !line.startsWith('{'));
    expect(text[0]).toBe(`Token generator: ${url}`);
    expect(text).toContain(`  App token:      curl -s -X POST ${url}/api/public/m2m -d "aud=dev-gcp:my-team:my-app"`);
    expect(logLines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(logLines.filter((line) => /SESSION_ENCRYPTION_KEY/.test(line.msg))).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: expect.stringMatching(/^sessions use the key kept in \S+session-key\.json/) as unknown,
      }),
    ]);
    // The discovery, keys and token requests to the emulator are at debug.
    expect(logLines.filter((line) => line.component === 'emulator' && !/^Server listening/.test(line.msg))).toEqual([]);
  }, 90_000);

  it('prints examples that work with the directory in use, and lists the exceptions of an open one', async () => {
    const { url, ...env } = await ports();
    const withDirectory = startMain({ ...env, EMULATOR_DIRECTORY: 'examples/emulator/emulator.yaml' }, false);
    running.push(withDirectory);
    await until(withDirectory, READY);
    const example = /curl -s -X POST (\S+) -d "aud=([^"]+)"/.exec(withDirectory.output());
    expect(example?.[2]).toBe('dev-gcp:team-a:api');
    const res = await fetch(example![1]!, { method: 'POST', body: new URLSearchParams({ aud: example![2]! }) });
    expect(res.status).toBe(200);
    expect(withDirectory.output()).toContain(
      `open ${url}/api/obo?aud=dev-gcp:team-a:api in a browser, and sign in as Z990001 (Kari Nordmann)`,
    );
    await withDirectory.stop();

    const withExceptions = startMain(
      { ...env, EMULATOR_UNAUTHORIZED_TARGETS: 'dev-gcp:locked:api', EMULATOR_MISSING_TARGETS: 'dev-gcp:gone:app' },
      false,
    );
    running.push(withExceptions);
    await until(withExceptions, READY);
    const output = withExceptions.output();
    expect(output).toContain('  exceptions: authorized nobody (EMULATOR_UNAUTHORIZED_TARGETS): dev-gcp:locked:api\n');
    expect(output).toContain('  exceptions: not in the tenant (EMULATOR_MISSING_TARGETS): dev-gcp:gone:app\n');
    // The banner's examples avoid the exceptions.
    expect(output).not.toMatch(/aud=dev-gcp:(locked|gone)/);
    await withExceptions.stop();
  }, 120_000);
});

describe('a production start (NODE_ENV=production, as the image sets)', () => {
  it('writes one JSON object a line and no banner, and says where it listens', async () => {
    const { url, ...env } = await ports();
    const started = startMain({ ...env, NODE_ENV: 'production' }, false);
    running.push(started);
    await until(started, /token generator listening on/);
    const res = await fetch(`${url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }) });
    expect(res.status).toBe(200);
    await started.stop();
    const lines = started.output().split('\n').filter(Boolean);
    const parsed = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(parsed.map((line) => line.msg)).toContain(
      `token generator listening on 127.0.0.1:${env.PORT} (this machine only; HOST=0.0.0.0 opens it to the network)`,
    );
    expect(started.output()).not.toContain('Token generator:');
  }, 90_000);
});

describe('what a start loads', () => {
  it('leaves ioredis and pino-pretty unloaded without Redis and outside a terminal', async () => {
    const { url, ...env } = await ports();
    // NODE_DEBUG=module: Node.js names each CommonJS module it loads, the packages an ES module imports included.
    const started = startMain({ ...env, NODE_ENV: 'production', NODE_DEBUG: 'module' }, false);
    running.push(started);
    await until(started, /token generator listening on/);
    expect((await fetch(`${url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:a:b' }) })).status).toBe(200);
    await started.stop();
    const packages = new Set(started.output().match(/(?<=\/node_modules\/)(@[\w.-]+\/)?[\w.-]+(?=\/)/g));
    expect(packages).toContain('fastify');
    expect(packages).toContain('pino');
    expect(packages).not.toContain('ioredis');
    expect(packages).not.toContain('pino-pretty');
  }, 90_000);
});

describe('npm start in a terminal', () => {
  it('writes readable log lines, not JSON', async () => {
    const { url, ...env } = await ports();
    const started = startMain(env, true);
    running.push(started);
    await until(started, READY);
    const output = withoutAnsi(started.output());
    await started.stop();
    expect(output).toContain(`Token generator: ${url}`);
    expect(output).not.toContain('{"level"');
    expect(output).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: sessions use the key kept in /m);
    expect(output).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: emulator: Server listening at/m);
  }, 90_000);
});

describe('a start that cannot go on', () => {
  it('says in one line what PORT takes', async () => {
    const started = startMain({ PORT: 'abc' }, false);
    expect(await started.exited).toBe(2);
    expect(started.output()).toMatch(/^Configuration error: PORT:? must be a whole number from 0 to 65535,? (\(got|not) "abc"\)?\n$/);
  });

  it('refuses on NAIS with Entra ID and no session store, in one JSON line that names spec.valkey', async () => {
    const nais = {
      NAIS_CLUSTER_NAME: 'dev-gcp',
      NAIS_NAMESPACE: 'nais',
      NAIS_APP_NAME: 'azure-token-generator',
      NAIS_POD_NAME: 'azure-token-generator-7d9f-abcde',
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_CLIENT_SECRET: 'secret',
      AZURE_APP_WELL_KNOWN_URL: 'https://login.example/.well-known/openid-configuration',
    };
    const started = startMain(nais, false);
    expect(await started.exited).toBe(2);
    const lines = started.output().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { level: string; msg: string };
    expect(line.level).toBe('fatal');
    expect(line.msg).toMatch(/^Configuration error: VALKEY_URI_SESSIONS is not set, .*spec\.valkey.*SESSION_STORE=memory/);
  });

  it('leaves nothing running when it cannot start: with Redis unreachable and the port taken, the process ends by itself', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = (taken.address() as { port: number }).port;
    // startService alone, as the tests and benchmarks call it: no process.exit to end what it leaves behind.
    const script = [
      "import { loadConfig } from './src/config.ts';",
      "import { startService } from './src/main.ts';",
      'try { await startService(loadConfig(process.env), process.env); } catch (err) { console.log(`refused: ${err.message}`); }',
    ].join('\n');
    const env = { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: String(await freePort()), LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until({ output: () => output, exited, stop: async () => null }, /refused: /);
      const ended = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
      expect(output).toContain(`refused: port ${port} is already in use`);
      expect(ended).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => (taken as Server).close(resolve));
    }
  }, 120_000);

  it('names the variable that moves a port in use, once', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = (taken.address() as { port: number }).port;
    try {
      for (const [variable, env] of [
        ['PORT', { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: String(await freePort()) }],
        ['EMULATOR_PORT', { PORT: String(await freePort()), HOST: '127.0.0.1', EMULATOR_PORT: String(port) }],
      ] as const) {
        const started = startMain(env, false);
        expect(await started.exited).toBe(1);
        const mentions = started
          .output()
          .split('\n')
          .filter((line) => line.includes(String(port)) && /in use/.test(line));
        expect(mentions).toHaveLength(1);
        const line = JSON.parse(mentions[0]!) as { level: string; msg: string };
        expect(line.level).toBe('fatal');
        expect(line.msg).toBe(
          `could not start: port ${port} is already in use: stop what listens there, or set ${variable} to another port ` +
            `(${variable}=0 picks a free one)`,
        );
      }
    } finally {
      await new Promise((resolve) => (taken as Server).close(resolve));
    }
  }, 120_000);
});

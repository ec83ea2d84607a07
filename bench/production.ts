/**
 * 7. The production build as NAIS runs it (`npm run build`, then `node dist/main.js` with NODE_ENV=production,
 * the variables NAIS injects, and Valkey as NAIS gives it: TLS, its readwrite user): from spawn until
 * /internal/isready answers, its resident memory idle, and its peak (the kernel's high-water mark, VmHWM)
 * during cached app-token load. The baseline, in the same rounds: a bare node:http server's start and memory.
 * These figures set the manifest's memory request and limit (.nais/app.yaml, BENCHMARKS.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startEmulator } from '../packages/entra-emulator/src/index.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { fmt, freePort, heading, line, load } from './lib.js';

const TARGET = 'dev-gcp:nais:azure-token-generator';
/** The baseline: the smallest Node.js HTTP server, as plain JavaScript (no loader to start). */
const BARE = "require('node:http').createServer((q, s) => s.end('x')).listen(Number(process.env.PORT), '127.0.0.1')";
/** Audiences whose app tokens are cached before the load, and then asked for in turn: BENCH_AUDIENCES (1,000). */
const AUDIENCES = Number(process.env.BENCH_AUDIENCES ?? 1_000);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (kib: number) => `${fmt(kib / 1024, 1)} MiB`;

/** VmRSS and VmHWM of a process, in KiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

export interface Started {
  pid: number;
  readyMs: number;
  url: string;
  stop(): Promise<void>;
}

/** Spawns `node args` with `env` and waits for `path` to answer 200; standard output goes nowhere, as in bench/lib.ts. */
async function start(args: string[], env: Record<string, string>, path: string): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH!, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited before it was ready:\n${errors}`);
    const status = await fetch(`${url}${path}`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) break;
    if (performance.now() - started > 30_000) throw new Error(`${args.join(' ')} was not ready in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const readyMs = performance.now() - started;
  return {
    pid: child.pid!,
    readyMs,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 3_000));

/**
 * What the production build runs with, as NAIS gives it: the build made afresh, the identity provider (the
 * emulator, in this process, as Entra ID would be elsewhere) and Valkey (TLS, its readwrite user).
 */
export interface ProductionSetting {
  /** Starts `node dist/main.js` with `env` and waits until it is ready. */
  start(): Promise<Started>;
  close(): Promise<void>;
}

export async function productionSetting(): Promise<ProductionSetting> {
  if (spawnSync('npm', ['run', 'build'], { stdio: 'ignore' }).status !== 0) throw new Error('npm run build failed');
  const emulator = await startEmulator({ port: 0, logger: false });
  const redis = await startRedis({ nais: true });
  const env = {
    ...(await emulator.environment(TARGET)),
    NAIS_POD_NAME: 'azure-token-generator-bench',
    NAIS_CLIENT_ID: TARGET,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SHUTDOWN_DELAY_SECONDS: '0',
    RATE_LIMIT_MAX: '100000000',
    RATE_LIMIT_FRESH_MAX: '100000000',
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    VALKEY_URI_SESSIONS: redis.url.replace(/^rediss:/, 'valkeys:'),
    VALKEY_USERNAME_SESSIONS: redis.nais!.app.username,
    VALKEY_PASSWORD_SESSIONS: redis.nais!.app.password,
    SESSION_STORE_CA_FILE: redis.nais!.caFile,
  };
  return {
    start: () => start(['dist/main.js'], env, '/internal/isready'),
    close: async () => {
      await redis.close();
      await emulator.close();
    },
  };
}

export async function production(): Promise<void> {
  heading('7. The production build (node dist/main.js) with NAIS variables and Valkey: start, idle and peak memory');
  const rounds = Number(process.env.BENCH_STARTS ?? 10);
  const seconds = Number(process.env.BENCH_M2M_SECONDS ?? 4) * 5;
  const setting = await productionSetting();
  const bare: number[] = [];
  const ours: number[] = [];
  try {
    let bareIdle = 0;
    let idle = 0;
    for (let round = 0; round <= rounds; round++) {
      const baseline = await start(['-e', BARE], {}, '/');
      bareIdle = memoryOf(baseline.pid).rss;
      await baseline.stop();
      const generator = await setting.start();
      if (round === rounds) {
        await settle();
        idle = memoryOf(generator.pid).rss;
      }
      await generator.stop();
      // The first round warms the file cache: not counted.
      if (round === 0) continue;
      bare.push(baseline.readyMs);
      ours.push(generator.readyMs);
    }
    const ratios = ours.map((time, round) => time / bare[round]!);
    line('bare node:http server, spawn to first answer (baseline)', `${fmt(median(bare))} ms (median of ${rounds})`);
    line(
      'production build, spawn to /internal/isready',
      `${fmt(median(ours))} ms, ${fmt(median(ratios), 2)}x the baseline (rounds ${ratios.map((r) => fmt(r, 1)).join(', ')})`,
    );
    line('RSS idle: bare server (baseline) / production build', `${mib(bareIdle)} / ${mib(idle)} (${fmt(idle / bareIdle, 1)}x)`);

    const generator = await setting.start();
    try {
      const bodies = Array.from({ length: AUDIENCES }, (_, i) => `aud=dev-gcp:team-${i}:app`);
      for (const body of bodies) {
        await fetch(`${generator.url}/api/public/m2m`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      }
      await settle();
      const warmed = memoryOf(generator.pid).rss;
      let next = 0;
      const result = await load({
        url: generator.url,
        connections: 50,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/api/public/m2m',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            setupRequest: (request) => ({ ...request, body: bodies[next++ % AUDIENCES]! }),
          },
        ],
      });
      const after = memoryOf(generator.pid);
      line(`RSS with ${fmt(AUDIENCES)} app tokens cached, idle`, mib(warmed));
      line(
        `RSS peak (VmHWM) under cached app-token load, ${seconds} s, 50 connections`,
        `${mib(after.peak)} (${fmt(result.requests.total)} requests, ${fmt(result.requests.average)}/s, ` +
          `${result.non2xx} not 200); RSS after: ${mib(after.rss)}`,
      );
    } finally {
      await generator.stop();
    }
  } finally {
    await setting.close();
  }
}

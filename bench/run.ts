/**
 * Benchmarks, each against a baseline measured in the same run. Run all with `npm run bench`, or
 * some: `npm run bench -- m2m cold emulator login memory flood startup production cli`. Settings:
 * BENCH_M2M_LAUNCHES (3) launches of the cached-token servers, each measured in BENCH_ROUNDS (3) rounds
 * of BENCH_M2M_SECONDS (4) each; BENCH_ROUNDS_EMULATOR (5) of BENCH_TOKENS (6,000) tokens each;
 * BENCH_SECONDS (10) for the login load; BENCH_SOAK_SECONDS (120) for the memory benchmark's steady
 * load; BENCH_FLOOD_POSTS (20,000) and BENCH_FLOOD_LOGINS (15,000) for the emulator's flood;
 * BENCH_STARTS (10) start-ups; BENCH_CLI_ROUNDS (21) command-line calls.
 */
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '../src/config.js';
import { cookieNames } from '../src/paths.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/main.js';
import { MemoryStore, type SessionData } from '../src/session/index.js';
import { Directory } from '../packages/entra-emulator/src/directory.js';
import { submitSignInForm } from '../packages/entra-emulator/src/sign-in-client.js';
import { fmt, freePort, heading, line, load, loadMeasured, startChild, summary, type CpuPerRequest, type LoadResult } from './lib.js';
import { launchChromium } from '../test/helpers/browser.js';
import { startup } from './startup.js';
import { production, productionSetting, type ProductionSetting } from './production.js';
import { flood } from './flood.js';
import { commandLine } from './command-line.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const TSX = ['--import', 'tsx'];
const selected = new Set(process.argv.slice(2));
const wanted = (name: string) => selected.size === 0 || selected.has(name);

async function bareServer() {
  const port = await freePort();
  const child = await startChild([...TSX, 'bench/servers/bare.ts'], { PORT: String(port) }, `http://127.0.0.1:${port}/`);
  return { url: `http://127.0.0.1:${port}`, stop: child.stop, pid: child.process.pid! };
}

/**
 * Figure 1's baseline: a minimal Fastify server parsing the same form body and answering `token`; with
 * `headers`, also the five headers every answer of the generator must carry.
 */
async function minimalFastify(token: string, headers = false) {
  const port = await freePort();
  const child = await startChild(
    [...TSX, 'bench/servers/fastify-minimal.ts'],
    { PORT: String(port), TOKEN: token, ...(headers ? { HEADERS: 'every answer' } : {}) },
    `http://127.0.0.1:${port}/`,
  );
  return { url: `http://127.0.0.1:${port}`, stop: child.stop, pid: child.process.pid! };
}

/** The generator as `npm start` runs it, with the emulator; its state folder is its own, not the developer's. */
async function generatorServer(extraEnv: Record<string, string> = {}) {
  const port = await freePort();
  const emulatorPort = await freePort();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'bench-state-'));
  const child = await startChild(
    [...TSX, 'src/main.ts'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      EMULATOR_PORT: String(emulatorPort),
      EMULATOR_STATE_DIR: stateDir,
      LOG_LEVEL: 'info',
      // One address asks for everything: its limits are lifted, fresh tokens' included (new audiences are fresh tokens).
      RATE_LIMIT_MAX: '100000000',
      RATE_LIMIT_FRESH_MAX: '100000000',
      EMULATOR_SIGN_IN_RATE_LIMIT: '0',
      ...extraEnv,
    },
    `http://127.0.0.1:${port}/internal/isready`,
  );
  const stop = async () => {
    await child.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${port}`, child: { ...child, stop } };
}

/**
 * 1. Cached app tokens against a minimal Fastify server that parses the same form body and answers a
 * fixed token of the same length, and against a bare node:http server. Every server gets the same
 * request (a POST with the audience as a form) and is measured in turn, in short alternating rounds,
 * because this machine's speed drifts by the minute. The servers are started afresh for each of
 * BENCH_M2M_LAUNCHES launches: how fast one process runs its hot path depends on what its JIT compiler
 * happened to see first, by up to a tenth either way, so one launch of each would measure that luck.
 * The generator runs twice: as `npm start` runs it (through tsx, the emulator in its own process), and as
 * the image runs it (the build, NODE_ENV=production, Valkey, the identity provider in another process),
 * which is what the users of the service reach.
 */
async function m2m() {
  heading('1. Cached app tokens: POST /api/public/m2m at 50 connections, against minimal Fastify and bare node:http (1 KB)');
  const launches = Number(process.env.BENCH_M2M_LAUNCHES ?? 3);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const runs: Record<string, M2mRun[]> = {};
  const setting = await productionSetting();
  try {
    for (let launch = 1; launch <= launches; launch++) {
      const servers = await m2mServers(setting);
      try {
        for (const [name, measured] of Object.entries(await m2mRounds(servers, rounds, launch))) (runs[name] ??= []).push(...measured);
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
  } finally {
    await setting.close();
  }
  m2mReport(runs);
}

interface M2mServer {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

interface M2mRun {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Throughput against the bare server's runs around it. */
  ratio: number;
  /** The server's CPU time per answer, in µs. */
  cpu: number;
  /** Throughput against the minimal Fastify server's in the same round. */
  ofMinimal: number;
  launch: number;
}

const M2M_REQUEST = {
  method: 'POST' as const,
  path: '/api/public/m2m',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: 'aud=dev-gcp:bench:app',
};

/**
 * One launch's servers: bare node:http, minimal Fastify answering the generator's own token (with and without the
 * headers every answer carries), the generator as `npm start` runs it at two log levels, and as the image runs it.
 */
async function m2mServers(setting: ProductionSetting): Promise<M2mServer[]> {
  const bare = await bareServer();
  const generators = await Promise.all(
    ['info', 'debug'].map(async (level) => {
      const generator = await generatorServer({ LOG_LEVEL: level });
      const { url, child } = generator;
      return { name: `generator, LOG_LEVEL=${level}`, url, stop: child.stop, pid: child.process.pid!, token: await m2mToken(url) };
    }),
  );
  const built = await setting.start();
  const fastify = await minimalFastify(generators[0]!.token);
  const withHeaders = await minimalFastify(generators[0]!.token, true);
  return [
    { name: 'bare node:http, 1 KB', ...bare },
    { name: MINIMAL_FASTIFY, ...fastify },
    { name: MINIMAL_WITH_HEADERS, ...withHeaders },
    ...generators,
    { name: AS_THE_IMAGE_RUNS_IT, url: built.url, pid: built.pid, stop: built.stop, token: await m2mToken(built.url) },
  ];
}

/** The first answer for the benchmark's audience: a token fetched from the identity provider, cached from then on. */
async function m2mToken(url: string): Promise<string> {
  const res = await fetch(`${url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:bench:app' }) });
  return res.text();
}

/**
 * `rounds` rounds over one launch's servers. Each round of the others is compared with the mean of the
 * bare server's run before it and after it (the next round's, or one more at the end), so that a drift
 * in the machine's speed during the round weighs on both sides alike.
 */
async function m2mRounds(servers: M2mServer[], rounds: number, launch: number): Promise<Record<string, M2mRun[]>> {
  const seconds = Number(process.env.BENCH_M2M_SECONDS ?? 4);
  // One short run each first, not counted, so that every server has compiled its hot paths.
  for (const server of servers) await load({ url: server.url, connections: 50, duration: 2, requests: [M2M_REQUEST] });
  const measure = async (server: M2mServer) => {
    const result = await loadMeasured(server.pid, { url: server.url, connections: 50, duration: seconds, requests: [M2M_REQUEST] });
    return { ...summary(result), cpu: result.cpu?.server ?? Number.NaN };
  };
  const runs: Record<string, M2mRun[]> = {};
  const [bare, minimal] = [servers[0]!, servers[1]!];
  let before = await measure(bare);
  for (let round = 1; round <= rounds; round++) {
    const measured = [];
    for (const server of servers.slice(1)) measured.push({ server, result: await measure(server) });
    const after = await measure(bare);
    const baseline = (before.rps + after.rps) / 2;
    const minimalRps = measured.find((m) => m.server === minimal)!.result.rps;
    (runs[bare.name] ??= []).push({ ...before, ratio: 1, ofMinimal: before.rps / minimalRps, launch });
    for (const { server, result } of measured) {
      (runs[server.name] ??= []).push({ ...result, ratio: result.rps / baseline, ofMinimal: result.rps / minimalRps, launch });
    }
    line(
      `launch ${launch}, round ${round}`,
      [
        `bare ${fmt(before.rps)} → ${fmt(after.rps)}`,
        ...measured.map(({ server, result }) => `${server.name.replace('generator, ', '')} ${fmt(result.rps)}`),
      ].join(' | '),
    );
    before = after;
  }
  return runs;
}

function m2mReport(runs: Record<string, M2mRun[]>): void {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const names = Object.keys(runs);
  const rounds = (values: number[]) => values.map((v) => fmt(v, 2)).join(', ');
  for (const name of names) {
    const r = runs[name]!;
    line(
      name,
      `median ${fmt(median(r.map((x) => x.rps)))} req/s, p50 ${median(r.map((x) => x.p50))} ms, p99 ` +
        `${median(r.map((x) => x.p99))} ms, non-2xx ${r.reduce((n, x) => n + x.non2xx, 0)}, errors ${r.reduce((n, x) => n + x.errors, 0)}`,
    );
  }
  for (const name of names.slice(1)) line(`median ratio ${name} / bare`, `${fmt(median(runs[name]!.map((x) => x.ratio)), 2)}`);
  // The server's CPU per answer, from /proc: with both cores busy, throughput follows it, and it does not swing with the machine's phase.
  const cpu = (name: string) => median(runs[name]!.map((x) => x.cpu));
  for (const name of names) line(`${name}: CPU per answer`, `${fmt(cpu(name), 1)} µs`);
  for (const name of names.slice(2)) line(`CPU ratio minimal Fastify / ${name}`, fmt(cpu(MINIMAL_FASTIFY) / cpu(name), 2));
  // What the headers every answer must carry cost alone, and what the generator costs beyond them.
  for (const name of names.slice(3)) line(`CPU ratio ${MINIMAL_WITH_HEADERS} / ${name}`, fmt(cpu(MINIMAL_WITH_HEADERS) / cpu(name), 2));
  // The target: a cached token costs no more than Fastify's own request handling of the same body.
  for (const name of names.slice(2)) {
    const r = runs[name]!;
    const perLaunch = [...new Set(r.map((x) => x.launch))].map((launch) =>
      median(r.filter((x) => x.launch === launch).map((x) => x.ofMinimal)),
    );
    const target = name.endsWith('info') || name === AS_THE_IMAGE_RUNS_IT ? '; target at least 0.90' : '';
    const all = r.map((x) => x.ofMinimal);
    line(
      `median ratio ${name} / minimal Fastify`,
      `${fmt(median(all), 2)} (launches: ${rounds(perLaunch)}; rounds: ${rounds(all)}${target})`,
    );
  }
}

const MINIMAL_FASTIFY = 'minimal Fastify, same form body and token';
const MINIMAL_WITH_HEADERS = 'minimal Fastify with the headers of every answer';
// `node dist/main.js` with NODE_ENV=production, NAIS's variables and Valkey; the identity provider in another process.
const AS_THE_IMAGE_RUNS_IT = 'generator as the image runs it';

/** 2. 500 concurrent requests over 50 audiences never asked before. */
async function cold() {
  heading('2. Cold audiences: 500 concurrent requests over 50 new audiences');
  const port = await freePort();
  const env = { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: '0', RATE_LIMIT_MAX: '100000', RATE_LIMIT_FRESH_MAX: '100000' };
  const service = await startService(loadConfig(env), env, { logger: createLogger('warn') });
  const emulator = service.emulator!;
  const send = (aud: string) =>
    fetch(`${service.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud }) }).then((r) => r.status);
  // Baseline: the same 500 requests once all 50 audiences are cached.
  const audiences = Array.from({ length: 500 }, (_, i) => `dev-gcp:cold-${i % 50}:app`);
  const before = emulator.stats.tokenRequests;
  let started = performance.now();
  const statuses = await Promise.all(audiences.map(send));
  const coldMs = performance.now() - started;
  const tokenRequests = emulator.stats.tokenRequests - before;
  started = performance.now();
  await Promise.all(audiences.map(send));
  const warmMs = performance.now() - started;
  line('token requests received by the emulator', `${tokenRequests} (expected 50)`);
  line('all answered 200', String(statuses.every((s) => s === 200)));
  line('time to serve all 500, cold', `${fmt(coldMs)} ms`);
  line('time to serve the same 500, cached (baseline)', `${fmt(warmMs)} ms`);
  line('ratio cold / cached', fmt(coldMs / warmMs, 2));
  await service.close();
}

/**
 * What this machine can sign at most: RS256 signatures with a 2048-bit key per second, one worker
 * thread per core signing as fast as it can, with no HTTP and no load generator.
 */
async function signingCeiling(seconds: number): Promise<number> {
  const code = `
    const { generateKeyPairSync, sign } = require('node:crypto');
    const { parentPort, workerData } = require('node:worker_threads');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = Buffer.alloc(600, 7);
    const end = Date.now() + workerData * 1000;
    let n = 0;
    while (Date.now() < end) { sign('sha256', data, privateKey); n++; }
    parentPort.postMessage(n);`;
  const counts = await Promise.all(
    os.cpus().map(
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(code, { eval: true, workerData: seconds });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

const OIDC_PROVIDER = 'oidc-provider (private_key_jwt, JWT access token)';

/** 3. The emulator's token endpoint against oauth2-mock-server and oidc-provider, in alternating rounds. */
async function emulator() {
  heading(
    '3. Token endpoint: client credentials, emulator and oidc-provider (assertion verified) against oauth2-mock-server (nothing verified)',
  );
  const rounds = Number(process.env.BENCH_ROUNDS_EMULATOR ?? 5);
  const perRun = Number(process.env.BENCH_TOKENS ?? 6000);
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256' };
  const tokenRequest = { method: 'POST' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  const client = new Directory('bench-tenant', {}).clientIdFor('dev-gcp:bench:client');
  /** Token request bodies, each with a client assertion of its own. */
  const assertionsFor = (tokenEndpoint: string, count: number, scope = 'api://dev-gcp.bench.api/.default') => {
    const now = Math.floor(Date.now() / 1000);
    return Promise.all(
      Array.from({ length: count }, async () => {
        const assertion = await new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
          .setIssuer(client)
          .setSubject(client)
          .setAudience(tokenEndpoint)
          .setIssuedAt(now)
          .setNotBefore(now)
          .setExpirationTime(now + 590) // the emulator, like Entra ID, takes assertions of at most 10 minutes
          .sign(privateKey);
        return new URLSearchParams({
          grant_type: 'client_credentials',
          scope,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }).toString();
      }),
    );
  };

  const mockPort = await freePort();
  const mock = await startChild(
    [...TSX, 'bench/servers/mock-server.ts'],
    { PORT: String(mockPort) },
    `http://127.0.0.1:${mockPort}/.well-known/openid-configuration`,
  );
  const servers: { name: string; run: () => Promise<LoadResult & { cpu?: CpuPerRequest }>; stop: () => Promise<void> }[] = [
    {
      name: 'oauth2-mock-server',
      run: () =>
        loadMeasured(mock.process.pid!, {
          url: `http://127.0.0.1:${mockPort}`,
          connections: 50,
          amount: perRun,
          requests: [
            { ...tokenRequest, path: '/token', body: 'grant_type=client_credentials&scope=api%3A%2F%2Fbench%2F.default&client_id=bench' },
          ],
        }),
      stop: mock.stop,
    },
  ];
  // The second baseline: oidc-provider, which verifies a client assertion and signs a JWT as the emulator does.
  const providerPort = await freePort();
  const provider = await startChild(
    [...TSX, 'bench/servers/oidc-provider.ts'],
    { PORT: String(providerPort), BENCH_CLIENT_JWK: JSON.stringify(jwk), BENCH_CLIENT_ID: client, NODE_ENV: 'production' },
    `http://127.0.0.1:${providerPort}/.well-known/openid-configuration`,
  );
  const providerBodies = await assertionsFor(`http://127.0.0.1:${providerPort}/token`, perRun * (rounds + 1), 'api');
  let nextProvider = 0;
  servers.push({
    name: OIDC_PROVIDER,
    run: () =>
      loadMeasured(provider.process.pid!, {
        url: `http://127.0.0.1:${providerPort}`,
        connections: 50,
        amount: perRun,
        requests: [{ ...tokenRequest, path: '/token', setupRequest: (request) => ({ ...request, body: providerBodies[nextProvider++]! }) }],
      }),
    stop: provider.stop,
  });
  // The emulator as it starts (one pool thread per core), and with Node's default pool of four threads.
  for (const pool of [String(Math.max(2, os.availableParallelism())), '4']) {
    const port = await freePort();
    const child = await startChild(
      [...TSX, 'bench/servers/emulator.ts'],
      { PORT: String(port), BENCH_CLIENT_JWK: JSON.stringify(jwk), UV_THREADPOOL_SIZE: pool },
      `http://127.0.0.1:${port}/bench-tenant/v2.0/.well-known/openid-configuration`,
    );
    const tokenEndpoint = `http://localhost:${port}/bench-tenant/oauth2/v2.0/token`;
    // Assertions (each with its own jti: the emulator refuses a replay) are signed before the runs,
    // so that the load generator does no RSA work during them.
    const bodies = await assertionsFor(tokenEndpoint, perRun * (rounds + 1));
    let next = 0;
    servers.push({
      name: `emulator, UV_THREADPOOL_SIZE=${pool}${pool === '4' ? " (Node's default)" : ' (its default)'}`,
      run: () =>
        loadMeasured(child.process.pid!, {
          url: `http://127.0.0.1:${port}`,
          connections: 50,
          amount: perRun,
          requests: [
            {
              ...tokenRequest,
              path: '/bench-tenant/oauth2/v2.0/token',
              setupRequest: (request) => ({ ...request, body: bodies[next++]! }),
            },
          ],
        }),
      stop: child.stop,
    });
  }

  // One run each first, not counted, so that every server has compiled its hot paths.
  for (const server of servers) await server.run();
  const runs: Record<string, TokenRun[]> = {};
  const ceilings: number[] = [];
  // As for the cached tokens: each emulator round is compared with the mean of the mock server's
  // runs on both sides of it.
  const mockRun = async () => {
    const result = await servers[0]!.run();
    return { rps: summary(result).rps, p99: result.latency.p99, non2xx: result.non2xx, ratio: 1, cpu: result.cpu };
  };
  let before = await mockRun();
  for (let round = 1; round <= rounds; round++) {
    ceilings.push(await signingCeiling(3));
    const measured = [];
    for (const server of servers.slice(1)) {
      const result = await server.run();
      measured.push({ server, rps: summary(result).rps, p99: result.latency.p99, non2xx: result.non2xx, cpu: result.cpu });
    }
    const after = await mockRun();
    const baseline = (before.rps + after.rps) / 2;
    (runs[servers[0]!.name] ??= []).push(before);
    for (const { server, ...r } of measured) (runs[server.name] ??= []).push({ ...r, ratio: r.rps / baseline });
    line(
      `round ${round}`,
      `signing ceiling ${fmt(ceilings.at(-1)!)}/s | oauth2-mock-server ${fmt(before.rps)} → ${fmt(after.rps)} | ` +
        `${measured.map((m) => `${m.server.name} ${fmt(m.rps)}`).join(' | ')}`,
    );
    before = after;
  }
  await Promise.all(servers.map((s) => s.stop()));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const ceiling = median(ceilings);
  line(`signing ceiling (${os.cpus().length} threads, no HTTP)`, `${fmt(ceiling)} RS256 signatures/s`);
  for (const server of servers) {
    const r = runs[server.name]!;
    const rps = median(r.map((x) => x.rps));
    line(
      server.name,
      `median ${fmt(rps)} tokens/s (${fmt(rps / ceiling, 2)} of the ceiling), p99 ${median(r.map((x) => x.p99))} ms, non-2xx ` +
        `${r.reduce((n, x) => n + x.non2xx, 0)}`,
    );
  }
  for (const server of servers.slice(1)) {
    const ratios = runs[server.name]!.map((x) => x.ratio);
    const target = server.name === OIDC_PROVIDER ? '' : '; target at least 2.0';
    line(
      `median ratio ${server.name} / oauth2-mock-server`,
      `${fmt(median(ratios), 2)} (rounds: ${ratios.map((v) => fmt(v, 2)).join(', ')}${target})`,
    );
  }
  // Against oidc-provider, round by round: it ran in the same round as each emulator.
  for (const server of servers.slice(1).filter((s) => s.name.startsWith('emulator'))) {
    const ratios = runs[server.name]!.map((x, round) => x.rps / runs[OIDC_PROVIDER]![round]!.rps);
    line(`median ratio ${server.name} / oidc-provider`, `${fmt(median(ratios), 2)} (rounds: ${ratios.map((v) => fmt(v, 2)).join(', ')})`);
  }
  cpuLines(runs);
  const mockRps = median(runs['oauth2-mock-server']!.map((x) => x.rps));
  line('2.0 x oauth2-mock-server, as a share of the ceiling', fmt((2 * mockRps) / ceiling, 2));
  await withWrk(rounds, mockPort, assertionsFor, jwk);
}

interface TokenRun {
  rps: number;
  p99: number;
  non2xx: number;
  ratio: number;
  cpu?: CpuPerRequest | undefined;
}

/**
 * The CPU each server's process (all its threads) and the load generator spent per token, and
 * oauth2-mock-server's sum over each: with both cores busy, tokens per second follow that ratio.
 */
function cpuLines(runs: Record<string, TokenRun[]>) {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  /** The median CPU per token of a server and of the load generator in its runs, summed. */
  const cpu = (name: string) => {
    const measured = runs[name]!.flatMap((run) => (run.cpu ? [run.cpu] : []));
    if (measured.length === 0) return undefined;
    const server = median(measured.map((c) => c.server));
    const loadGenerator = median(measured.map((c) => c.loadGenerator));
    return { server, loadGenerator, sum: server + loadGenerator };
  };
  const mock = cpu('oauth2-mock-server');
  if (!mock) return line('CPU per token', 'not measured (no /proc)');
  for (const name of Object.keys(runs)) {
    const own = cpu(name)!;
    const versus = name === 'oauth2-mock-server' ? '' : ` | oauth2-mock-server's sum / this sum ${fmt(mock.sum / own.sum, 2)}`;
    line(`CPU per token: ${name}`, `server ${fmt(own.server)} µs + load generator ${fmt(own.loadGenerator)} µs${versus}`);
  }
}

/**
 * The same comparison with wrk (Debian's package) as the load generator, when it is installed:
 * autocannon spends about 100 µs of CPU per token request on the two cores the servers share,
 * wrk a fraction of that, so its figures are more of the servers and less of the load generator.
 */
async function withWrk(
  rounds: number,
  mockPort: number,
  assertionsFor: (tokenEndpoint: string, count: number) => Promise<string[]>,
  jwk: object,
) {
  if (spawnSync('wrk', ['--version']).error) {
    line('with wrk as the load generator', 'skipped: wrk is not installed (apt-get install wrk)');
    return;
  }
  const seconds = 3;
  const port = await freePort();
  const child = await startChild(
    [...TSX, 'bench/servers/emulator.ts'],
    { PORT: String(port), BENCH_CLIENT_JWK: JSON.stringify(jwk), UV_THREADPOOL_SIZE: String(Math.max(2, os.availableParallelism())) },
    `http://127.0.0.1:${port}/bench-tenant/v2.0/.well-known/openid-configuration`,
  );
  const mock = await startChild(
    [...TSX, 'bench/servers/mock-server.ts'],
    { PORT: String(mockPort) },
    `http://127.0.0.1:${mockPort}/.well-known/openid-configuration`,
  );
  const tokenEndpoint = `http://localhost:${port}/bench-tenant/oauth2/v2.0/token`;
  const bodiesFile = path.join(os.tmpdir(), `bench-assertions-${process.pid}.txt`);
  const wrk = (url: string, env: Record<string, string>) => {
    const out = execFileSync('wrk', ['-t1', '-c50', `-d${seconds}s`, '-s', 'bench/wrk-bodies.lua', url], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    const [requests, micros, non2xx, p99] = (/RESULT (\d+) (\d+) (\d+) (\d+)/.exec(out) ?? []).slice(1).map(Number);
    if (requests === undefined || micros === undefined) throw new Error(`wrk printed no result:\n${out}`);
    return { rps: requests / (micros / 1e6), non2xx: non2xx ?? 0, p99: (p99 ?? 0) / 1000 };
  };
  const results: { mock: number; emulator: number; ratio: number; non2xx: number }[] = [];
  for (let round = 0; round <= rounds; round++) {
    // Enough fresh assertions for the fastest the emulator can go, signed before the run.
    writeFileSync(bodiesFile, `${(await assertionsFor(tokenEndpoint, seconds * 5000)).join('\n')}\n`);
    const m = wrk(`http://127.0.0.1:${mockPort}/token`, {
      WRK_BODY: 'grant_type=client_credentials&scope=api%3A%2F%2Fbench%2F.default&client_id=bench',
    });
    const e = wrk(`http://127.0.0.1:${port}/bench-tenant/oauth2/v2.0/token`, { WRK_BODIES: bodiesFile });
    // Round 0 warms both servers up and is not counted.
    if (round > 0) {
      results.push({ mock: m.rps, emulator: e.rps, ratio: e.rps / m.rps, non2xx: m.non2xx + e.non2xx });
      line(
        `wrk round ${round}`,
        `oauth2-mock-server ${fmt(m.rps)} | emulator (one pool thread per core) ${fmt(e.rps)} | ratio ${fmt(e.rps / m.rps, 2)}`,
      );
    }
  }
  rmSync(bodiesFile, { force: true });
  await child.stop();
  await mock.stop();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  line(
    'with wrk: median tokens/s',
    `oauth2-mock-server ${fmt(median(results.map((r) => r.mock)))}, emulator ${fmt(median(results.map((r) => r.emulator)))}, ` +
      `non-2xx ${results.reduce((n, r) => n + r.non2xx, 0)}`,
  );
  line('with wrk: median ratio emulator / oauth2-mock-server', `${fmt(median(results.map((r) => r.ratio)), 2)} (target at least 2.0)`);
}

/** 4. Login and on-behalf-of round trips. */
async function loginBench() {
  heading('4. Login and on-behalf-of: full round trips without a browser, and one in headless Chromium');
  // Every round trip is a fresh token and a login from the one address: the logins' limit is lifted too.
  const generator = await generatorServer({ LOG_LEVEL: 'warn', RATE_LIMIT_LOGIN_MAX: '100000000' });
  const bare = await bareServer();
  const concurrency = 10;
  let browsers = 0;
  const roundTrip = async () => {
    const ua = { 'user-agent': `bench-${++browsers}` };
    const start = await fetch(`${generator.url}/oauth2/login?redirect=/api/obo?aud=dev-gcp:bench:api`, { redirect: 'manual', headers: ua });
    // The sealed login state, not the login-loop guard's cookie that comes with it.
    const loginCookie = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => cookieNames(generator.url).isLogin(c.slice(0, c.indexOf('='))))!;
    const authorize = new URL(start.headers.get('location')!);
    const signedIn = await submitSignInForm(authorize.href, {
      navIdent: 'Z990001',
      name: 'Kari Nordmann',
      email: 'kari@trygdeetaten.no',
      groups: '',
    });
    const callback = await fetch(signedIn.headers.get('location')!.replace('localhost', '127.0.0.1'), {
      headers: { cookie: loginCookie, ...ua },
      redirect: 'manual',
    });
    const sessionCookie = callback.headers.getSetCookie().find((c) => /^(__Host-)?tg_session=/.test(c));
    if (!sessionCookie)
      throw new Error(
        `the callback answered ${callback.status}: ${(await callback.text())
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(-600)}`,
      );
    const session = sessionCookie.split(';')[0]!;
    const obo = await fetch(`${generator.url}/api/obo?aud=dev-gcp:bench:api`, {
      headers: { cookie: session, accept: 'application/json', ...ua },
    });
    if (obo.status !== 200) throw new Error(`obo answered ${obo.status}`);
    await obo.arrayBuffer();
  };
  const sameRequestsToBare = async () => {
    for (let i = 0; i < 5; i++) await (await fetch(bare.url)).arrayBuffer();
  };
  const measure = async (fn: () => Promise<void>) => {
    let done = 0;
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          await fn();
          done++;
        }
      }),
    );
    return done / SECONDS;
  };
  const logins = await measure(roundTrip);
  const baseline = await measure(sameRequestsToBare);
  line('login + on-behalf-of round trips per second', `${fmt(logins, 1)} (5 HTTP requests each, ${concurrency} at a time)`);
  line('5 requests to the bare server per second (baseline)', fmt(baseline, 1));
  line('ratio', fmt(logins / baseline, 3));

  try {
    const browser = await launchChromium();
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const started = performance.now();
      const wanted = `${generator.url.replace('127.0.0.1', 'localhost')}/api/obo?aud=dev-gcp:bench:api`;
      await page.goto(wanted);
      await page.locator('button:has-text("Sign in")').click();
      await page.waitForURL(wanted);
      await page.locator('#token-response').textContent();
      durations.push(performance.now() - started);
      await context.close();
    }
    await browser.close();
    durations.sort((a, b) => a - b);
    line(
      'headless Chromium round trip, median of 5',
      `${fmt(durations[2]!)} ms (first ${fmt(durations[0]!)} ms, slowest ${fmt(durations[4]!)} ms)`,
    );
  } catch (err) {
    line('headless Chromium round trip', `not measured: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  await bare.stop();
  await generator.child.stop();
}

function sessionData(i: number): SessionData {
  const token = (n: number) => `eyJ${'a'.repeat(n)}.${i}`;
  return {
    user: {
      oid: randomUUID(),
      name: `Employee ${i}`,
      preferredUsername: `employee${i}@trygdeetaten.no`,
      navIdent: `Z${String(i).padStart(6, '0')}`,
      tid: randomUUID(),
    },
    accessToken: token(1500),
    accessTokenExpiresAt: Date.now() + 3_600_000,
    accessTokenObtainedAt: Date.now(),
    refreshToken: `r${'b'.repeat(900)}${i}`,
    idToken: token(1100),
    createdAt: Date.now(),
    expiresAt: Date.now() + 36_000_000,
  };
}

async function settle() {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage();
}

/** 5. Memory: 10,000 sessions, and a steady load. */
async function memory() {
  heading('5. Memory');
  if (!(globalThis as { gc?: () => void }).gc) line('note', 'run with --expose-gc (npm run bench does) for exact heap figures');
  const before = await settle();
  const store = new MemoryStore();
  for (let i = 0; i < 10_000; i++) await store.set(`session-${i}`, sessionData(i));
  const after = await settle();
  const mb = (n: number) => `${fmt(n / 1024 / 1024, 1)} MB`;
  line('heap, empty store (baseline)', mb(before.heapUsed));
  line(
    'heap, 10,000 sessions',
    `${mb(after.heapUsed)} (+${mb(after.heapUsed - before.heapUsed)}, ${fmt((after.heapUsed - before.heapUsed) / 10_000)} bytes a session)`,
  );
  line('RSS, empty store / 10,000 sessions', `${mb(before.rss)} / ${mb(after.rss)}`);
  await store.close();

  const generator = await generatorServer({ LOG_LEVEL: 'warn' });
  const sample = async () => {
    const text = await (await fetch(`${generator.url}/internal/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes') };
  };
  // Warm up, then a steady mixed load: cached app tokens and new audiences.
  await load({
    url: generator.url,
    connections: 10,
    duration: 5,
    requests: [
      {
        method: 'POST',
        path: '/api/public/m2m',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'aud=dev-gcp:soak:app',
      },
    ],
  });
  const start = await sample();
  const samples: { rss: number; heap: number }[] = [];
  let audience = 0;
  const timer = setInterval(() => void sample().then((s) => samples.push(s)), 2_000);
  await load({
    url: generator.url,
    connections: 10,
    duration: SOAK_SECONDS,
    overallRate: 1000,
    requests: [
      {
        method: 'POST',
        path: '/api/public/m2m',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request) => ({ ...request, body: `aud=dev-gcp:soak-${audience++ % 2000}:app` }),
      },
    ],
  });
  clearInterval(timer);
  const end = await sample();
  const half = Math.floor(samples.length / 2);
  const avg = (items: { heap: number }[]) => items.reduce((a, b) => a + b.heap, 0) / Math.max(1, items.length);
  line(
    `steady load, ${SOAK_SECONDS} s at 1,000 req/s, 2,000 audiences`,
    `RSS ${mb(start.rss)} -> ${mb(end.rss)}, heap ${mb(start.heap)} -> ${mb(end.heap)}`,
  );
  line('heap, first half / second half of the run (average)', `${mb(avg(samples.slice(0, half)))} / ${mb(avg(samples.slice(half)))}`);
  // The lowest heap of each half is what is left after the collections in it: a leak raises it.
  const floor = (items: { heap: number }[]) => Math.min(...items.map((x) => x.heap));
  line(
    'heap, lowest in the first half / the second half',
    `${mb(floor(samples.slice(0, half)))} / ${mb(floor(samples.slice(half)))} (${samples.length} samples, every 2 s)`,
  );
  await generator.child.stop();
}

process.stdout.write(
  `# Benchmarks\n${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${fmt(os.totalmem() / 1024 ** 3)} GiB, Node.js ` +
    `${process.version}, ${new Date().toISOString()}\n`,
);
if (wanted('m2m')) await m2m();
if (wanted('cold')) await cold();
if (wanted('emulator')) await emulator();
if (wanted('login')) await loginBench();
if (wanted('memory')) await memory();
if (wanted('flood')) await flood();
if (wanted('startup')) await startup();
if (wanted('production')) await production();
if (wanted('cli')) await commandLine();
process.exit(0);

/**
 * The fault run: two replicas sharing one Redis, the emulator behind a fault proxy, steady mixed load
 * (cached and fresh app tokens, on-behalf-of for many sessions, session info), while the identity
 * provider, Redis and a replica are broken in turn. Prints what the service answered: requests,
 * failures by kind, sessions lost and refreshes per session.
 *
 *   npm run faults                                   # 30 sessions, phases of 20 s, tokens of 60 s
 *   FAULTS_PHASE_SECONDS=3 FAULTS_SESSIONS=5 FAULTS_TOKEN_SECONDS=6 npm run faults   # a short check
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService, type Service } from '../src/main.js';
import { startFaultProxy, type FaultMode, type FaultProxy } from '../test/helpers/fault-proxy.js';
import { login } from '../test/helpers/http-login.js';
import { startRedis, type TestRedis } from '../test/helpers/redis-server.js';
import { fmt, freePort, heading, line } from './lib.js';

const number = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const PHASE_MS = number('FAULTS_PHASE_SECONDS', 20) * 1000;
const SESSIONS = number('FAULTS_SESSIONS', 30);
const TOKEN_SECONDS = number('FAULTS_TOKEN_SECONDS', 60);
const WORKERS = number('FAULTS_CONCURRENCY', 10);
const IDP_TIMEOUT_MS = 1000;

interface World {
  redis: TestRedis;
  proxy: FaultProxy;
  replicas: (Service | undefined)[];
  env: Record<string, string>;
  first: Service;
  cookies: string[];
}

/** What each phase breaks, and mends at its end. */
const PHASES: { name: string; start(world: World): Promise<void>; end(world: World): Promise<void> }[] = [
  { name: 'all well', start: async () => {}, end: async () => {} },
  idpPhase('identity provider slower than the timeout', 'slow'),
  idpPhase('identity provider answering after the timeout', 'late'),
  idpPhase('identity provider refusing connections', 'down'),
  idpPhase('identity provider answering garbage', 'garbage'),
  { name: 'Redis stopped', start: (world) => world.redis.stop(), end: (world) => world.redis.restart() },
  {
    name: 'second replica stopped',
    start: async (world) => {
      const stopping = world.replicas[1];
      world.replicas[1] = undefined;
      await stopping?.close();
    },
    end: async (world) => {
      world.replicas[1] = await startReplica(world.env, world.first);
    },
  },
  { name: 'all well again', start: async () => {}, end: async () => {} },
];

function idpPhase(name: string, mode: FaultMode) {
  return {
    name,
    start: async (world: World) => {
      world.proxy.slowMs = IDP_TIMEOUT_MS * 3;
      world.proxy.mode = mode;
    },
    end: async (world: World) => {
      world.proxy.mode = 'pass';
    },
  };
}

const silent = () => createLogger('silent');

async function startReplica(env: Record<string, string>, first: Service): Promise<Service> {
  const own = { ...env, PORT: String(await freePort()) };
  return startService({ generator: loadConfig(own).generator, identity: first.identity }, own, { logger: silent() });
}

async function setUp(): Promise<World> {
  const redis = await startRedis();
  const emulatorPort = await freePort();
  const proxyPort = await freePort();
  const proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
  const env = {
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    IDP_TIMEOUT_MS: String(IDP_TIMEOUT_MS),
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_FRESH_MAX: '1000000',
    LOG_LEVEL: 'silent',
  };
  const firstEnv = { ...env, PORT: String(await freePort()), EMULATOR_PORT: '0' };
  const first = await startService(loadConfig(firstEnv), firstEnv, {
    logger: silent(),
    emulator: { port: emulatorPort, publicUrl: `http://localhost:${proxyPort}`, accessTokenLifetimeSeconds: TOKEN_SECONDS, logger: false },
  });
  const second = await startReplica(env, first);
  const cookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) cookies.push(await login(first.url));
  return { redis, proxy, replicas: [first, second], env, first, cookies };
}

const KINDS = ['cached app token', 'fresh app token', 'on-behalf-of', 'session info'] as const;

/** One request of the mix to a replica that runs: its kind, and its outcome ("200", "503 session_store_unavailable"). */
async function oneRequest(world: World, n: number): Promise<string> {
  const running = world.replicas.filter((replica): replica is Service => replica !== undefined);
  const base = running[n % running.length]!.url;
  const cookie = world.cookies[n % world.cookies.length]!;
  const kind = KINDS[n % KINDS.length]!;
  const json = { accept: 'application/json' };
  const request =
    kind === 'cached app token'
      ? fetch(`${base}/api/public/m2m`, {
          method: 'POST',
          headers: json,
          body: new URLSearchParams({ aud: `dev-gcp:cached:app-${n % 5}` }),
        })
      : kind === 'fresh app token'
        ? fetch(`${base}/api/public/m2m`, {
            method: 'POST',
            headers: { ...json, 'cache-control': 'no-cache' },
            body: new URLSearchParams({ aud: 'dev-gcp:fresh:app' }),
          })
        : kind === 'on-behalf-of'
          ? fetch(`${base}/api/obo?aud=dev-gcp:team:app-${n % 3}`, { headers: { ...json, cookie } })
          : fetch(`${base}/oauth2/session`, { headers: { cookie } });
  try {
    const res = await request;
    const body = await res.text();
    if (res.status === 200)
      return kind === 'session info' && !(JSON.parse(body) as { authenticated: boolean }).authenticated ? `${kind}: session lost` : '200';
    const code = /"error":"([a-z_]+)"/.exec(body)?.[1];
    return `${kind}: ${res.status}${code ? ` ${code}` : ''}`;
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
    return `${kind}: no answer (${(cause && 'code' in cause ? String(cause.code) : undefined) ?? cause?.message ?? String(err)})`;
  }
}

/** Keeps WORKERS requests in flight until `until`, counting outcomes by phase and kind. */
async function drive(world: World, phase: () => string, until: () => boolean, counts: Map<string, Map<string, number>>): Promise<void> {
  let n = 0;
  const worker = async () => {
    while (!until()) {
      const outcome = await oneRequest(world, n++);
      const byKind = counts.get(phase()) ?? new Map<string, number>();
      byKind.set(outcome, (byKind.get(outcome) ?? 0) + 1);
      counts.set(phase(), byKind);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
}

async function main(): Promise<void> {
  const world = await setUp();
  const counts = new Map<string, Map<string, number>>();
  let current = PHASES[0]!.name;
  let done = false;
  const started = Date.now();
  const load = drive(
    world,
    () => current,
    () => done,
    counts,
  );
  for (const phase of PHASES) {
    current = phase.name;
    await phase.start(world);
    await new Promise((resolve) => setTimeout(resolve, PHASE_MS));
    await phase.end(world);
  }
  done = true;
  await load;
  const seconds = (Date.now() - started) / 1000;
  await report(world, counts, seconds);
  for (const replica of world.replicas) await replica?.close();
  await world.proxy.close();
  await world.redis.close();
}

async function report(world: World, counts: Map<string, Map<string, number>>, seconds: number): Promise<void> {
  heading(
    `Fault run: 2 replicas, 1 Redis, ${SESSIONS} sessions, phases of ${fmt(PHASE_MS / 1000)} s, employee tokens of ${TOKEN_SECONDS} s`,
  );
  let total = 0;
  for (const [phase, byKind] of counts) {
    const requests = [...byKind.values()].reduce((a, b) => a + b, 0);
    total += requests;
    const failures = [...byKind].filter(([kind]) => kind !== '200').map(([kind, count]) => `${kind}: ${fmt(count)}`);
    line(phase, `${fmt(requests)} requests${failures.length ? `; ${failures.join(', ')}` : ', no failure'}`);
  }
  line('requests in all', `${fmt(total)} in ${fmt(seconds, 1)} s`);
  let lost = 0;
  for (const cookie of world.cookies) {
    const res = await fetch(`${world.first.url}/oauth2/session`, { headers: { cookie } });
    if (!((await res.json()) as { authenticated: boolean }).authenticated) lost++;
  }
  line('sessions lost at the end', `${fmt(lost)} of ${fmt(SESSIONS)}`);
  const refreshes = world.first.emulator?.stats.byGrant.refresh_token ?? 0;
  const periods = seconds / TOKEN_SECONDS;
  line('refreshes per session', `${fmt(refreshes / SESSIONS, 2)} (${fmt(refreshes / SESSIONS / periods, 2)} per token lifetime)`);
}

await main();

/**
 * A real redis-server for a test, on a free port, with an append-only file so that what was
 * written survives a stop and a restart, as a production Redis with persistence does. With `nais`
 * it stands in for the Valkey NAIS gives an app: TLS only, with a certificate from a CA made here,
 * the default user off, and the app's user limited to what NAIS's `readwrite` access allows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { makeCertificates } from '../../packages/entra-emulator/src/tls.js';
import { freePort } from './ports.js';

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

/** The commands NAIS's `readwrite` access gives an app's Valkey user: its ACL categories, exactly. */
export const NAIS_READWRITE = '-@all +@connection +@scripting +@pubsub +@transaction +@write +@read';

export interface Credentials {
  username: string;
  password: string;
}

/** What a Redis started with `nais` offers besides its URL. */
export interface NaisRedis {
  /** The CA certificate's file, for SESSION_STORE_CA_FILE or NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** The app's user, as VALKEY_USERNAME_SESSIONS and VALKEY_PASSWORD_SESSIONS give it. */
  app: Credentials;
  /** A client as an administrator, who may run anything (INFO, CONFIG, ACL). */
  admin(): Promise<Redis>;
}

export interface TestRedis {
  url: string;
  port: number;
  /** Set when started with `nais`. */
  nais?: NaisRedis;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server as SIGSTOP does, connections open and unanswered, until `resume`: Redis hung, or cut off without a reset. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

async function answersPing(port: number, ca: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = ca ? connectTls({ port, host: '127.0.0.1', ca }) : connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once(ca ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      // A server that asks for a password answers too: it is up.
      resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** TLS only, the default user off, an administrator and the app's user with NAIS's readwrite categories. */
async function naisArguments(dir: string, port: number) {
  const { cert, key, caFile } = await makeCertificates({ caFile: join(dir, 'ca.pem') }, undefined);
  await writeFile(join(dir, 'cert.pem'), cert);
  await writeFile(join(dir, 'key.pem'), key, { mode: 0o600 });
  const app = { username: 'azure-token-generator', password: randomBytes(16).toString('hex') };
  const admin = { username: 'admin', password: randomBytes(16).toString('hex') };
  const args = [
    ...['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no'],
    ...['--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', caFile!],
    ...['--user', 'default', 'off'],
    ...['--user', admin.username, 'on', `>${admin.password}`, '~*', '&*', '+@all'],
    ...['--user', app.username, 'on', `>${app.password}`, '~*', '&*', ...NAIS_READWRITE.split(' ')],
  ];
  const ca = await readFile(caFile!, 'utf8');
  const nais: NaisRedis = {
    caFile: caFile!,
    app,
    admin: async () => {
      const client = new Redis({ host: '127.0.0.1', port, ...admin, tls: { ca }, lazyConnect: true });
      await client.connect();
      return client;
    },
  };
  return { args, nais, ca };
}

/**
 * `password`: the server asks clients for it (`requirepass`), as a production Redis does. `nais`: as NAIS's Valkey (above).
 * `args`: further redis-server arguments, at every start.
 */
export async function startRedis(options: { password?: string; nais?: boolean; args?: string[] } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'redis-test-'));
  const nais = options.nais ? await naisArguments(dir, port) : undefined;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(
      REDIS_SERVER,
      [
        ...(nais ? nais.args : ['--port', String(port)]),
        ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
        ...['--daemonize', 'no', '--loglevel', 'warning'],
        ...(options.password ? ['--requirepass', options.password] : []),
        ...(options.args ?? []),
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await answersPing(port, nais?.ca)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
      // A paused server ends only once it runs again.
      running.kill('SIGCONT');
    });
  };

  await start();
  return {
    url: `${nais ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    ...(nais ? { nais: nais.nais } : {}),
    stop,
    restart: start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The commands the server ran since CONFIG RESETSTAT, by INFO commandstats, each looked up in its ACL
 * categories: `refused` holds those NAIS's readwrite user may not run, those the server refused and
 * what ACL LOG holds for `username`. `admin` must have sent only the RESETSTAT since.
 */
export async function commandsRun(admin: Redis, username: string): Promise<{ allowed: string[]; refused: string[] }> {
  const stats = (await admin.info('commandstats'))
    .split('\r\n')
    .map((line) => /^cmdstat_([^:]+):calls=(\d+).*rejected_calls=(\d+)/.exec(line))
    .filter((match) => match !== null)
    .map(([, name, , rejected]) => ({ name: name!, rejected: Number(rejected) }))
    .filter(({ name }) => name !== 'config|resetstat');
  const categories = new Set(
    NAIS_READWRITE.split(' ')
      .filter((rule) => rule.startsWith('+'))
      .map((rule) => rule.slice(1)),
  );
  const allowed: string[] = [];
  const refused: string[] = [];
  for (const { name, rejected } of stats) {
    const [command, subcommand] = name.split('|');
    const [info] = (await admin.call('COMMAND', 'INFO', command!)) as [unknown[]];
    const entry = subcommand ? (info[9] as unknown[][]).find((sub) => sub[0] === name)! : info;
    const ok = (entry[6] as string[]).some((category) => categories.has(category)) && rejected === 0;
    (ok ? allowed : refused).push(name);
  }
  const log = (await admin.call('ACL', 'LOG')) as unknown[][];
  for (const entry of log) {
    const fields = Object.fromEntries(Array.from({ length: entry.length / 2 }, (_, i) => [entry[2 * i], entry[2 * i + 1]]));
    if (fields.username === username) refused.push(`ACL LOG: ${String(fields.object)}`);
  }
  return { allowed, refused };
}

import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

let emulator: Emulator;
let proxy: FaultProxy;

beforeAll(async () => {
  const emulatorPort = await freePort();
  const proxyPort = await freePort();
  proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
  emulator = await startEmulator({ port: emulatorPort, publicUrl: proxy.url });
  emulator.registerClient({ target: 'dev-gcp:nais:azure-token-generator', secrets: ['test-secret-for-shutdown'] });
});

afterAll(async () => {
  await emulator?.close();
  await proxy?.close();
});

interface Running {
  base: string;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** Sends SIGTERM and returns once the service says it is shutting down. */
  terminate(): Promise<void>;
}

/** The readiness endpoint's status, 0 when nothing answers. */
const readiness = (base: string) =>
  fetch(`${base}/internal/isready`).then(
    (r) => r.status,
    () => 0,
  );

/** The service as a process of its own (src/main.ts), against the emulator through the proxy, once it is ready. */
async function startProcess(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      // Info, for the line that says it began shutting down; requests are logged at debug only.
      LOG_LEVEL: 'info',
      AZURE_APP_CLIENT_ID: emulator.clientIdFor('dev-gcp:nais:azure-token-generator'),
      AZURE_APP_CLIENT_SECRET: 'test-secret-for-shutdown',
      AZURE_APP_WELL_KNOWN_URL: emulator.wellKnownUrl,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if ((await readiness(base)) === 200) break;
    if (Date.now() > deadline) throw new Error(`the service did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const terminate = async () => {
    child.kill('SIGTERM');
    // Logged in the same turn as shutdown begins (readiness false, the server closing).
    await waitFor(() => /"msg":"shutting down"/.test(output), { what: 'the service to say it is shutting down' });
  };
  return { base, port, output: () => output, exited, kill: (signal) => child.kill(signal), terminate };
}

/** Resolves once the fault proxy has seen the service's request for a token, from `since` (a count of its requests) on. */
function tokenRequestSeen(since: number): Promise<unknown> {
  return waitFor(() => proxy.requests.slice(since).some((r) => r.path.endsWith('/oauth2/v2.0/token')), {
    what: "the service's token request to reach the identity provider",
  });
}

describe('SIGTERM', () => {
  it('turns readiness false first, lets an in-flight request finish, then exits', async () => {
    const service = await startProcess({ SHUTDOWN_DELAY_SECONDS: '2' });
    const base = service.base;

    proxy.mode = 'slow';
    proxy.slowMs = 3_000;
    const sent = proxy.requests.length;
    const inFlight = fetch(`${base}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:slow:app' }) });
    await tokenRequestSeen(sent);
    const signalled = Date.now();
    service.kill('SIGTERM');
    // Not ready at once, while the server still listens through the shutdown delay (2 s): seen within it.
    await waitFor(async () => (await readiness(base)) === 503, {
      what: 'readiness to answer 503 during the shutdown delay',
      timeout: 1_800,
    });

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect((await response.text()).split('.')).toHaveLength(3);
    const code = await service.exited;
    expect(service.output()).not.toMatch(/took too long/);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    proxy.mode = 'pass';
  }, 40_000);

  it('answers a request whose body arrives after SIGTERM as if there were no shutdown', async () => {
    const service = await startProcess({ SHUTDOWN_DELAY_SECONDS: '0' });
    // A cached token, so that the request is one the cached-token lane takes by its headers.
    const form = new URLSearchParams({ aud: 'dev-gcp:late:body' });
    expect((await fetch(`${service.base}/api/public/m2m`, { method: 'POST', body: form })).status).toBe(200);
    const socket = await open(service.port);
    const answer = received(socket);
    const body = form.toString();
    // With `Expect: 100-continue` the server says when it has the request's headers, before the body is sent.
    socket.write(
      `POST /api/public/m2m HTTP/1.1\r\nhost: 127.0.0.1:${service.port}\r\n` +
        `content-type: application/x-www-form-urlencoded\r\nexpect: 100-continue\r\ncontent-length: ` +
        `${body.length}\r\n\r\n`,
    );
    await waitFor(() => answer.text().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), { what: 'the server to take the headers' });
    await service.terminate();
    socket.write(body);
    const [, final] = (await answer.closed).split('HTTP/1.1 100 Continue\r\n\r\n');
    expect(final).toMatch(/^HTTP\/1\.1 200 /);
    expect(final?.split('\r\n\r\n')[1]?.split('.')).toHaveLength(3);
    expect(await service.exited).toBe(0);
  }, 40_000);

  it("answers every request on a kept-alive connection in its own format, never with the framework's 503", async () => {
    const service = await startProcess({ SHUTDOWN_DELAY_SECONDS: '0' });
    proxy.mode = 'slow';
    proxy.slowMs = 1_000;
    const socket = await open(service.port);
    const answer = received(socket);
    // A slow request in flight at SIGTERM, and on the same connection, after SIGTERM, another one.
    const body = new URLSearchParams({ aud: 'dev-gcp:slow:pipelined' }).toString();
    const sent = proxy.requests.length;
    socket.write(
      `POST /api/public/m2m HTTP/1.1\r\nhost: 127.0.0.1:${service.port}\r\n` +
        `content-type: application/x-www-form-urlencoded\r\ncontent-length: ` +
        `${body.length}\r\n\r\n${body}`,
    );
    await tokenRequestSeen(sent);
    await service.terminate();
    socket.write('GET /internal/isalive HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    const answers = (await answer.closed).split(/(?=HTTP\/1\.1 )/);
    proxy.mode = 'pass';
    expect(answers.map((a) => a.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(answers[1]).toMatch(/\r\nx-correlation-id: /i);
    expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
    expect(answers[1]).toMatch(/\r\n\r\nalive$/);
    expect(await service.exited).toBe(0);
  }, 40_000);
});

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** What the server sent so far, and everything it sent once it closes the connection. */
function received(socket: Socket): { text: () => string; closed: Promise<string> } {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(text)));
  return { text: () => text, closed };
}

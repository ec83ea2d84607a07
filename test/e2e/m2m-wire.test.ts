/**
 * `POST /api/public/m2m` as bytes on a connection, against the whole service: requests pipelined on
 * one kept-alive connection, a form body that arrives in pieces, and a client that leaves mid-body,
 * also while the service shuts down. These are what an HTTP server gets wrong when it answers
 * before the framework or reads a body by itself; they hold for the route as it is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { RATE_LIMIT_MAX: '1000' } });
});

afterAll(async () => {
  await stack?.close();
});

interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads whole HTTP/1.1 responses off a socket, in the order they come. */
class ResponseReader {
  private buffer = Buffer.alloc(0);
  private readonly read: WireResponse[] = [];
  private waiting?: { count: number; resolve: (responses: WireResponse[]) => void; reject: (err: Error) => void };
  private closed = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.parseOne());
      this.settle();
    });
    socket.once('close', () => {
      this.closed = true;
      this.settle();
    });
  }

  /** The next `count` responses, once all of them are in; rejected when the connection closes first. */
  next(count = 1): Promise<WireResponse[]> {
    return new Promise((resolve, reject) => {
      this.waiting = { count, resolve, reject };
      this.settle();
    });
  }

  private settle(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    if (this.read.length >= waiting.count) {
      this.waiting = undefined;
      waiting.resolve(this.read.splice(0, waiting.count));
    } else if (this.closed) {
      this.waiting = undefined;
      waiting.reject(new Error(`the connection closed after ${this.read.length} of ${waiting.count} responses`));
    }
  }

  private parseOne(): boolean {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`a response without Content-Length: ${statusLine}`);
    if (this.buffer.length < end + 4 + length) return false;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4 + length);
    this.read.push({ status: Number(statusLine?.split(' ')[1]), headers, body });
    return true;
  }
}

async function open(service: Stack = stack): Promise<{ socket: Socket; responses: ResponseReader }> {
  const socket = connect(Number(new URL(service.url).port), '127.0.0.1');
  socket.setNoDelay(true);
  const responses = new ResponseReader(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, responses };
}

function head(service: Stack, bodyLength: number, headers: Record<string, string> = {}): string {
  const lines = Object.entries({
    host: new URL(service.url).host,
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(bodyLength),
    ...headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `POST /api/public/m2m HTTP/1.1\r\n${lines.join('')}\r\n`;
}

function write(socket: Socket, data: string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/** The server's side of the next request it reads: known once its headers are in, before its body. */
function nextRequest(service: Stack = stack): Promise<{ req: IncomingMessage; res: ServerResponse }> {
  return new Promise((resolve) => service.generator.app.server.once('request', (req, res) => resolve({ req, res })));
}

/** Sends `pieces` one write each. The gap between them is the condition under test, not a wait for something. */
async function trickle(socket: Socket, pieces: string[]): Promise<void> {
  for (const [i, piece] of pieces.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 30));
    await write(socket, piece);
  }
}

/** Log lines since `from` that speak of a failure: an error logged, or a 500 answered. */
function failuresLogged(service: Stack, from: number): string[] {
  return service.logs.slice(from).filter((line) => /"level":"(error|fatal)"/.test(line) || /"statusCode":5\d\d/.test(line));
}

const isToken = (text: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(text);

describe('requests pipelined on one kept-alive connection', () => {
  it('are each answered, in the order sent, with its own correlation id, misses, hits and refusals alike', async () => {
    const logsFrom = stack.logs.length;
    const { socket, responses } = await open();
    const form = (aud: string) => `aud=${aud}`;
    const requests = [
      { id: 'piped-miss-a', body: form('dev-gcp:wire:piped-a') },
      { id: 'piped-hit-a', body: form('dev-gcp:wire:piped-a') },
      { id: 'piped-miss-b', body: form('dev-gcp:wire:piped-b') },
      { id: 'piped-bad', body: form('dev-gcp:wire') },
      { id: 'piped-json', body: form('dev-gcp:wire:piped-a'), headers: { accept: 'application/json' } },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `piped-${i}`, body: form(i % 2 ? 'dev-gcp:wire:piped-a' : 'dev-gcp:wire:piped-b') })),
    ];
    const wire = requests.map((r) => head(stack, r.body.length, { 'x-correlation-id': r.id, ...r.headers }) + r.body);
    // All of them in one write: the server reads them together, and must not answer them out of order.
    await write(socket, wire.join(''));
    const answers = await responses.next(requests.length);
    socket.destroy();

    expect(answers.map((a) => a.headers['x-correlation-id'])).toEqual(requests.map((r) => r.id));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 400, 200, ...Array(20).fill(200)]);
    const [missA, hitA, missB, bad, json] = answers;
    expect(isToken(missA!.body) && isToken(missB!.body)).toBe(true);
    expect(hitA!.body).toBe(missA!.body);
    expect(missB!.body).not.toBe(missA!.body);
    expect(bad!.body).toContain('Invalid audience "dev-gcp:wire"');
    expect((JSON.parse(json!.body) as { access_token: string }).access_token).toBe(missA!.body);
    expect(answers.slice(5).map((a) => a.body)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? missA!.body : missB!.body)));
    expect(answers.every((a) => a.headers.connection !== 'close')).toBe(true);
    expect(failuresLogged(stack, logsFrom)).toEqual([]);
  });

  it('keep the connection for the next request once all are answered', async () => {
    const { socket, responses } = await open();
    const body = 'aud=dev-gcp:wire:kept';
    await write(socket, head(stack, body.length) + body + head(stack, body.length) + body);
    const [first, second] = await responses.next(2);
    await write(socket, head(stack, body.length) + body);
    const [third] = await responses.next();
    socket.destroy();
    expect([first!.status, second!.status, third!.status]).toEqual([200, 200, 200]);
    expect(new Set([first!.body, second!.body, third!.body]).size).toBe(1);
  });
});

describe('a form body that arrives in pieces', () => {
  it('is read whole, an escape split across two writes included, and the connection serves the next request', async () => {
    const { socket, responses } = await open();
    // The audience with its colons percent-encoded, cut inside the escapes.
    const body = 'aud=dev-gcp%3Awire%3Apieces';
    const received = nextRequest();
    await write(socket, head(stack, body.length));
    await received; // the route has the headers and waits for the body
    await trickle(socket, ['aud=dev-gcp%3', 'Awire%', '3Apie', 'ces']);
    const [first] = await responses.next();
    expect(first!.status).toBe(200);
    expect(isToken(first!.body)).toBe(true);

    // On the same connection, headers and body split at other places, a byte of the body at a time at the end.
    const whole = head(stack, body.length) + body;
    await trickle(socket, [whole.slice(0, 30), whole.slice(30, -4), ...whole.slice(-4)]);
    const [second] = await responses.next();
    socket.destroy();
    expect(second!.status).toBe(200);
    expect(second!.body).toBe(first!.body);
  });

  it('is read whole when it comes as chunks of a chunked transfer, each in its own write', async () => {
    const { socket, responses } = await open();
    const request = head(stack, 0).replace('content-length: 0', 'transfer-encoding: chunked');
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const received = nextRequest();
    await write(socket, request);
    await received;
    await trickle(socket, [chunk('aud=dev-gcp'), chunk(':wire:chunked'), '0\r\n\r\n']);
    const [answer] = await responses.next();
    socket.destroy();
    expect(answer!.status).toBe(200);
    expect(isToken(answer!.body)).toBe(true);
  });
});

describe('a client that leaves mid-body', () => {
  it('costs at most a 4xx sent to no one: the identity provider is not asked, nothing is logged as a failure', async () => {
    const logsFrom = stack.logs.length;
    const tokenRequests = stack.emulator!.stats.tokenRequests;
    const { socket } = await open();
    const body = 'aud=dev-gcp:wire:left';
    const received = nextRequest();
    await write(socket, head(stack, body.length) + body.slice(0, 8));
    const { res } = await received;
    const ended = new Promise<void>((resolve) => res.once('close', resolve));
    socket.destroy();
    await ended;
    expect(res.statusCode).toBeLessThan(500);
    expect(stack.emulator!.stats.tokenRequests).toBe(tokenRequests);

    const next = await fetch(`${stack.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:wire:left' }) });
    expect(next.status).toBe(200);
    expect(isToken(await next.text())).toBe(true);
    expect(stack.emulator!.stats.tokenRequests).toBe(tokenRequests + 1);
    expect(failuresLogged(stack, logsFrom)).toEqual([]);
  });
});

describe('shutting down with requests on the wire', () => {
  it('answers the request in flight, lets one whose client leaves go without a 500, closes idle connections, and ends', async () => {
    const service = await startStack({ env: { SHUTDOWN_DELAY_SECONDS: '0' } });
    let closed: Promise<void> | undefined;
    try {
      const logsFrom = service.logs.length;
      const body = 'aud=dev-gcp:wire:closing';
      // An idle kept-alive connection, with one request answered before the shutdown.
      const idle = await open(service);
      await write(idle.socket, head(service, body.length) + body);
      const [beforeShutdown] = await idle.responses.next();
      const idleClosed = new Promise<void>((resolve) => idle.socket.once('close', resolve));
      // Two requests whose headers are in and whose bodies are not.
      const staying = await open(service);
      const leaving = await open(service);
      const stayingReceived = nextRequest(service);
      await write(staying.socket, head(service, body.length) + body.slice(0, 6));
      await stayingReceived;
      const leavingReceived = nextRequest(service);
      await write(leaving.socket, head(service, body.length) + body.slice(0, 6));
      const { res: leavingRes } = await leavingReceived;

      closed = service.close();
      const leavingEnded = new Promise<void>((resolve) => leavingRes.once('close', resolve));
      leaving.socket.destroy();
      await leavingEnded;
      const stayingClosed = new Promise<void>((resolve) => staying.socket.once('close', resolve));
      await write(staying.socket, body.slice(6));
      const [inFlight] = await staying.responses.next();
      // Answered, then closed by the server; the idle connection is closed too, and the shutdown completes.
      await Promise.all([stayingClosed, idleClosed, closed]);

      expect(beforeShutdown!.status).toBe(200);
      expect(beforeShutdown!.headers.connection).toBe('keep-alive');
      expect(inFlight!.status).toBe(200);
      // Its headers came before the shutdown, its answer after: the answer says the connection ends.
      expect(inFlight!.headers.connection).toBe('close');
      expect(inFlight!.body).toBe(beforeShutdown!.body);
      expect(leavingRes.statusCode).toBeLessThan(500);
      expect(failuresLogged(service, logsFrom)).toEqual([]);
    } finally {
      await (closed ?? service.close());
    }
  });
});

interface OwnService {
  service: Stack;
  /** In front of the service's identity provider: holds its token requests when told. */
  proxy: FaultProxy;
  /** Starts the service's shutdown; the test waits for it at its end either way. */
  shutDown(): Promise<void>;
}

/** Runs `test` against a service of its own, to shut down. */
async function withOwnService(env: Record<string, string>, test: (own: OwnService) => Promise<void>): Promise<void> {
  const emulatorPort = await freePort();
  const proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`);
  let service: Stack | undefined;
  let closed: Promise<void> | undefined;
  try {
    service = await startStack({ env, emulator: { port: emulatorPort, publicUrl: proxy.url } });
    const own = service;
    await test({ service, proxy, shutDown: () => (closed ??= own.close()) });
  } finally {
    await (closed ?? service?.close());
    await proxy.close();
  }
}

const form = (aud: string) => `aud=${aud}`;
const request = (service: Stack, aud: string) => head(service, form(aud).length) + form(aud);
const closedBy = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
const holdTokenRequests = (proxy: FaultProxy) => {
  proxy.holdWhen = ({ path, body }) => path.endsWith('/token') && body.includes('held');
};
const release = (proxy: FaultProxy) => {
  proxy.holdWhen = undefined;
  proxy.release();
};

describe('shutting down: the last answer on a connection closes it', () => {
  it('answers two pipelined requests in flight as the shutdown begins, keeps the connection for the second, closes it after', () =>
    withOwnService({ SHUTDOWN_DELAY_SECONDS: '0' }, async ({ service, proxy, shutDown }) => {
      const logsFrom = service.logs.length;
      holdTokenRequests(proxy);
      const { socket, responses } = await open(service);
      const socketClosed = closedBy(socket);
      await write(socket, request(service, 'dev-gcp:wire:held-a') + request(service, 'dev-gcp:wire:held-b'));
      await waitFor(() => proxy.held === 2, { what: 'both token requests to reach the identity provider' });

      const closed = shutDown();
      release(proxy);
      const [first, second] = await responses.next(2);
      await Promise.all([socketClosed, closed]);

      expect([first!.status, second!.status]).toEqual([200, 200]);
      expect(isToken(first!.body) && isToken(second!.body)).toBe(true);
      // Both answers were written after the shutdown began: the first has a request behind it, the second is the last.
      expect([first!.headers.connection, second!.headers.connection]).toEqual(['keep-alive', 'close']);
      expect(failuresLogged(service, logsFrom)).toEqual([]);
    }));

  it('answers requests that arrive behind one in flight once closing began, and closes the connection after the last', () =>
    withOwnService({ SHUTDOWN_DELAY_SECONDS: '0' }, async ({ service, proxy, shutDown }) => {
      const logsFrom = service.logs.length;
      const warm = await open(service);
      await write(warm.socket, request(service, 'dev-gcp:wire:cached'));
      const [cached] = await warm.responses.next();
      warm.socket.destroy();
      holdTokenRequests(proxy);
      const { socket, responses } = await open(service);
      const socketClosed = closedBy(socket);
      await write(socket, request(service, 'dev-gcp:wire:held'));
      await waitFor(() => proxy.held === 1, { what: 'the token request to reach the identity provider' });

      const closed = shutDown();
      // The server no longer listens: Fastify is closing, and marks each request it receives `Connection: close`.
      await waitFor(() => !service.generator.app.server.listening, { what: 'the server to stop listening' });
      await write(socket, request(service, 'dev-gcp:wire:cached') + request(service, 'dev-gcp:wire:cached'));
      release(proxy);
      const answers = await responses.next(3);
      await Promise.all([socketClosed, closed]);

      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.slice(1).map((a) => a.body)).toEqual([cached!.body, cached!.body]);
      expect(answers.map((a) => a.headers.connection)).toEqual(['keep-alive', 'keep-alive', 'close']);
      expect(failuresLogged(service, logsFrom)).toEqual([]);
    }));

  // The delay only has to outlast a few answers on this machine; the test ends with it.
  it('during the shutdown delay, ends a kept-alive connection with its next answer, or the last of those pipelined on it', () =>
    withOwnService({ SHUTDOWN_DELAY_SECONDS: '2' }, async ({ service, shutDown }) => {
      const logsFrom = service.logs.length;
      const aud = 'dev-gcp:wire:delay';
      // Two connections kept alive after an answer each.
      const single = await open(service);
      const piped = await open(service);
      await write(single.socket, request(service, aud));
      await write(piped.socket, request(service, aud));
      const [token] = await single.responses.next();
      await piped.responses.next();
      const singleClosed = closedBy(single.socket);
      const pipedClosed = closedBy(piped.socket);

      const closed = shutDown();
      expect((await fetch(`${service.url}/internal/isready`)).status).toBe(503);
      await write(single.socket, request(service, aud));
      await write(piped.socket, request(service, aud) + request(service, aud));
      const [alone] = await single.responses.next();
      const pipelined = await piped.responses.next(2);
      // Both closed by the server after their last answer; then the delay ends and the shutdown completes.
      await Promise.all([singleClosed, pipedClosed, closed]);

      expect([alone, ...pipelined].map((a) => [a!.status, a!.body])).toEqual(Array(3).fill([200, token!.body]));
      expect(alone!.headers.connection).toBe('close');
      expect(pipelined.map((a) => a.headers.connection)).toEqual(['keep-alive', 'close']);
      expect(failuresLogged(service, logsFrom)).toEqual([]);
    }));
});

/**
 * Half-open connections (a request's headers trickling in, a line every so often) must not take the
 * service down: past the bound the oldest waiting ones are closed, headers must arrive in time, and
 * the health endpoints keep answering throughout.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { perAddressMax } from '../../src/generator/http/app.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

let stack: Stack;
let port: number;
const MAX = 40;

beforeAll(async () => {
  stack = await startStack({ env: { MAX_CONNECTIONS: String(MAX), HEADERS_TIMEOUT_SECONDS: '2' } });
  port = Number(new URL(stack.url).port);
});

afterAll(async () => {
  await stack?.close();
});

/** What one address may hold of the bound (16 here): a flood from one address never meets the bound itself. */
const PER_ADDRESS = perAddressMax(MAX);
/** Loopback addresses to come from (Linux answers all of 127.0.0.0/8), enough that the flood fills the bound. */
const FLOOD_ADDRESSES = Array.from({ length: Math.ceil(MAX / PER_ADDRESS) + 2 }, (_, i) => `127.0.0.${10 + i}`);

/**
 * A connection from `localAddress` that starts a request and then sends one more header line every
 * `everyMs`, never finishing.
 */
function halfOpen(
  everyMs: number,
  localAddress = '127.0.0.1',
): { socket: Socket; closed: Promise<number>; isClosed(): boolean; stop(): void } {
  const opened = Date.now();
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.write('GET /internal/isalive HTTP/1.1\r\nHost: localhost\r\n');
  let line = 0;
  const timer = setInterval(() => socket.writable && socket.write(`X-Slow-${line++}: 1\r\n`), everyMs);
  let isClosed = false;
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  void closed.then(() => (clearInterval(timer), (isClosed = true)));
  return { socket, closed, isClosed: () => isClosed, stop: () => (clearInterval(timer), socket.destroy()) };
}

/** Once the server has closed all but `MAX` of `flood`: it has had every one of them. */
async function shed(flood: ReturnType<typeof halfOpen>[]): Promise<void> {
  await waitFor(() => flood.filter((connection) => connection.isClosed()).length >= flood.length - MAX, {
    what: `the server to close all but ${MAX} of ${flood.length} half-open connections`,
  });
}

async function health(): Promise<number[]> {
  return Promise.all(
    ['/internal/isalive', '/internal/isready'].map((path) =>
      fetch(`${stack.url}${path}`, { signal: AbortSignal.timeout(2_000), headers: { connection: 'close' } }).then(
        (r) => r.status,
        () => 0,
      ),
    ),
  );
}

describe('half-open connections', () => {
  it('are closed once they take longer than the header time', async () => {
    const slow = halfOpen(300);
    const heldMs = await slow.closed;
    slow.stop();
    expect(heldMs).toBeGreaterThanOrEqual(1_900);
    expect(heldMs).toBeLessThan(5_000);
  });

  it('from one address: past its share its own oldest are shed, while other addresses still get in', async () => {
    const own = Array.from({ length: PER_ADDRESS + 10 }, () => halfOpen(500, '127.0.0.2'));
    try {
      await waitFor(() => own.filter((connection) => connection.isClosed()).length >= 10, {
        what: `the server to close all but ${PER_ADDRESS} of one address's connections`,
      });
      const other = halfOpen(500, '127.0.0.3');
      await waitFor(() => stack.generator.connections.open === PER_ADDRESS + 1, { what: "the other address's connection to be held" });
      expect(other.isClosed()).toBe(false);
      expect(own.filter((connection) => !connection.isClosed())).toHaveLength(PER_ADDRESS);
      other.stop();
    } finally {
      for (const connection of own) connection.stop();
    }
    await waitFor(() => stack.generator.connections.open === 0, { what: 'the server to see the connections close' });
  });

  it('past the bound: the oldest are shed, the health endpoints keep answering, and the service recovers', async () => {
    // From several addresses, so that the bound on all connections is what sheds them, not each address's share.
    const from = (i: number) => FLOOD_ADDRESSES[i % FLOOD_ADDRESSES.length]!;
    const flood = Array.from({ length: MAX * 5 }, (_, i) => halfOpen(500, from(i)));
    try {
      await shed(flood);
      for (let round = 0; round < 5; round++) {
        expect(await health()).toEqual([200, 200]);
        // The flood keeps coming: more connections while the health checks go on.
        flood.push(...Array.from({ length: MAX }, (_, i) => halfOpen(500, from(i))));
        await shed(flood);
      }
      expect(stack.generator.connections.open).toBeLessThanOrEqual(MAX);
      // More than one address's share is held: what shed the rest is the bound on all connections.
      expect(stack.generator.connections.open).toBeGreaterThan(PER_ADDRESS);
      expect(stack.generator.connections.shed).toBeGreaterThanOrEqual(MAX * 5);
    } finally {
      for (const connection of flood) connection.stop();
    }
    await waitFor(() => stack.generator.connections.open === 0, { what: "the server to see the flood's connections close" });
    expect(await health()).toEqual([200, 200]);
    const token = await fetch(`${stack.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:team:app' }) });
    expect(token.status).toBe(200);
  });
});

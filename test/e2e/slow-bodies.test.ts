/**
 * Slow bodies: 850 connections from one address, each sending a request's headers and then its body
 * a byte at a time. A new client from another address and the health checks are still answered,
 * and the trickling requests get a 408 once their body is late. (The latency under this load is in
 * bench/, not asserted here; the bounds below only keep a broken service from hanging the test.)
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

let stack: Stack;
let port: number;

beforeAll(async () => {
  // The per-address rate limit would answer the trickling requests with a 429 before their body: the deadline is what is tested.
  stack = await startStack({ env: { RATE_LIMIT_MAX: '100000' } });
  port = Number(new URL(stack.url).port);
});

afterAll(async () => {
  await stack?.close();
});

/** A connection from 127.0.0.1 that sends a POST's headers, then one byte of its body a second. */
function trickling(): { socket: Socket; received: () => string; stop(): void } {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.write(
    `POST /api/public/m2m HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      'Content-Length: 1000\r\n\r\na',
  );
  const timer = setInterval(() => socket.writable && socket.write('a'), 1_000);
  socket.once('close', () => clearInterval(timer));
  return { socket, received: () => received, stop: () => (clearInterval(timer), socket.destroy()) };
}

/** A request from another loopback address (Linux answers all of 127.0.0.0/8). */
function from(localAddress: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        path,
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          host: `127.0.0.1:${port}`,
          connection: 'close',
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('850 connections trickling a body from one address', () => {
  it('leave a new client from another address and the health checks answered, and get a 408 themselves', async () => {
    const { connections } = stack.generator;
    const before = connections.open + connections.shed;
    const flood = Array.from({ length: 850 }, () => trickling());
    try {
      // Every connection of the flood reached the server: held, or closed to keep within the bounds.
      await waitFor(() => connections.open + connections.shed >= before + flood.length, { what: 'the server to take the flood in' });
      const answers = await Promise.all([
        from('127.0.0.2', '/api/public/m2m', 'aud=dev-gcp:my-team:my-app'),
        from('127.0.0.3', '/internal/isalive'),
        from('127.0.0.3', '/internal/isready'),
      ]);
      expect(answers).toEqual([200, 200, 200]);
      expect(stack.generator.connections.open).toBeLessThan(800);
      // The ones still open (the address's newest) are answered once their body is late.
      const late = () => flood.some((connection) => /^HTTP\/1\.1 408 /.test(connection.received()));
      await waitFor(late, { what: 'a 408 for a body that came too slowly', timeout: 15_000 });
    } finally {
      for (const connection of flood) connection.stop();
    }
  }, 40_000);
});

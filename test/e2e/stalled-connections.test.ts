import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { boundConnections } from '../../src/generator/http/connections.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A server under the bound that answers `/answer` at once and never answers anything else. */
async function serve(stalledMs: number): Promise<number> {
  server = createServer();
  const bound = boundConnections(server, { max: 100, stalledMs });
  server.on('request', (req, res) => {
    bound.requested(req, res);
    if (req.url === '/answer') res.end('ok');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function request(port: number, path: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(received))) };
}

describe('a request in progress that moves no byte', () => {
  it('loses its connection; an answered one on a kept-alive connection does not', async () => {
    const port = await serve(300);
    const stalled = request(port, '/never');
    const answered = request(port, '/answer');
    expect(await stalled.closed).toBe('');
    // Both were looked at as long: the answered one idles between requests (Node.js's keep-alive time is its bound), still open.
    expect(answered.socket.destroyed).toBe(false);
    answered.socket.destroy();
    expect(await answered.closed).toMatch(/^HTTP\/1\.1 200 /);
  });
});

/**
 * A real HTTP hop between the generator and the emulator that can be told to misbehave:
 * refuse connections, answer slowly, or answer garbage, as an identity provider in trouble does.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'down' | 'slow' | 'garbage' | 'error-500' | 'redirect';

export interface FaultProxy {
  url: string;
  port: number;
  mode: FaultMode;
  /** Requests that reached the proxy, by path, while not in 'pass' mode too. */
  requests: { method: string; path: string; mode: FaultMode }[];
  slowMs: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string, port = 0): Promise<FaultProxy> {
  const target = new URL(upstream);
  const proxy: FaultProxy = {
    url: '',
    port: 0,
    mode: 'pass',
    requests: [],
    slowMs: 10_000,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const mode = proxy.mode;
    proxy.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', mode });
    if (mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Service maintenance</body></html>');
      return;
    }
    if (mode === 'error-500') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      return;
    }
    if (mode === 'redirect') {
      res.writeHead(307, { location: `${target.origin}${req.url}` }).end();
      return;
    }
    const forward = () => {
      const upstreamReq = httpRequest(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      upstreamReq.on('error', () => res.destroy());
      req.pipe(upstreamReq);
    };
    if (mode === 'slow') {
      const timer = setTimeout(forward, proxy.slowMs);
      res.on('close', () => clearTimeout(timer));
    } else {
      forward();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://localhost:${proxy.port}`;
  return proxy;
}

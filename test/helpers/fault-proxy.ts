/**
 * A real HTTP hop between the generator and the emulator that can be told to misbehave:
 * refuse connections, answer slowly, late or never, answer garbage, or hold a request until told,
 * as an identity provider in trouble does.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `slow` forwards the request after `slowMs`; `late` forwards it at once and delays the answer by
 * `slowMs` (the identity provider acts, its answer comes too late); `blackhole` never answers; `trickle` sends a head and
 * then a byte of its body every 100 ms, never the end.
 */
export type FaultMode = 'pass' | 'down' | 'slow' | 'late' | 'blackhole' | 'trickle' | 'garbage' | 'error-500' | 'redirect';

export interface FaultProxy {
  url: string;
  port: number;
  mode: FaultMode;
  /** Requests that reached the proxy, by path, while not in 'pass' mode too. */
  requests: { method: string; path: string; mode: FaultMode }[];
  slowMs: number;
  /** While set, `mode` applies only to the requests it matches (by path and body); the others pass. */
  faultWhen: ((request: { path: string; body: string }) => boolean) | undefined;
  /** While set, a request it matches (by path and body) waits, forwarded or not, until `release`. */
  holdWhen: ((request: { path: string; body: string }) => boolean) | undefined;
  /** While set, the path a request is forwarded with: a provider that answers another request than the one sent. */
  rewritePath: ((path: string) => string) | undefined;
  /** Requests waiting for `release`. */
  held: number;
  /** Lets every held request go on to the identity provider. */
  release(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string, port = 0): Promise<FaultProxy> {
  const upstreamUrl = new URL(upstream);
  const proxy: FaultProxy = {
    url: '',
    port: 0,
    mode: 'pass',
    requests: [],
    slowMs: 10_000,
    faultWhen: undefined,
    holdWhen: undefined,
    rewritePath: undefined,
    held: 0,
    release: () => {
      const waiting = releases.splice(0);
      proxy.held = 0;
      for (const go of waiting) go();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const releases: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    proxy.requests.push({ method: req.method ?? 'GET', path, mode: proxy.mode });
    const holdWhen = proxy.holdWhen;
    const faultWhen = proxy.faultWhen;
    if (!holdWhen && !faultWhen) return misbehave(req, res, proxy.mode);
    // The body decides what happens to the request: read it first.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const request = { path, body: body.toString() };
      const mode = !faultWhen || faultWhen(request) ? proxy.mode : 'pass';
      if (!holdWhen?.(request)) return misbehave(req, res, mode, body);
      proxy.held++;
      releases.push(() => misbehave(req, res, mode, body));
    });
  });

  /** Answers as `mode` says; the body, when given, was read from `req` already. */
  function misbehave(req: IncomingMessage, res: ServerResponse, mode: FaultMode, body?: Buffer): void {
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
    if (mode === 'blackhole') {
      req.resume();
      return;
    }
    if (mode === 'trickle') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (mode === 'redirect') {
      res.writeHead(307, { location: `${upstreamUrl.origin}${req.url}` }).end();
      return;
    }
    const forward = () => {
      const upstreamReq = httpRequest(
        {
          hostname: upstreamUrl.hostname,
          port: upstreamUrl.port,
          method: req.method,
          path: proxy.rewritePath?.(req.url ?? '/') ?? req.url,
          headers: { ...req.headers, host: upstreamUrl.host },
        },
        (upstreamRes) => {
          const answer = () => {
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            upstreamRes.pipe(res);
          };
          if (mode !== 'late') return answer();
          const timer = setTimeout(answer, proxy.slowMs);
          res.on('close', () => clearTimeout(timer));
        },
      );
      upstreamReq.on('error', () => res.destroy());
      if (body === undefined) req.pipe(upstreamReq);
      else upstreamReq.end(body);
    };
    if (mode === 'slow') {
      const timer = setTimeout(forward, proxy.slowMs);
      res.on('close', () => clearTimeout(timer));
    } else {
      forward();
    }
  }
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://localhost:${proxy.port}`;
  return proxy;
}

/**
 * A deadline for a request's body: once its headers are in, a request has this long for the rest.
 * A client that trickles a body a byte at a time would otherwise hold its connection, and a place
 * within the connection bound, for as long as Node.js's whole-request timeout. It gets a 408 and
 * its connection is closed.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const ANSWER = 'The request body did not arrive in time: send it at once, after the headers.\n';

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

export function bodyDeadline(server: Server, ms: number): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete || !hasBody(req)) return;
    const timer = setTimeout(() => {
      if (req.complete || res.writableEnded) return;
      if (!res.headersSent) {
        res.writeHead(408, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
        res.end(ANSWER, () => req.socket.destroy());
      }
      // Whatever is still on its way is not waited for.
      setTimeout(() => req.socket.destroy(), 1_000).unref();
    }, ms);
    timer.unref();
    const done = () => clearTimeout(timer);
    req.once('end', done);
    res.once('close', done);
  });
}

/**
 * A bound on the connections the server holds. Past the bound the connection that has waited
 * longest without a request in progress (one still sending its headers, or idling between
 * requests) is closed to make room: a flood of half-open connections then sheds itself, while a
 * health check, which sends its request at once, still gets in. Node.js's own `maxConnections`
 * refuses the newest connection instead, which is the health check.
 *
 * One address holds at most `perAddress` of them (proxies it trusts aside): past that, its own oldest
 * connection is closed, request in progress or not, so that connections trickling a body from one
 * address cannot fill the bound for everyone else.
 *
 * A connection whose request in progress has moved no byte either way for `stalledMs` (a client that
 * stopped reading its answer, say) is closed. Node.js's `server.setTimeout` did this with a timer per
 * connection that every request reset twice and every read and write pushed back, a measurable part
 * of answering a cached token (BENCHMARKS.md); here the connections in progress are looked at a few
 * times within that time instead.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionBound {
  /** Connections open now (for tests). */
  readonly open: number;
  /** Connections closed to stay within the bound since start. */
  readonly shed: number;
  /** What the server calls with each request it receives. */
  requested(request: IncomingMessage, response: ServerResponse): void;
  /**
   * Whether another request came after `response`'s on its connection (pipelined): its answer waits for
   * this one. Answers on a connection go in the order of their requests, so that is whether this is not
   * the connection's latest response.
   */
  followed(response: ServerResponse): boolean;
}

export interface BoundOptions {
  max: number;
  perAddress?: number;
  /** Addresses (trusted proxies) that are not held to `perAddress`. */
  exempt?: (address: string) => boolean;
  /** How long a request in progress may move no byte before its connection is closed. */
  stalledMs?: number;
}

/** How many times within `stalledMs` the connections in progress are looked at. */
const LOOKS_PER_STALL = 12;

export function boundConnections(server: Server, options: BoundOptions): ConnectionBound {
  const { max, perAddress = max, exempt = () => false } = options;
  // Each connection's latest response (null before its first request); insertion order is the order
  // connections were made. A connection has a request in progress while its latest response is not
  // closed: responses on one connection close in the order of their requests. Kept this way, a request
  // costs no listener of its own.
  const inProgress = new Map<Socket, ServerResponse | null>();
  // Each address's connections, oldest first.
  const byAddress = new Map<string, Set<Socket>>();
  let shed = 0;
  const perAddressBound = (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (exempt(address)) return;
    let own = byAddress.get(address);
    if (!own) byAddress.set(address, (own = new Set()));
    own.add(socket);
    socket.once('close', () => {
      own.delete(socket);
      if (own.size === 0 && byAddress.get(address) === own) byAddress.delete(address);
    });
    if (own.size <= perAddress) return;
    const oldest = own.values().next().value!;
    own.delete(oldest);
    inProgress.delete(oldest);
    shed++;
    oldest.destroy();
  };
  const moved = options.stalledMs ? closeStalled(server, inProgress, options.stalledMs) : undefined;
  server.on('connection', (socket: Socket) => {
    inProgress.set(socket, null);
    socket.once('close', () => {
      inProgress.delete(socket);
      moved?.delete(socket);
    });
    perAddressBound(socket);
    if (inProgress.size <= max) return;
    let victim: Socket = socket;
    for (const [candidate, response] of inProgress) {
      if ((response === null || response.destroyed) && candidate !== socket) {
        victim = candidate;
        break;
      }
    }
    inProgress.delete(victim);
    shed++;
    victim.destroy();
  });
  return {
    requested(request, response) {
      const socket = request.socket as Socket;
      if (inProgress.has(socket)) inProgress.set(socket, response);
    },
    // Asked while shutting down only; `req.socket`, since a response waiting for its turn has no socket yet.
    followed: (response) => {
      const latest = inProgress.get(response.req.socket as Socket);
      return latest !== undefined && latest !== null && latest !== response;
    },
    get open() {
      return inProgress.size;
    },
    get shed() {
      return shed;
    },
  };
}

/**
 * Looks at the connections with a request in progress every so often, and closes those that have
 * moved no byte since `stalledMs` ago. Returns what it remembers of each, which the caller forgets
 * when a connection closes.
 */
function closeStalled(server: Server, inProgress: Map<Socket, ServerResponse | null>, stalledMs: number) {
  const moved = new Map<Socket, { bytes: number; since: number }>();
  const look = () => {
    const now = Date.now();
    for (const [socket, response] of inProgress) {
      if (response === null || response.destroyed) {
        moved.delete(socket);
        continue;
      }
      const bytes = socket.bytesRead + socket.bytesWritten;
      const seen = moved.get(socket);
      if (!seen || seen.bytes !== bytes) moved.set(socket, { bytes, since: now });
      else if (now - seen.since >= stalledMs) socket.destroy();
    }
  };
  const timer = setInterval(look, stalledMs / LOOKS_PER_STALL).unref();
  server.once('close', () => clearInterval(timer));
  return moved;
}

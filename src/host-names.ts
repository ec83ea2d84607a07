/**
 * Only known names, against DNS rebinding: a web page whose name re-resolves to this machine (or to
 * the pod) sends its own name as `Host`, and is refused before anything is read or answered. Known
 * are the public URL's host, and the loopback names at the port the server listens on. Probe paths
 * answer any name: the platform's kubelet and Prometheus call them by the pod's address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
/** The names (URL hostnames) of this machine that a server answers to at its port, besides its public URL's. */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * An answer written as it is, rendered once, for a request refused before a framework sees it (the
 * refusal of an unknown name here: each server gives its own, the generator's from its problem codes,
 * which this module, shared with the emulator, does not know).
 */
export interface FixedAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/**
 * Whether a `Host` header names this service: `publicUrl`'s host (when it has one), or a loopback name at `port()`.
 * The port is asked for until the server listens and kept from then on: asking a listening server for its
 * address is a system call, which on every request cost the cached-token path a tenth of its time.
 */
export function knownHosts(publicUrl: string | undefined, port: () => number | undefined): (host: string | undefined) => boolean {
  const own = new Set<string>();
  if (publicUrl) {
    const url = new URL(publicUrl);
    own.add(url.host.toLowerCase());
    if (!url.port) own.add(`${url.hostname}:${DEFAULT_PORTS[url.protocol] ?? ''}`.toLowerCase());
  }
  let listening: number | undefined;
  return (host) => {
    if (typeof host !== 'string') return false;
    if (listening === undefined && (listening = port()) !== undefined) for (const name of LOOPBACK_NAMES) own.add(`${name}:${listening}`);
    return own.has(host) || own.has(host.toLowerCase());
  };
}

const pathOf = (url: string | undefined) => (url ?? '/').split('?', 1)[0]!;

/** A request listener that refuses unknown names with `refusal` before `handler` sees the request. */
export function onlyKnownHosts(
  known: (host: string | undefined) => boolean,
  probes: ReadonlySet<string>,
  refusal: FixedAnswer,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (known(req.headers.host) || probes.has(pathOf(req.url))) handler(req, res);
    else res.writeHead(refusal.status, refusal.headers).end(refusal.body);
  };
}

/** The same check as a Fastify `onRequest` hook, for a server that Fastify makes itself. */
export function knownHostsHook(
  known: (host: string | undefined) => boolean,
  refusal: FixedAnswer,
  probes: ReadonlySet<string> = new Set(),
) {
  return function knownHost(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (known(request.headers.host) || probes.has(pathOf(request.url))) return done();
    void reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
  };
}

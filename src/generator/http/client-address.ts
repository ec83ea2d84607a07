/** Whose word is taken for the client's address (TRUST_PROXY_HOPS), said once: Fastify uses it for `request.ip`. */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

export type ProxyTrust = (address: string, hop: number) => boolean;

/** Trusts the `hops` nearest proxies: hop 0 is the socket's peer, hop 1 the last address in X-Forwarded-For, and so on. */
export function trustedHops(hops: number): ProxyTrust {
  return (_address, hop) => hop < hops;
}

/**
 * Fastify's `trustProxy` option. With no proxy to trust there is none, and request.ip is the
 * socket's address: no header parsing on every request (a function here costs a third of the
 * cached-token throughput, see BENCHMARKS.md).
 */
export function trustProxyOption(hops: number): { trustProxy?: ProxyTrust } {
  return hops > 0 ? { trustProxy: trustedHops(hops) } : {};
}

/** The client's address of a request that Fastify has not seen, as `request.ip` gives it with `trustProxyOption(hops)`. */
export function clientAddressOf(hops: number): (request: IncomingMessage) => string | undefined {
  if (hops === 0) return (request) => request.socket.remoteAddress;
  const trust = trustedHops(hops);
  return (request) => proxyAddr(request, trust);
}

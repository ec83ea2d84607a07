/**
 * Whose word is taken for the client's address (TRUST_PROXY_HOPS, TRUSTED_PROXIES), said once:
 * Fastify uses it for `request.ip`. A hop's X-Forwarded-For counts only when that hop is a proxy: a client that connects
 * directly, past the proxy, is its socket's address whatever header it sends.
 */
import proxyAddr from '@fastify/proxy-addr';

export type ProxyTrust = (address: string, hop: number) => boolean;

/** Where proxies are when TRUSTED_PROXIES does not say: on this machine. */
export const LOCAL_PROXIES: readonly string[] = ['loopback'];

/**
 * Trusts the `hops` nearest proxies, each only when its address is in `proxies` (addresses, CIDR
 * ranges, or proxy-addr's names such as `uniquelocal`): hop 0 is the socket's peer, hop 1 the last
 * address in X-Forwarded-For, and so on.
 */
export function trustedHops(hops: number, proxies: readonly string[] = LOCAL_PROXIES): ProxyTrust {
  const inRanges = proxyAddr.compile([...proxies]);
  return (address, hop) => hop < hops && inRanges(address, hop);
}

/**
 * Fastify's `trustProxy` option. With no proxy to trust there is none, and request.ip is the
 * socket's address: no header parsing on every request (a function here costs a third of the
 * cached-token throughput, see BENCHMARKS.md).
 */
export function trustProxyOption(hops: number, proxies?: readonly string[]): { trustProxy?: ProxyTrust } {
  return hops > 0 ? { trustProxy: trustedHops(hops, proxies) } : {};
}

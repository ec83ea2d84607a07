/**
 * A request that carries one of this service's cookies twice is refused. A browser sends two cookies
 * of one name when a page of a sibling domain set one for the parent domain or for a longer path
 * (cookie tossing): the generator cannot tell which is its own, and taking the first would log the
 * visitor in as whoever set it. Both are cleared, wherever they may have been set, and the employee
 * logs in again. With `__Host-` names this cannot happen in a browser; the check stays for clients
 * that are not one.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { CookieNames } from '../../paths.js';
import { refuse } from '../core/problem.js';

/** How many segments of the request's path the clearing covers: a tossed cookie's path is one of them. */
const PATH_DEPTH = 4;

/** The names of this service's cookies that the Cookie header carries more than once. */
export function duplicatedCookies(header: string | undefined, names: Pick<CookieNames, 'isOurs'>): string[] {
  if (!header) return [];
  const seen = new Map<string, number>();
  for (const pair of header.split(';')) {
    const name = pair.slice(0, pair.includes('=') ? pair.indexOf('=') : undefined).trim();
    if (names.isOurs(name)) seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return [...seen].filter(([, count]) => count > 1).map(([name]) => name);
}

/** The domains a cookie for this host may have been set on: the host itself and each parent but the last label. */
function domainsOf(hostname: string): (string | undefined)[] {
  const labels = hostname.split('.');
  const parents = labels.slice(1, -1).map((_, i) => labels.slice(i + 1).join('.'));
  return [undefined, ...(/^[\d.]+$|^\[/.test(hostname) ? [] : parents)];
}

/** `/`, and the request path's first segments: `/api`, `/api/obo`. */
function pathsOf(url: string): string[] {
  const segments = (url.split('?')[0] ?? '/').split('/').filter(Boolean).slice(0, PATH_DEPTH);
  return ['/', ...segments.map((_, i) => `/${segments.slice(0, i + 1).join('/')}`)];
}

function clearEverywhere(request: FastifyRequest, reply: FastifyReply, names: CookieNames, duplicated: string[], publicUrl: string): void {
  if (names.hostOnly) {
    for (const name of duplicated) reply.clearCookie(name, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
    return;
  }
  for (const name of duplicated) {
    for (const domain of domainsOf(new URL(publicUrl).hostname)) {
      for (const path of pathsOf(request.url))
        reply.clearCookie(name, { path, httpOnly: true, sameSite: 'lax', ...(domain ? { domain } : {}) });
    }
  }
}

export function refuseDuplicateCookies(names: CookieNames, publicUrl: string): onRequestHookHandler {
  return (request, reply, done) => {
    const duplicated = duplicatedCookies(request.headers.cookie, names);
    if (duplicated.length === 0) return done();
    request.log.warn({ cookies: duplicated }, 'request with a cookie of ours twice refused');
    clearEverywhere(request, reply, names, duplicated, publicUrl);
    done(
      refuse(
        'duplicate_cookie',
        `Your browser sent the cookie ${duplicated.join(' and ')} more than once. Another site under the same parent domain may have set ` +
          'one to log you in as someone else, so neither was used. Both are cleared now: open the page you wanted again and log in.',
      ),
    );
  };
}

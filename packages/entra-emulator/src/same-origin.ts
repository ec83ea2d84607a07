/**
 * The emulator's state-changing routes answer only their own callers: programs, which send neither
 * `Origin` nor `Sec-Fetch-Site`, and the emulator's own pages. A web page of another site could
 * otherwise post to them (a simple request needs no CORS) and rotate keys or spend tokens at will.
 * Browsers send `Origin` with every cross-origin POST; where a route takes no body, a form body is
 * refused as well, since a form is what another site can send.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What an HTML form can send. */
const FORMS = /^(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

function crossSite(request: FastifyRequest, formsTaken: boolean): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  // The host check has made sure Host names the emulator; its own pages post from that origin.
  const own = `${request.protocol}://${request.headers.host ?? ''}`;
  if (typeof origin === 'string' && origin !== own) return true;
  return !formsTaken && FORMS.test(String(request.headers['content-type'] ?? ''));
}

/**
 * An `onRequest` hook for a scope of state-changing routes; `formsTaken` when its routes read
 * form bodies (Texas's do, from programs, and answer a wrong type in Texas's words).
 */
export function sameOriginOnly(formsTaken = false) {
  return function sameOrigin(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (SAFE_METHODS.has(request.method) || !crossSite(request, formsTaken)) return done();
    void reply.code(403).header('cache-control', 'no-store').send({
      error: 'cross_site_request',
      error_description: 'This route of the emulator takes no requests from web pages of other sites.',
    });
  };
}

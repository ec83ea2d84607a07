/** How the sign-in pages answer: a page of ours, or an answer to the client's redirect URI in the response mode it asked for. */
import type { FastifyReply } from 'fastify';
import type { EntraError } from '../errors.js';
import type { Params } from '../params.js';
import { PAGE_POLICY } from './assets.js';
import { RESPONSE_MODES } from './authorize-request.js';
import { formPostPage } from './pages.js';

/**
 * Pages go with a strict policy. Their referrer policy is same-origin, not no-referrer: under
 * no-referrer Chromium sends `Origin: null` with the sign-in form, and the post's Origin is checked;
 * nothing leaves for another origin either way.
 */
export function sendPage(reply: FastifyReply, status: number, page: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', PAGE_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .send(page);
}

export function sendBack(reply: FastifyReply, params: Params, redirectUri: string, values: Record<string, string>) {
  const all = { ...values, ...(params.state !== undefined ? { state: params.state } : {}) };
  // Entra answers in the fragment unless told otherwise when the response type asks for a token.
  const fallback = params.response_type && params.response_type !== 'code' ? 'fragment' : 'query';
  const mode = params.response_mode && RESPONSE_MODES.has(params.response_mode) ? params.response_mode : fallback;
  if (mode === 'form_post') return sendPage(reply, 200, formPostPage(redirectUri, all));
  const location = new URL(redirectUri);
  if (mode === 'fragment') {
    location.hash = new URLSearchParams(all).toString();
  } else {
    for (const [name, value] of Object.entries(all)) location.searchParams.set(name, value);
  }
  return reply.header('cache-control', 'no-store').redirect(location.toString(), 302);
}

export function sendErrorBack(reply: FastifyReply, params: Params, redirectUri: string, err: EntraError, baseUrl: string) {
  const body = err.body(baseUrl);
  return sendBack(reply, params, redirectUri, {
    error: body.error,
    error_description: body.error_description,
    error_uri: body.error_uri,
    ...(body.suberror ? { suberror: body.suberror } : {}),
  });
}

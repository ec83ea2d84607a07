import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Problem } from '../entra/advice.js';
import { copyBlock, escapeHtml, page, sessionActions } from './html.js';
import type { Format } from './negotiate.js';
import { safeReturnPath } from './redirect.js';

export type { Problem };

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not logged in',
  403: 'Access denied',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Request too large',
  415: 'Unsupported content type',
  429: 'Too many requests',
  502: 'The identity provider failed',
  503: 'Temporarily unavailable',
  504: 'The identity provider is slow',
};

export function problem(status: number, error: string, message: string, details?: string): Problem {
  return { status, error, message, ...(details ? { details } : {}) };
}

/** For text and JSON the snippet, its note and the details are one block of lines, as they always were. */
function detailLines(p: Problem): string | undefined {
  const parts = [p.snippet, p.note, p.details].filter((part): part is string => part !== undefined);
  return parts.length ? parts.join('\n\n') : undefined;
}

/** The identity provider's code and words, the code said once (its words usually start with it). */
function upstreamLine(p: Problem): string | undefined {
  if (p.aadsts === undefined) return p.upstream;
  const code = `AADSTS${p.aadsts}`;
  if (!p.upstream) return code;
  return p.upstream.startsWith(code) ? p.upstream : `${code}: ${p.upstream}`;
}

/** Where "try again" and "sign in as someone else" lead: the page itself when it was a plain visit, else home. */
function returnPath(request: FastifyRequest): string {
  if (request.method !== 'GET' || request.url.startsWith('/oauth2/')) return '/';
  return safeReturnPath(request.url) ?? '/';
}

/** Failures that trying again does not mend: the page offers no "Try again" for them. */
const NOT_MENDED_BY_RETRY = new Set(['generator_misconfigured']);

function problemPage(request: FastifyRequest, p: Problem): string {
  const title = TITLES[p.status] ?? 'Something went wrong';
  const upstream = upstreamLine(p);
  const returnTo = returnPath(request);
  const body = `<section class="error">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(p.message)}</p>
${p.snippet ? copyBlock({ id: 'snippet', label: 'Copy YAML', text: p.snippet, className: 'snippet' }) : ''}
${p.note ? `<p>${escapeHtml(p.note)}</p>` : ''}
${p.details ? `<pre tabindex="0">${escapeHtml(p.details)}</pre>` : ''}
${upstream ? `<p class="muted">The identity provider said: <code>${escapeHtml(upstream)}</code></p>` : ''}
${sessionActions({ returnTo, ...(NOT_MENDED_BY_RETRY.has(p.error) ? {} : { tryAgain: returnTo }) })}
</section>`;
  return page({ title, body, correlationId: String(request.id) });
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, p: Problem, format: Format): FastifyReply {
  reply.code(p.status).header('cache-control', 'no-store');
  const correlationId = String(request.id);
  const details = detailLines(p);
  if (format === 'json') {
    return reply.type('application/json; charset=utf-8').send({
      error: p.error,
      error_description: p.message,
      ...(details ? { details } : {}),
      ...(p.aadsts !== undefined ? { aadsts: p.aadsts, error_codes: [p.aadsts] } : {}),
      ...(p.upstream ? { upstream: p.upstream } : {}),
      correlation_id: correlationId,
    });
  }
  if (format === 'html') return reply.type('text/html; charset=utf-8').send(problemPage(request, p));
  const lines = [p.message];
  if (details) lines.push('', details, '');
  if (p.aadsts !== undefined) lines.push(`(AADSTS${p.aadsts}${p.upstream ? `: ${p.upstream.replace(/^AADSTS\d+:\s*/, '')}` : ''})`);
  lines.push(`correlation id: ${correlationId}`);
  return reply.type('text/plain; charset=utf-8').send(`${lines.join('\n')}\n`);
}

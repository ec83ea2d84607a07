import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Problem } from '../entra/advice.js';
import { escapeHtml, page } from './html.js';
import type { Format } from './negotiate.js';

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

export function sendProblem(reply: FastifyReply, request: FastifyRequest, p: Problem, format: Format): FastifyReply {
  reply.code(p.status).header('cache-control', 'no-store');
  const correlationId = String(request.id);
  if (format === 'json') {
    return reply.type('application/json; charset=utf-8').send({
      error: p.error,
      error_description: p.message,
      ...(p.details ? { details: p.details } : {}),
      ...(p.aadsts !== undefined ? { aadsts: p.aadsts, error_codes: [p.aadsts] } : {}),
      ...(p.upstream ? { upstream: p.upstream } : {}),
      correlation_id: correlationId,
    });
  }
  if (format === 'html') {
    const title = TITLES[p.status] ?? 'Something went wrong';
    const body = `<section class="error">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(p.message)}</p>
${p.details ? `<pre>${escapeHtml(p.details)}</pre>` : ''}
${p.aadsts !== undefined ? `<p class="muted">Identity provider code: AADSTS${p.aadsts}${p.upstream ? ` — ${escapeHtml(p.upstream)}` : ''}</p>` : ''}
</section>`;
    return reply.type('text/html; charset=utf-8').send(page({ title, body, correlationId }));
  }
  const lines = [p.message];
  if (p.details) lines.push('', p.details, '');
  if (p.aadsts !== undefined) lines.push(`(AADSTS${p.aadsts}${p.upstream ? `: ${p.upstream.replace(/^AADSTS\d+:\s*/, '')}` : ''})`);
  lines.push(`correlation id: ${correlationId}`);
  return reply.type('text/plain; charset=utf-8').send(`${lines.join('\n')}\n`);
}

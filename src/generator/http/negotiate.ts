/**
 * Content negotiation: which of the formats this service speaks does the client explicitly prefer?
 * Wildcards never count as a preference, so `curl` (Accept: *\/*) gets the route's default.
 */
/** The formats of answers; `oauth` is the JSON of RFC 6749 §5.2, which only the OAuth 2.0 endpoints answer in. */
export type Format = 'text' | 'json' | 'html' | 'oauth';

const TYPES: Record<string, Format> = {
  'text/plain': 'text',
  'application/json': 'json',
  'text/html': 'html',
};

export function preferredFormat(accept: string | undefined, offered: readonly Format[], fallback: Format): Format {
  // No header, or curl's: the answer most requests get, without parsing.
  if (!accept || accept === '*/*') return fallback;
  let best: { format: Format; q: number } | undefined;
  for (const range of accept.slice(0, 1024).split(',')) {
    const [type = '', ...params] = range.trim().toLowerCase().split(';');
    const format = TYPES[type.trim()];
    if (!format || !offered.includes(format)) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split('=');
      if (key === 'q' && value !== undefined) {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    if (q > 0 && (!best || q > best.q)) best = { format, q };
  }
  return best?.format ?? fallback;
}

/** A top-level browser navigation, as opposed to fetch, XHR or a script. */
export function isNavigation(headers: Record<string, string | string[] | undefined>): boolean {
  const mode = headers['sec-fetch-mode'];
  if (typeof mode === 'string') return mode === 'navigate';
  const accept = headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/** What a route answers in: the formats it offers, and the one for a client that prefers none of them. */
export interface Answers {
  formats: readonly Format[];
  fallback: Format;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The formats the route answers in, its errors included (see `formatOf`). */
    answers?: Answers;
  }
}

/** A route's `config`, saying what it answers in. */
export function answersIn(formats: readonly Format[], fallback: Format): { answers: Answers } {
  return { answers: { formats, fallback } };
}

/** The OAuth 2.0 endpoints tools call: RFC 6749 bodies, refusals included. */
export const OAUTH = answersIn(['oauth'], 'oauth');

/** The pages an employee sees: HTML, or JSON or text for a client that asks. */
export const PAGES = answersIn(['html', 'json', 'text'], 'html');

/** Text, JSON or HTML, text for a client that prefers none: routes that say nothing else, and unknown paths. */
export const ANY_FORMAT: Answers = { formats: ['text', 'json', 'html'], fallback: 'text' };

/** The format of this request's answer: the one its client prefers of those its route answers in. */
export function formatOf(request: { headers: { accept?: string | undefined }; routeOptions: { config?: { answers?: Answers } } }): Format {
  return formatIn(request.headers.accept, request.routeOptions.config?.answers ?? ANY_FORMAT);
}

/** `formatOf` for a route that knows what it answers in (Fastify builds `routeOptions` anew on every read). */
export function formatIn(accept: string | undefined, answers: Answers): Format {
  return preferredFormat(accept, answers.formats, answers.fallback);
}

/**
 * Content negotiation: which of the formats this service speaks does the client explicitly prefer?
 * Wildcards never count as a preference, so `curl` (Accept: *\/*) gets the route's default.
 */
export type Format = 'text' | 'json' | 'html';

const TYPES: Record<string, Format> = {
  'text/plain': 'text',
  'application/json': 'json',
  'text/html': 'html',
};

export function preferredFormat(accept: string | undefined, offered: readonly Format[], fallback: Format): Format {
  if (!accept) return fallback;
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

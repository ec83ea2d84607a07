/**
 * One parser for every way people write the app they want a token for.
 *
 * - audience: what the caller wrote (`dev-gcp:my-team:my-app`, `dev-gcp.my-team.my-app`,
 *   `api://dev-gcp.my-team.my-app/.default`)
 * - target: the app it names, always written `cluster:namespace:app`
 * - scope: what Entra ID is asked for, `api://cluster.namespace.app/.default`
 */

export interface Target {
  cluster: string;
  namespace: string;
  app: string;
}

export interface ParsedAudience extends Target {
  /** `cluster:namespace:app` */
  target: string;
  /** `api://cluster.namespace.app/.default` */
  scope: string;
}

/** An audience as read, or what is wrong with it (and, where the route must say so, the status to answer). */
export type AudienceResult = { ok: true; value: ParsedAudience } | { ok: false; message: string; status?: number };

export const AUDIENCE_EXAMPLE = 'dev-gcp:my-team:my-app';
export const AUDIENCE_FORMS =
  `Expected <cluster>:<namespace>:<app>, for example ${AUDIENCE_EXAMPLE} ` +
  `(dev-gcp.my-team.my-app and api://dev-gcp.my-team.my-app/.default are accepted too).`;

const MAX_AUDIENCE_LENGTH = 253;
const MAX_PART_LENGTH = 63;
/** The one rule for a cluster, namespace or app name: lower-case Kubernetes style (an audience's parts are lowered first). */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const PART_NAMES = ['cluster', 'namespace', 'app'] as const;

export function scopeOf(target: Target): string {
  return `api://${target.cluster}.${target.namespace}.${target.app}/.default`;
}

export function targetOf(target: Target): string {
  return `${target.cluster}:${target.namespace}:${target.app}`;
}

/** Shows an untrusted value in a message: quoted, control characters escaped, long values cut. */
export function quoteInput(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  // JSON escapes C0 controls; DEL, C1 controls and line separators are escaped here too.
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fail(audience: string, reason: string): AudienceResult {
  return { ok: false, message: `Invalid audience ${quoteInput(audience)}: ${reason}. ${AUDIENCE_FORMS}` };
}

/**
 * Recently parsed audiences: scripts ask for the same few again and again. The oldest goes first
 * when it is full; a plain map, since a lookup is on every cached token's path (BENCHMARKS.md).
 */
const recent = new Map<string, AudienceResult>();
const RECENT_MAX = 1000;

export function parseAudience(input: unknown): AudienceResult {
  if (typeof input !== 'string' || input.length > MAX_AUDIENCE_LENGTH) return parse(input);
  let result = recent.get(input);
  if (!result) {
    result = parse(input);
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(input, result);
  }
  return result;
}

/** A name's ASCII letters in lower case; other letters stay as they are (the Kelvin sign does not become a "k"), and are refused. */
function lowered(part: string): string {
  return part.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * What is wrong with parts that are not three because one is empty, said as where the extra separator is: a trailing ":"
 * counted as a fourth part reads as a puzzle.
 */
function emptyPart(parts: string[], separator: string): string | undefined {
  if (parts.length === 1) return undefined;
  const sep = `"${separator}"`;
  if (parts.at(-1) === '') return `its last ${sep} has nothing after it (an empty part): leave that ${sep} out`;
  if (parts[0] === '') return `its first ${sep} has nothing before it (an empty part): leave that ${sep} out`;
  if (parts.includes('')) return `it has an empty part ("${separator}${separator}"): one ${sep} goes between two names`;
  return undefined;
}

function parse(input: unknown): AudienceResult {
  if (input === undefined || input === null || input === '') {
    return { ok: false, message: `The audience is missing: send it as "aud". ${AUDIENCE_FORMS}` };
  }
  if (typeof input !== 'string') {
    return { ok: false, message: `The audience must be a single string, sent once as "aud". ${AUDIENCE_FORMS}` };
  }
  const audience = input;
  if (audience.length > MAX_AUDIENCE_LENGTH) {
    return fail(audience, `it is ${audience.length} characters long, at most ${MAX_AUDIENCE_LENGTH} are allowed`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(audience)) return fail(audience, 'it contains control characters');
  if (/\s/.test(audience)) return fail(audience, 'it contains white space');
  // An app's address pasted where its name goes (https://my-app.intern.dev.nav.no): said as such, not as a count of parts.
  // A URI's scheme is case-insensitive (RFC 3986 §3.1): API://… is the scope api://… names.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(audience)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'api') {
    return fail(audience, `it is an address (${scheme}://…), not the name of an app`);
  }

  let parts: string[];
  let separator: string;
  if (scheme !== undefined) {
    const rest = audience.slice('api://'.length);
    const host = rest.endsWith('/.default') ? rest.slice(0, -'/.default'.length) : rest;
    if (host.includes('/')) return fail(audience, 'a scope must look like api://<cluster>.<namespace>.<app>/.default');
    parts = host.split('.');
    separator = '.';
  } else if (audience.includes(':')) {
    parts = audience.split(':');
    separator = ':';
  } else {
    parts = audience.split('.');
    separator = '.';
  }

  if (parts.length !== 3) {
    const count = `it has ${parts.length} part${parts.length === 1 ? '' : 's'} separated by "${separator}", three are needed`;
    return fail(audience, emptyPart(parts, separator) ?? count);
  }
  for (const [index, part] of parts.entries()) {
    const name = PART_NAMES[index] ?? 'part';
    if (part === '') return fail(audience, `the ${name} is empty`);
    if (part.length > MAX_PART_LENGTH) {
      return fail(audience, `the ${name} is ${part.length} characters long, at most ${MAX_PART_LENGTH} are allowed`);
    }
    if (!NAME_PATTERN.test(lowered(part))) {
      return fail(
        audience,
        `the ${name} ${quoteInput(part)} is not a valid name (letters a to z, ` +
          `digits and "-", starting and ending with a letter or digit)`,
      );
    }
  }
  // NAIS names are lower case: Dev-GCP:Team:App names dev-gcp:team:app.
  const [cluster, namespace, app] = parts.map(lowered) as [string, string, string];
  const target = { cluster, namespace, app };
  return { ok: true, value: { ...target, target: targetOf(target), scope: scopeOf(target) } };
}

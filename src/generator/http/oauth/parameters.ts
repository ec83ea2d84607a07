/**
 * The parameters every endpoint of the authorization server reads the same way: the target from
 * `scope`, the tool from `client_id`, and the loopback redirect of a native app (RFC 8252).
 */
import type { FastifyRequest } from 'fastify';
import { parseAudience, type ParsedAudience } from '../../../audience.js';
import { refuse } from '../../core/problem.js';

/** Scopes tools add by habit; the generator's answers need none of them. */
const HABITUAL_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** The one target a `scope` names: `api://cluster.namespace.app/.default` or any other audience form. */
export function targetScope(value: unknown): ParsedAudience {
  if (typeof value !== 'string' || value.trim() === '') {
    throw refuse(
      'invalid_scope',
      "Send the target's scope as scope, for example api://dev-gcp.my-team.my-app/.default or dev-gcp:my-team:my-app.",
    );
  }
  const named = value.split(' ').filter((scope) => scope !== '' && !HABITUAL_SCOPES.has(scope));
  if (named.length !== 1) {
    throw refuse(
      'invalid_scope',
      `Name exactly one target in scope, not ${named.length}: a token is for one app, for example api://dev-gcp.my-team.my-app/.default.`,
    );
  }
  const parsed = parseAudience(named[0]);
  if (!parsed.ok) throw refuse('invalid_scope', parsed.message.replace(/"aud"/g, 'scope'));
  return parsed.value;
}

const CLIENT_ID = /^[\w .:@()/+-]{1,64}$/;

/** The tool's own name for itself, shown to the employee when it asks; it proves nothing. */
export function clientId(value: unknown): string {
  if (typeof value !== 'string' || !CLIENT_ID.test(value)) {
    throw refuse(
      'invalid_request',
      'Send client_id: any name for your tool, up to 64 letters, digits, spaces and ._:@()/+- (for example IntelliJ).',
    );
  }
  return value;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * A `preParsing` hook for the endpoints tools post to, which take a form only (RFC 6749 §3.2, RFC 7009 §2.1, RFC 8628
 * §3.1): a body of a type the service reads elsewhere (JSON, multipart) is refused before it is read, as a request those
 * endpoints do not take, rather than read and taken, or refused in words meant for another endpoint. A type the service
 * reads nowhere stays a 415.
 */
export async function formOnly(request: FastifyRequest, _reply: unknown, payload: unknown): Promise<unknown> {
  const type = request.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (type && type !== FORM && request.server.hasContentTypeParser(type)) {
    throw refuse('invalid_request', `Send the parameters as an ${FORM} body, not ${type} (RFC 6749 section 3.2).`);
  }
  return payload;
}

/**
 * The parameters of a request a tool sends (token, revocation, device authorization), with the client_id of an HTTP Basic
 * header where the body names none: a tool that authenticates so (RFC 6749 §2.3.1) sends its id only there, and its device
 * flow must still be known by it (RFC 8628 §3.1, §3.4). The secret is not looked at; a header that is not Basic, or not
 * readable as such, is no client's id. A body's client_id that the header also names, either way it may be written, is kept.
 */
export function toolParameters(body: unknown, authorization: string | undefined): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw refuse('invalid_request', `Send the parameters as an ${FORM} body.`);
  }
  const params = body as Record<string, unknown>;
  const basic = basicClientIds(authorization);
  if (basic === undefined) return params;
  const inBody = single(params, 'client_id');
  if (inBody === undefined) return { ...params, client_id: basic.encoded };
  if (inBody !== basic.encoded && inBody !== basic.raw) {
    throw refuse('invalid_request', 'The client_id in the body differs from the one in the HTTP Basic header: send one.');
  }
  return params;
}

/**
 * The user name of an HTTP Basic header, read the two ways tools write it: form-encoded, as RFC 6749 §2.3.1 asks
 * (`my+tool` is "my tool"), and as it is, as curl's -u and many libraries send it. It ends at the last colon: a tool's
 * name may hold colons, and a secret (none is given out here) has none worth keeping.
 */
function basicClientIds(authorization: string | undefined): { encoded: string; raw: string } | undefined {
  const base64 = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization ?? '')?.[1];
  const credentials = base64 ? Buffer.from(base64, 'base64').toString('utf8') : '';
  const colon = credentials.lastIndexOf(':');
  if (colon < 1) return undefined;
  const raw = credentials.slice(0, colon);
  try {
    return { encoded: decodeURIComponent(raw.replace(/\+/g, ' ')), raw };
  } catch {
    // Not form-encoded (a % that escapes nothing): taken as sent.
    return { encoded: raw, raw };
  }
}

/** The client_id a token request sent, checked, or undefined: a tool without a secret need not send it (RFC 6749 §3.2.1). */
export function sentClientId(params: Record<string, unknown>): string | undefined {
  const client = single(params, 'client_id');
  return client === undefined ? undefined : clientId(client);
}

/** Only http://127.0.0.1:<port>/… or http://[::1]:<port>/…, nothing else a browser could be sent to. */
export function loopbackRedirect(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512 || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'http:') return undefined;
  if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') return undefined;
  if (url.username || url.password || url.hash || !url.port) return undefined;
  // The string itself must be what the URL parser saw: no tricks that parse differently elsewhere.
  if (!value.startsWith(`http://${url.host}/`)) return undefined;
  return value;
}

/** A single string parameter, or undefined; a parameter sent twice is refused as RFC 6749 §3.1 asks. */
export function single(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw refuse('invalid_request', `Send ${name} once.`);
  return typeof value === 'string' ? value : undefined;
}

const OWN_NAME = /tokengen|azuretoken|navtoken/;
const LOOKALIKES: Record<string, string> = { '0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a' };

/**
 * The name a tool gives itself in the device flow, which the employee sees on a device they may not
 * be holding: a name that passes for the generator's own command line is refused, since any caller
 * can send it (the command line names itself otherwise there).
 */
export function deviceToolName(value: unknown): string {
  const name = clientId(value);
  const plain = [...name.toLowerCase()]
    .map((c) => LOOKALIKES[c] ?? c)
    .join('')
    .replace(/[^a-z]/g, '');
  if (OWN_NAME.test(plain)) {
    throw refuse(
      'tool_name_refused',
      'client_id must not name the token generator: give your tool its own name (for example k6 in CI), which the employee is shown.',
    );
  }
  return name;
}

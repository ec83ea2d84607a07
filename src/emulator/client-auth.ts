/**
 * Client authentication at the token endpoint, as strict as Entra ID's: a client secret (in the
 * body or as HTTP Basic) or a client assertion signed with a registered key, never both.
 */
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { errors } from './errors.js';
import { safeEqual, type ClientRecord, type Directory } from './directory.js';
import { ASSERTION_ALGORITHMS, keyObjectOf, signatureVerifies } from './jws.js';
import type { Params } from './params.js';
import type { BoundedStore } from './stores.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const CLOCK_SKEW_S = 60;
/** Entra refuses client assertions valid for longer than ten minutes. */
const MAX_ASSERTION_LIFETIME_S = 600;

export interface AuthenticatedClient {
  client: ClientRecord;
  /** Entra's azpacr: 1 for a secret, 2 for an assertion. */
  acr: '1' | '2';
}

export interface Endpoints {
  issuer: string;
  tokenEndpoint: string;
}

export interface ClientAuthContext {
  directory: Directory;
  endpoints: Endpoints;
  /** The `jti`s seen, so that an assertion is used once. */
  assertionIds: BoundedStore<true>;
}

/**
 * `client_id:client_secret` from a Basic header. RFC 6749 (2.3.1) has both form-encoded, but many
 * clients send them as they are, so the secret is tried both ways. Undefined when malformed.
 */
function decodeBasic(encoded: string): { clientId: string; secrets: string[] } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const formDecode = (value: string) => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      return value;
    }
  };
  const rawSecret = decoded.slice(colon + 1);
  return { clientId: formDecode(decoded.slice(0, colon)), secrets: [...new Set([formDecode(rawSecret), rawSecret])] };
}

/** The client a token request comes from, or the Entra error that refuses it. */
export async function authenticateClient(context: ClientAuthContext, params: Params, authorization: string | undefined): Promise<AuthenticatedClient> {
  let clientId = params.client_id;
  let secrets = params.client_secret === undefined ? [] : [params.client_secret];
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const basic = decodeBasic(authorization.slice(6).trim());
    if (!basic) throw errors.malformed('The Authorization header is not valid Basic authentication (base64 of client_id:client_secret).');
    if (params.client_id !== undefined && params.client_id !== basic.clientId) {
      throw errors.malformed('The client_id in the body differs from the one in the Authorization header.');
    }
    if (params.client_secret !== undefined) throw errors.malformed('Send the client secret once: in the Authorization header or in the body, not both.');
    clientId = basic.clientId;
    secrets = basic.secrets;
  }
  if (params.client_assertion !== undefined || params.client_assertion_type !== undefined) {
    if (secrets.length > 0) throw errors.malformed('Send either a client secret or a client assertion, not both.');
    return authenticateAssertion(context, params, clientId);
  }
  if (!clientId) throw errors.missingParameter('client_id');
  const client = context.directory.clients.get(clientId);
  if (!client) throw errors.unknownClient(clientId.slice(0, 100));
  if (secrets.length === 0 || secrets[0] === '') throw errors.noCredential();
  if (!client.secrets.some((known) => secrets.some((secret) => safeEqual(known, secret)))) throw errors.invalidSecret(clientId);
  return { client, acr: '1' };
}

async function authenticateAssertion(context: ClientAuthContext, params: Params, clientId: string | undefined): Promise<AuthenticatedClient> {
  if (params.client_assertion_type === undefined) throw errors.missingParameter('client_assertion_type');
  if (params.client_assertion_type !== ASSERTION_TYPE) throw errors.assertionClaims(`client_assertion_type must be ${ASSERTION_TYPE}.`);
  const assertion = params.client_assertion;
  if (!assertion) throw errors.missingParameter('client_assertion');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    payload = decodeJwt(assertion);
  } catch {
    throw errors.assertionClaims('The client assertion is not a signed JWT.');
  }
  const issuer = typeof payload.iss === 'string' && payload.iss !== '' ? payload.iss : undefined;
  if (!issuer) throw errors.assertionClaims('The client assertion has no iss: it must be the client id.');
  if (payload.sub !== issuer) throw errors.assertionSubject();
  if (clientId !== undefined && clientId !== issuer) throw errors.assertionClientMismatch();
  const client = context.directory.clients.get(issuer);
  if (!client) throw errors.unknownClient(issuer.slice(0, 100));
  await verifyAssertionSignature(context.directory, client, assertion, header);
  checkAssertionClaims(context.endpoints, payload);
  const seen = `${client.clientId}:${String(payload.jti)}`;
  if (context.assertionIds.has(seen)) throw errors.assertionReplayed();
  context.assertionIds.set(seen, true, ((payload.exp as number) + CLOCK_SKEW_S) * 1000 - Date.now());
  return { client, acr: '2' };
}

async function verifyAssertionSignature(directory: Directory, client: ClientRecord, assertion: string, header: ReturnType<typeof decodeProtectedHeader>) {
  if (!header.kid) {
    throw errors.assertionSignature(`The assertion names no key: its header has no kid. Keys registered for '${client.clientId}' are known by kid.`);
  }
  const alg = typeof header.alg === 'string' && ASSERTION_ALGORITHMS.includes(header.alg) ? header.alg : undefined;
  if (!alg) throw errors.assertionSignature(`The assertion's algorithm must be one of ${ASSERTION_ALGORITHMS.join(', ')}.`);
  const key = await directory.clientKey(client, header.kid, alg);
  if (!key) throw errors.assertionSignature(`Key was not found for kid '${header.kid.slice(0, 100)}' and alg ${alg} of client '${client.clientId}'.`);
  if (!signatureVerifies(assertion, alg, keyObjectOf(key))) throw errors.assertionSignature('The signature does not verify with the registered key.');
}

/** The assertion's times, audience and jti, as Entra checks them. */
function checkAssertionClaims(endpoints: Endpoints, payload: JWTPayload): void {
  const time = Math.floor(Date.now() / 1000);
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'number') throw errors.assertionClaims(`The claim ${claim} is not valid.`);
  }
  if (typeof payload.exp === 'number' && payload.exp <= time - CLOCK_SKEW_S) throw errors.assertionTime('The assertion has expired.');
  if (typeof payload.nbf === 'number' && payload.nbf > time + CLOCK_SKEW_S) throw errors.assertionTime('The assertion is not yet valid (nbf is in the future).');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (audiences.length !== 1 || !audiences.some((aud) => aud === endpoints.tokenEndpoint || aud === endpoints.issuer)) {
    throw errors.assertionAudience(endpoints.tokenEndpoint);
  }
  if (typeof payload.exp !== 'number') throw errors.assertionClaims('The assertion has no exp.');
  if (payload.iat !== undefined && payload.iat > time + CLOCK_SKEW_S) throw errors.assertionTime('The assertion was issued in the future (iat).');
  const start = typeof payload.nbf === 'number' ? payload.nbf : typeof payload.iat === 'number' ? payload.iat : undefined;
  if (start === undefined) throw errors.assertionClaims('The assertion has neither nbf nor iat.');
  const lifetime = payload.exp - Math.min(start, typeof payload.iat === 'number' ? payload.iat : start);
  if (lifetime > MAX_ASSERTION_LIFETIME_S || payload.exp - time > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
    throw errors.assertionTime(`The assertion is valid for ${lifetime} seconds; at most ${MAX_ASSERTION_LIFETIME_S} are accepted.`);
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') throw errors.assertionClaims('The assertion has no jti.');
}

/**
 * Client authentication at the token endpoint, as strict as Entra ID's: a client secret (in the
 * body or as HTTP Basic) or a client assertion signed with a registered key, never both. A public
 * client (one with a `spa` or `native` redirect) may send neither; the grant then decides whether
 * what it redeems was issued to a public client.
 */
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { errors } from './errors.js';
import { safeEqual, type Directory } from './directory.js';
import type { ClientRecord } from './model.js';
import { certificateThumbprints, thumbprintName } from './client-keys.js';
import { ASSERTION_ALGORITHMS, keyObjectOf, signatureVerifies } from './jws.js';
import type { Params } from './params.js';
import type { BoundedStore } from './stores.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const CLOCK_SKEW_S = 60;
/** Entra refuses client assertions valid for longer than ten minutes. */
const MAX_ASSERTION_LIFETIME_S = 600;

export interface AuthenticatedClient {
  client: ClientRecord;
  /** Entra's azpacr: 0 for a public client without a credential, 1 for a secret, 2 for an assertion. */
  acr: '0' | '1' | '2';
}

export interface Endpoints {
  issuer: string;
  tokenEndpoint: string;
}

export interface ClientAuthContext {
  directory: Directory;
  endpoints: Endpoints;
  /** The `jti`s seen, so that an assertion is used once. */
  /** The `jti`s seen, each with the signature of a certificate assertion (which may come again) or ''. */
  assertionIds: BoundedStore<string>;
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
export async function authenticateClient(
  context: ClientAuthContext,
  params: Params,
  authorization: string | undefined,
): Promise<AuthenticatedClient> {
  let clientId = params.client_id;
  let secrets = params.client_secret === undefined ? [] : [params.client_secret];
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const basic = decodeBasic(authorization.slice(6).trim());
    if (!basic) throw errors.malformed('The Authorization header is not valid Basic authentication (base64 of client_id:client_secret).');
    if (params.client_id !== undefined && params.client_id !== basic.clientId) {
      throw errors.malformed('The client_id in the body differs from the one in the Authorization header.');
    }
    if (params.client_secret !== undefined)
      throw errors.malformed('Send the client secret once: in the Authorization header or in the body, not both.');
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
  const credentialless = client.secrets.length === 0 && client.keys.size === 0;
  if (secrets.length === 0 || secrets[0] === '') {
    if (client.publicClient) return { client, acr: '0' };
    throw errors.noCredential();
  }
  if (client.publicClient && credentialless) throw errors.publicClientCredential();
  if (!client.secrets.some((known) => secrets.some((secret) => safeEqual(known, secret)))) throw errors.invalidSecret(clientId);
  return { client, acr: '1' };
}

async function authenticateAssertion(
  context: ClientAuthContext,
  params: Params,
  clientId: string | undefined,
): Promise<AuthenticatedClient> {
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
  const byCertificate = await verifyAssertionSignature(context.directory, client, assertion, header);
  checkAssertionClaims(context.endpoints, payload);
  // MSAL (and @azure/identity through it) signs one certificate assertion and sends it again until it
  // expires, which Entra accepts: the very same one may come back; any other with a seen jti may not.
  const seen = `${client.clientId}:${String(payload.jti)}`;
  const signature = byCertificate ? assertion.slice(assertion.lastIndexOf('.') + 1, assertion.lastIndexOf('.') + 44) : '';
  const earlier = context.assertionIds.get(seen);
  if (earlier !== undefined && (earlier === '' || earlier !== signature)) throw errors.assertionReplayed();
  if (earlier === undefined) context.assertionIds.set(seen, signature, ((payload.exp as number) + CLOCK_SKEW_S) * 1000 - Date.now());
  return { client, acr: '2' };
}

type Header = ReturnType<typeof decodeProtectedHeader>;

/**
 * The registered key an assertion's header names: by kid, or by its certificate's thumbprint
 * (`x5t#S256`, else `x5t`), as Entra's certificate credentials are named. With `x5c`, its first
 * certificate must be the one the thumbprint names.
 */
function keyIdOf(client: ClientRecord, header: Header): { keyId: string; byCertificate: boolean } {
  if (header.kid) return { keyId: header.kid, byCertificate: false };
  const sha256 = header['x5t#S256'];
  const sha1 = header.x5t;
  const named =
    typeof sha256 === 'string' ? thumbprintName('x5t#S256', sha256) : typeof sha1 === 'string' ? thumbprintName('x5t', sha1) : undefined;
  if (!named) {
    throw errors.assertionSignature(
      `The assertion names no key: its header has no kid, x5t#S256 or x5t. Keys registered for '${client.clientId}' are known by ` +
        `kid or by their certificate's thumbprint.`,
    );
  }
  const keyId = client.thumbprints.get(named);
  const thumbprint = named.slice(named.indexOf(':') + 1, 200);
  if (!keyId) {
    throw errors.assertionSignature(
      `The certificate with identifier used to sign the client assertion is not registered on application '${client.clientId}'. ` +
        `Thumbprint of key used by client: '${thumbprint}'.`,
    );
  }
  const leaf = Array.isArray(header.x5c) && typeof header.x5c[0] === 'string' ? header.x5c[0] : undefined;
  if (header.x5c !== undefined && (!leaf || !certificateThumbprints(Buffer.from(leaf, 'base64')).includes(named))) {
    throw errors.assertionSignature(`The first certificate in x5c is not the one whose thumbprint '${thumbprint}' the header names.`);
  }
  return { keyId, byCertificate: true };
}

/** Verifies the signature; says whether the key was named by its certificate. */
async function verifyAssertionSignature(directory: Directory, client: ClientRecord, assertion: string, header: Header): Promise<boolean> {
  const { keyId, byCertificate } = keyIdOf(client, header);
  const alg = typeof header.alg === 'string' && ASSERTION_ALGORITHMS.includes(header.alg) ? header.alg : undefined;
  if (!alg) throw errors.assertionSignature(`The assertion's algorithm must be one of ${ASSERTION_ALGORITHMS.join(', ')}.`);
  const key = await directory.clientKey(client, keyId, alg);
  if (!key)
    throw errors.assertionSignature(`Key was not found for kid '${keyId.slice(0, 100)}' and alg ${alg} of client '${client.clientId}'.`);
  if (!signatureVerifies(assertion, alg, keyObjectOf(key)))
    throw errors.assertionSignature('The signature does not verify with the registered key.');
  return byCertificate;
}

/** The assertion's times, audience and jti, as Entra checks them. */
function checkAssertionClaims(endpoints: Endpoints, payload: JWTPayload): void {
  const time = Math.floor(Date.now() / 1000);
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'number')
      throw errors.assertionClaims(`The claim ${claim} is not valid.`);
  }
  if (typeof payload.exp === 'number' && payload.exp <= time - CLOCK_SKEW_S) throw errors.assertionTime('The assertion has expired.');
  if (typeof payload.nbf === 'number' && payload.nbf > time + CLOCK_SKEW_S)
    throw errors.assertionTime('The assertion is not yet valid (nbf is in the future).');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (audiences.length !== 1 || !audiences.some((aud) => aud === endpoints.tokenEndpoint || aud === endpoints.issuer)) {
    throw errors.assertionAudience(endpoints.tokenEndpoint);
  }
  if (typeof payload.exp !== 'number') throw errors.assertionClaims('The assertion has no exp.');
  if (payload.iat !== undefined && payload.iat > time + CLOCK_SKEW_S)
    throw errors.assertionTime('The assertion was issued in the future (iat).');
  const start = typeof payload.nbf === 'number' ? payload.nbf : typeof payload.iat === 'number' ? payload.iat : undefined;
  if (start === undefined) throw errors.assertionClaims('The assertion has neither nbf nor iat.');
  // From nbf when there is one: MSAL rounds its nbf and jsonwebtoken floors the iat it adds, a second apart.
  const lifetime = payload.exp - start;
  if (lifetime > MAX_ASSERTION_LIFETIME_S || payload.exp - time > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
    throw errors.assertionTime(`The assertion is valid for ${lifetime} seconds; at most ${MAX_ASSERTION_LIFETIME_S} are accepted.`);
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') throw errors.assertionClaims('The assertion has no jti.');
}

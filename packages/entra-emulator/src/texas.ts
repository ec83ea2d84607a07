/**
 * Texas's API (NAIS's token sidecar) for each app of the directory, under the app's own path:
 * `POST /apps/<cluster:namespace:app>/api/v1/token`, `/token/exchange` and `/introspect`, with
 * Texas's request and response shapes, for identity provider `entra_id`. The emulator answers as
 * that app, through the same grants and access policies as its token endpoint.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, type JWTPayload } from 'jose';
import { texasPath, UnknownAppError, type Apps } from './apps.js';
import { EntraError } from './errors.js';
import { JWT_BEARER, type GrantContext } from './grants/index.js';
import { issueTokensFor } from './token-endpoint.js';
import { sameOriginOnly } from './same-origin.js';
import { TexasTokenCache } from './texas-cache.js';

const PROVIDERS_ENABLED = new Set(['entra_id', 'azuread']);
const PROVIDERS_KNOWN = new Set(['tokenx', 'maskinporten', 'idporten']);
const LEEWAY_S = 60;

export interface TexasOptions {
  apps: Apps;
  context: GrantContext;
  bodyLimit: number;
}

class TexasError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

const invalidRequest = (description: string) => new TexasError(400, 'invalid_request', description);

type Body = Record<string, unknown>;

/** A field Texas requires as a string; an empty one is still one (Texas hands it on as it came). */
function field(body: Body, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw invalidRequest(`missing required field: ${name}`);
  return value;
}

function skipCache(body: Body): boolean {
  const value = body.skip_cache ?? false;
  if (typeof value !== 'boolean') throw invalidRequest('skip_cache must be true or false');
  return value;
}

/**
 * What else Texas's token request may carry, checked as Texas checks it: `resource` a string,
 * `authorization_details` an array of objects (or that array as a JSON string). Entra ID uses
 * neither, but Texas keeps a token per value of both.
 */
function tokenExtras(body: Body): string {
  const resource = body.resource ?? null;
  if (resource !== null && typeof resource !== 'string') throw invalidRequest('resource must be a string');
  let details: unknown = body.authorization_details ?? null;
  if (typeof details === 'string') {
    try {
      details = JSON.parse(details) as unknown;
    } catch {
      details = undefined;
    }
  }
  const objects = Array.isArray(details) && details.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item));
  if (details !== null && !objects) throw invalidRequest('authorization_details must be a JSON array of objects');
  return JSON.stringify([resource, details]);
}

/** The identity provider a request names; Texas refuses a name it does not know as a body it cannot read. */
function identityProvider(body: Body): string {
  const provider = field(body, 'identity_provider');
  if (PROVIDERS_ENABLED.has(provider) || PROVIDERS_KNOWN.has(provider)) return provider;
  throw invalidRequest(`identity provider '${provider.slice(0, 50)}' is not one of entra_id, tokenx, maskinporten, idporten`);
}

/** Why Texas cannot use a provider it knows, or undefined for Entra ID, the one the emulator serves. */
function notEnabled(provider: string): string | undefined {
  return PROVIDERS_ENABLED.has(provider) ? undefined : `identity provider '${provider}' is not enabled`;
}

function checkEnabled(provider: string): void {
  const reason = notEnabled(provider);
  if (reason) throw invalidRequest(reason);
}

/** Why a token is not valid for the app, in the emulator's own words: apps act on `active`, the reason is for people. */
function introspectionError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token is expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `token has no ${err.claim} claim`;
    if (err.claim === 'aud') return "token's audience is not this app's client id";
    if (err.claim === 'iss') return "token's issuer is not this tenant";
    if (err.claim === 'nbf') return 'token is not valid yet';
    return `token's ${err.claim} claim is not valid`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'token is not signed by a key of the issuer';
  return 'token is not a valid JWT';
}

export async function texasRoutes(app: FastifyInstance, options: TexasOptions): Promise<void> {
  const { apps, context } = options;
  const cache = new TexasTokenCache();
  app.addHook('onRequest', sameOriginOnly(true));

  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: options.bodyLimit }, (_request, text, done) => {
    try {
      done(null, text === '' ? {} : JSON.parse(String(text)));
    } catch {
      done(invalidRequest('the body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler(texasErrorHandler(options.bodyLimit));

  const clientOf = (target: string) => apps.client(target);

  const base = `${texasPath(':target')}/api/v1`;
  // Texas's routes take POST only, and answer any other method with 405 and an empty body.
  for (const endpoint of ['token', 'token/exchange', 'introspect'])
    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: `${base}/${endpoint}`,
      handler: async (_request, reply) => reply.code(405).header('allow', 'POST').send(),
    });

  app.post<{ Params: { target: string } }>(`${base}/token`, async (request, reply) => {
    const body = bodyOf(request);
    const provider = identityProvider(body);
    const target = field(body, 'target');
    const extras = tokenExtras(body);
    const skip = skipCache(body);
    checkEnabled(provider);
    const client = clientOf(request.params.target);
    const answer = await cache.token(JSON.stringify(['token', client.clientId, target, extras]), skip, () =>
      issueTokensFor(context, client, { grant_type: 'client_credentials', scope: target }),
    );
    return reply.header('cache-control', 'no-store').send(answer);
  });

  app.post<{ Params: { target: string } }>(`${base}/token/exchange`, async (request, reply) => {
    const body = bodyOf(request);
    const provider = identityProvider(body);
    const target = field(body, 'target');
    const userToken = field(body, 'user_token');
    const skip = skipCache(body);
    checkEnabled(provider);
    const client = clientOf(request.params.target);
    const answer = await cache.token(JSON.stringify(['exchange', client.clientId, target, userToken]), skip, () =>
      issueTokensFor(context, client, { grant_type: JWT_BEARER, requested_token_use: 'on_behalf_of', scope: target, assertion: userToken }),
    );
    return reply.header('cache-control', 'no-store').send(answer);
  });

  app.post<{ Params: { target: string } }>(`${base}/introspect`, async (request, reply) => {
    const body = bodyOf(request);
    const provider = identityProvider(body);
    const token = field(body, 'token');
    const client = clientOf(request.params.target);
    // Texas reads the request, then answers a provider it does not serve as it answers a token it cannot use.
    const disabled = notEnabled(provider);
    if (disabled) return reply.header('cache-control', 'no-store').send({ active: false, error: disabled });
    return reply.header('cache-control', 'no-store').send(await introspection(context, client.clientId, token));
  });
}

/** Texas's answer on a token for the app: its claims if Entra ID made it for this app and it is valid now, else why not. */
async function introspection(context: GrantContext, clientId: string, token: string): Promise<Record<string, unknown>> {
  let payload: JWTPayload;
  try {
    ({ payload } = await context.keys.verify(token, {
      issuer: context.endpoints.issuer,
      audience: clientId,
      clockTolerance: LEEWAY_S,
      requiredClaims: ['exp', 'iat'],
    }));
  } catch (err) {
    return { active: false, error: introspectionError(err) };
  }
  // jose checks iat only against a maximum age; Texas wants whole seconds, not after now (with leeway).
  const iat = payload.iat!;
  if (!Number.isSafeInteger(iat) || iat < 0) return { active: false, error: "token's iat claim is not a whole number of seconds" };
  if (iat > Math.floor(Date.now() / 1000) + LEEWAY_S) return { active: false, error: 'token is issued in the future' };
  return { active: true, ...payload };
}

/** The request's fields with the types Texas reads from JSON: a form's `skip_cache` is the word true or false. */
function bodyOf(request: FastifyRequest): Body {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('the body must be an object of fields');
  if (/^application\/json/i.test(request.headers['content-type'] ?? '')) return body as Body;
  const fields = { ...(body as Body) };
  if (fields.skip_cache === 'true' || fields.skip_cache === 'false') fields.skip_cache = fields.skip_cache === 'true';
  else if (fields.skip_cache !== undefined) throw invalidRequest('skip_cache must be true or false');
  return fields;
}

function sendError(reply: FastifyReply, error: TexasError) {
  return reply.code(error.status).header('cache-control', 'no-store').send({ error: error.error, error_description: error.description });
}

/** Texas's error answers: its own, Entra's in Texas's shape, and the body faults Fastify finds. */
function texasErrorHandler(bodyLimit: number) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof TexasError) return sendError(reply, error);
    if (error instanceof UnknownAppError) return sendError(reply, new TexasError(404, 'invalid_request', error.message));
    if (error instanceof EntraError) {
      const body = error.body('');
      return reply
        .code(error.status)
        .header('cache-control', 'no-store')
        .send({ error: body.error, error_description: body.error_description });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 415)
      return sendError(reply, invalidRequest('unsupported content type: send application/json or application/x-www-form-urlencoded'));
    if (status === 413) return sendError(reply, new TexasError(413, 'invalid_request', `the body is larger than ${bodyLimit} bytes`));
    if (status < 500) return sendError(reply, invalidRequest('the request body cannot be read'));
    request.log.error({ reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' }, 'texas request failed');
    return sendError(reply, new TexasError(500, 'server_error', 'the emulator failed to process the request'));
  };
}

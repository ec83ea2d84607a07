/** What the sign-in pages share: their options and parts, their error page, their rate limit and their same-origin check. */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Directory } from '../directory.js';
import { EntraError, errors } from '../errors.js';
import type { KeyRing } from '../key-ring.js';
import { singleValued, type Params } from '../params.js';
import type { Stores } from '../stores.js';
import type { SignInFormTokens } from './form-token.js';
import { errorPage } from './pages.js';
import type { SignInRateLimit } from './rate-limit.js';
import { sendPage } from './responses.js';
import type { SingleSignOn } from './sign-on.js';

export interface LoginOptions {
  directory: Directory;
  stores: Stores;
  keys: KeyRing;
  basePath: string;
  /** The base URL and issuer clients use, known once the server listens. */
  urls: { baseUrl: string; issuer: string };
  /** Mark the SSO cookie Secure (the emulator is reached over HTTPS). */
  secureCookies?: boolean;
  /** Sign-in requests (GET or POST of the authorize endpoint) an address may make in a minute; 0 is no limit. */
  signInRateLimit?: number;
  /** The key of the sign-in forms' tokens (`signInFormKey`). */
  formKey: Buffer;
}

export interface SignInFlow extends LoginOptions {
  authorizePath: string;
  signOn: SingleSignOn;
  formTokens: SignInFormTokens;
  deviceFormTokens: SignInFormTokens;
  rateLimit: SignInRateLimit;
}

export const showError = (reply: FastifyReply, err: EntraError, tenantId: string) => sendPage(reply, err.status, errorPage(err, tenantId));

/** The parameters, or the error page for ones sent twice. */
export function readParams(source: unknown, reply: FastifyReply, tenantId: string): Params | undefined {
  try {
    return singleValued(source);
  } catch (err) {
    if (!(err instanceof EntraError)) throw err;
    showError(reply, err, tenantId);
    return undefined;
  }
}

/** The onRequest hook of the sign-in pages: at most the limit's requests per address, then Entra's throttling page. */
export function rateLimited(flow: SignInFlow) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const wait = flow.rateLimit.take(request.ip);
    if (wait === undefined) return done();
    reply.header('retry-after', String(wait));
    showError(reply, errors.signInThrottled(flow.rateLimit.max, flow.rateLimit.windowSeconds), flow.directory.tenantId);
  };
}

/** Whether a form comes from a page of this origin, not from another site. */
export function sameOrigin(flow: SignInFlow, request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== new URL(flow.urls.baseUrl).origin) return false;
  return request.headers['sec-fetch-site'] !== 'cross-site';
}

/**
 * Entra's device authorization endpoint (`/{tenant}/oauth2/v2.0/devicecode`): a client names itself
 * and its scopes and gets a device code to poll the token endpoint with, and a user code the
 * employee types on the emulator's device login page, with Entra's fields and its `message`.
 */
import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Directory } from './directory.js';
import { errors } from './errors.js';
import { formParams } from './params.js';
import { randomToken } from './random.js';
import { loginResource, scopeItems } from './scopes.js';
import type { Stores } from './stores.js';

/** Entra's: a code lives fifteen minutes (and is polled every five seconds, see options.ts). */
const LIFETIME_S = 900;
/** Letters and digits no one mistakes for another (no 0/O, 1/I/L). */
const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const USER_CODE_LENGTH = 9;

/** The path of the page where the employee enters the user code: Entra's is https://microsoft.com/devicelogin. */
export const DEVICE_LOGIN_PATH = '/devicelogin';

/** A user code as typed: upper case, without the spaces and dashes people put in. */
export function normalUserCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '').slice(0, 20);
}

function newUserCode(stores: Stores): string {
  for (;;) {
    let code = '';
    for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
    if (!stores.userCodes.has(code)) return code;
  }
}

export interface DeviceAuthorizationOptions {
  directory: Directory;
  stores: Stores;
  path: string;
  urls: { baseUrl: string };
  /** The seconds the device is told to wait between polls. */
  intervalSeconds: number;
}

export function deviceAuthorizationRoute(app: FastifyInstance, options: DeviceAuthorizationOptions): void {
  const { directory, stores } = options;
  app.post(options.path, async (request, reply) => {
    const params = formParams(request.body, request.headers['content-type']);
    if (!params.client_id) throw errors.missingParameter('client_id');
    const client = directory.clients.get(params.client_id);
    if (!client) throw errors.unknownClient(params.client_id.slice(0, 100));
    if (!params.scope?.trim()) throw errors.missingParameter('scope');
    const scopes = scopeItems(params.scope);
    // Its tokens are for these scopes (the device code grant names none): one resource, refused as before any sign-in.
    loginResource(directory, scopes, () => errors.scopesAcrossResources());

    const lifetimeMs = Math.min(LIFETIME_S * 1000, stores.deviceCodes.limits.lifetimeMs);
    const userCode = newUserCode(stores);
    const deviceCode = randomToken(48);
    const authorization = {
      tenantId: directory.tenantId,
      clientId: client.clientId,
      scopes,
      userCode,
      expiresAt: Date.now() + lifetimeMs,
      intervalSeconds: options.intervalSeconds,
      status: 'pending' as const,
    };
    stores.deviceCodes.set(deviceCode, authorization);
    stores.userCodes.set(userCode, deviceCode, lifetimeMs);
    const verificationUri = `${options.urls.baseUrl}${DEVICE_LOGIN_PATH}`;
    return reply.header('cache-control', 'no-store').send({
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: verificationUri,
      expires_in: Math.floor(lifetimeMs / 1000),
      interval: options.intervalSeconds,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  });
}

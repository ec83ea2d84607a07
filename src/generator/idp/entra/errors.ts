import * as oidc from 'openid-client';
import { describeFailure, IdpError, type IdpFailure, type Refusal } from '../identity-provider.js';

/** Codes by which Entra refuses this service's own credentials: an operator must act. */
const OWN_CREDENTIALS_REFUSED = new Set([700016, 7000215, 7000218, 700027, 700024, 700023, 700021, 50048, 50027, 7000112]);

/** What Entra's refusal means for the generator (see `Refusal`), from its codes. */
export function refusalOf(failure: Extract<IdpFailure, { kind: 'rejected' }>): Refusal | undefined {
  if ((failure.aadsts !== undefined && OWN_CREDENTIALS_REFUSED.has(failure.aadsts)) || failure.error === 'invalid_client')
    return 'own_credentials';
  if (failure.error === 'unauthorized_client') return 'own_credentials';
  // AADSTS500133: Entra holds the assertion expired (its clock, or the time the request took).
  if (failure.aadsts === 500133) return 'employee_token_expired';
  if (failure.aadsts === 50013) return 'employee_token';
  return undefined;
}

/** Thrown by the outbound fetch so that the cause survives openid-client's own wrapping. */
export class TransportError extends Error {
  constructor(readonly failure: Extract<IdpFailure, { kind: 'unreachable' | 'timeout' }>) {
    super(describeFailure(failure));
    this.name = 'TransportError';
  }
}

export function aadstsOf(body: { error_codes?: unknown; error_description?: unknown }): number | undefined {
  if (Array.isArray(body.error_codes) && typeof body.error_codes[0] === 'number') return body.error_codes[0];
  if (typeof body.error_description === 'string') {
    const match = /^AADSTS(\d+)/.exec(body.error_description);
    if (match?.[1]) return Number(match[1]);
  }
  return undefined;
}

function findTransportError(err: unknown): TransportError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof TransportError) return current;
    current = current.cause;
  }
  return undefined;
}

/** Turns whatever openid-client or fetch threw into an IdpError. */
export function toIdpError(err: unknown): IdpError {
  if (err instanceof IdpError) return err;
  const transport = findTransportError(err);
  if (transport) return new IdpError(transport.failure);
  if (err instanceof oidc.ResponseBodyError) {
    const body = err.cause;
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    const aadsts = aadstsOf(body);
    const suberror = typeof body.suberror === 'string' ? body.suberror : undefined;
    const failure: IdpFailure = {
      kind: 'rejected',
      status: err.status,
      error: err.error,
      ...(description !== undefined ? { description } : {}),
      ...(aadsts !== undefined ? { aadsts } : {}),
      ...(suberror !== undefined ? { suberror } : {}),
    };
    return new IdpError(failure, refusalOf(failure));
  }
  if (err instanceof oidc.ClientError) {
    const status = responseStatus(err.cause);
    return new IdpError({ kind: 'bad-response', detail: err.message, ...(status !== undefined ? { status } : {}) });
  }
  const detail = err instanceof Error ? err.message : 'unknown error';
  return new IdpError({ kind: 'bad-response', detail });
}

function responseStatus(cause: unknown): number | undefined {
  if (cause instanceof Response) return cause.status;
  return undefined;
}

import * as oidc from 'openid-client';

/** What went wrong when talking to the identity provider. */
export type IdpFailure =
  /** The identity provider answered with an OAuth error body. */
  | {
      kind: 'rejected';
      status: number;
      error: string;
      description?: string;
      /** The first AADSTS code, from `error_codes` or the start of `error_description`. */
      aadsts?: number;
      suberror?: string;
    }
  /** No answer: connection refused, reset, DNS failure. */
  | { kind: 'unreachable'; detail: string }
  /** No answer in time. */
  | { kind: 'timeout'; timeoutMs: number }
  /** An answer that is not a readable OAuth response (HTML, a redirect, broken JSON, a 5xx without body). */
  | { kind: 'bad-response'; detail: string; status?: number };

/** Codes by which Entra refuses this service's own credentials: an operator must act. */
const OWN_CREDENTIALS_REFUSED = new Set([700016, 7000215, 7000218, 700027, 700024, 700023, 700021, 50048, 50027, 7000112]);

export class IdpError extends Error {
  constructor(readonly failure: IdpFailure) {
    super(describeFailure(failure));
    this.name = 'IdpError';
  }

  /** Worth another try: the identity provider may answer next time. */
  get retryable(): boolean {
    const f = this.failure;
    if (f.kind === 'unreachable' || f.kind === 'timeout') return true;
    return (f.status ?? 0) >= 500;
  }

  /** The identity provider refuses this service's own client authentication: no request of anyone's can succeed. */
  get ownCredentialsRefused(): boolean {
    const f = this.failure;
    if (f.kind !== 'rejected') return false;
    return (
      (f.aadsts !== undefined && OWN_CREDENTIALS_REFUSED.has(f.aadsts)) || f.error === 'invalid_client' || f.error === 'unauthorized_client'
    );
  }

  /** The identity provider refuses the employee's token presented as assertion (invalid, or expired). */
  get userAssertionRefused(): boolean {
    const f = this.failure;
    return f.kind === 'rejected' && (f.aadsts === 50013 || f.aadsts === 500133);
  }

  /** The identity provider says the grant (a refresh token, a code) is gone: only a new login helps. */
  get grantGone(): boolean {
    return this.failure.kind === 'rejected' && this.failure.error === 'invalid_grant';
  }
}

export function describeFailure(failure: IdpFailure): string {
  switch (failure.kind) {
    case 'rejected':
      return `the identity provider refused the request: ${failure.error}${failure.aadsts ? ` (AADSTS${failure.aadsts})` : ''}`;
    case 'unreachable':
      return `the identity provider could not be reached (${failure.detail})`;
    case 'timeout':
      return `the identity provider did not answer within ${failure.timeoutMs} ms`;
    case 'bad-response':
      return `the identity provider answered something unreadable (${failure.detail})`;
  }
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
    return new IdpError({
      kind: 'rejected',
      status: err.status,
      error: err.error,
      ...(description !== undefined ? { description } : {}),
      ...(aadsts !== undefined ? { aadsts } : {}),
      ...(suberror !== undefined ? { suberror } : {}),
    });
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

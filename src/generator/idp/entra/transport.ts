/**
 * Every request to Entra ID: bounded in time, redirects never followed, token requests retried on
 * transport errors and 5xx, and whatever failed turned into an IdpError from Entra's error body.
 * openid-client does the protocol; this module is what it fetches with and how its grants are run.
 */
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import {
  describeFailure,
  IdpError,
  LoginValidationError,
  type Grant,
  type IdpFailure,
  type TokenRequestEvent,
  type TokenResponse,
} from '../identity-provider.js';
import { refusalOf } from './advice.js';

export interface TransportOptions {
  timeoutMs: number;
  retries: number;
  logger: Logger;
  onTokenRequest?: (event: TokenRequestEvent) => void;
  /** Told the outcome of every token request: whether Entra took this service's own credentials. */
  credentials?: { accepted(): void; refused(error: IdpError): void };
}

export class Transport {
  constructor(private readonly options: TransportOptions) {}

  /** The longest one grant can take, every retry and pause between them included. */
  get longestGrantMs(): number {
    let total = (this.options.retries + 1) * this.options.timeoutMs;
    for (let attempt = 1; attempt <= this.options.retries; attempt++) total += retryPauseMs(attempt);
    return total;
  }

  /**
   * openid-client's own timeout, in whole seconds, is set a second past IDP_TIMEOUT_MS so that ours
   * always fires first and the failure is known as a timeout (with equal timers the library's won
   * whenever IDP_TIMEOUT_MS was a whole number of seconds, and the abort looked like a lost connection).
   */
  get libraryTimeoutSeconds(): number {
    return Math.ceil(this.options.timeoutMs / 1000) + 1;
  }

  /** Makes openid-client fetch through this transport. */
  use(configuration: oidc.Configuration): void {
    configuration[oidc.customFetch] = this.fetch;
    configuration.timeout = this.libraryTimeoutSeconds;
  }

  /**
   * One grant, retried on transport errors and 5xx when `retry`. Each attempt goes through
   * openid-client again, so a fresh client assertion (new jti) is signed every time.
   */
  async grant(grant: Grant, request: () => Promise<oidc.TokenEndpointResponse>, retry = true): Promise<TokenResponse> {
    const attempts = retry ? this.options.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const response = await request();
        this.options.onTokenRequest?.({ grant, outcome: 'success', durationMs: performance.now() - started });
        this.options.credentials?.accepted();
        return toTokenResponse(response);
      } catch (err) {
        if (err instanceof LoginValidationError) throw err;
        const error = toIdpError(err);
        this.report(grant, error, performance.now() - started);
        if (!error.retryable || attempt >= attempts) throw error;
        this.options.logger.warn({ grant, attempt, reason: error.message }, 'token request failed, trying again');
        await new Promise((resolve) => setTimeout(resolve, retryPauseMs(attempt)));
      }
    }
  }

  private report(grant: Grant, error: IdpError, durationMs: number): void {
    const failure = error.failure;
    this.options.onTokenRequest?.({
      grant,
      outcome: failure.kind,
      ...(failure.kind === 'rejected' && failure.aadsts !== undefined ? { aadsts: failure.aadsts } : {}),
      durationMs,
    });
    if (error.ownCredentialsRefused) this.options.credentials?.refused(error);
  }

  /** What openid-client fetches with. */
  readonly fetch = async (url: string, init: oidc.CustomFetchOptions): Promise<Response> => {
    const timeoutMs = this.options.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await fetch(url, {
        method: init.method,
        headers: init.headers,
        body: init.body as string | URLSearchParams | null,
        redirect: 'manual',
        signal,
      });
    } catch (err) {
      if (timeout.aborted || isTimeout(init.signal?.reason) || isTimeout(err)) throw new TransportError({ kind: 'timeout', timeoutMs });
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
      throw new TransportError({ kind: 'unreachable', detail: cause ?? (err instanceof Error ? err.message : 'fetch failed') });
    }
  };
}

/** The pause before retry number `attempt` (1, 2, ...). */
function retryPauseMs(attempt: number): number {
  return 100 * 2 ** (attempt - 1);
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

function toTokenResponse(response: oidc.TokenEndpointResponse): TokenResponse {
  if (typeof response.access_token !== 'string' || response.access_token === '') {
    throw new IdpError({ kind: 'bad-response', detail: 'no access_token in the token response' });
  }
  return {
    accessToken: response.access_token,
    // openid-client lower-cases token_type; Entra and its clients write it "Bearer".
    tokenType: !response.token_type || response.token_type.toLowerCase() === 'bearer' ? 'Bearer' : response.token_type,
    expiresIn: typeof response.expires_in === 'number' ? response.expires_in : 3600,
    ...(typeof response.scope === 'string' ? { scope: response.scope } : {}),
    ...(typeof response.refresh_token === 'string' ? { refreshToken: response.refresh_token } : {}),
    ...(typeof response.id_token === 'string' ? { idToken: response.id_token } : {}),
  };
}

/** Thrown by the outbound fetch so that the cause survives openid-client's own wrapping. */
export class TransportError extends Error {
  constructor(readonly failure: Extract<IdpFailure, { kind: 'unreachable' | 'timeout' }>) {
    super(describeFailure(failure));
    this.name = 'TransportError';
  }
}

/** Entra's own error code: the first of `error_codes`, or the AADSTS number that starts the description. */
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
  if (err instanceof oidc.ResponseBodyError) return rejection(err);
  if (err instanceof oidc.ClientError) {
    const status = err.cause instanceof Response ? err.cause.status : undefined;
    return new IdpError({ kind: 'bad-response', detail: err.message, ...(status !== undefined ? { status } : {}) });
  }
  const detail = err instanceof Error ? err.message : 'unknown error';
  return new IdpError({ kind: 'bad-response', detail });
}

/** An OAuth error body: Entra refused, and says why in its codes. */
function rejection(err: oidc.ResponseBodyError): IdpError {
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

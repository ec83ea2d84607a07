/**
 * The failures a route throws. Routes never answer an error themselves: they throw one of these,
 * and the one error handler (`error-handler.ts`) turns it into the answer, in the format the route
 * answers in. A helper returns its value or throws; it never answers and returns nothing.
 */
import type { ParsedAudience } from '../audience.js';
import type { Flow, Problem } from '../entra/advice.js';
import { IdpError } from '../entra/errors.js';
import { problem } from './problem.js';

/** A refusal with its advice: answered as `problem`, with `headers` (such as Retry-After) added. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.message);
    this.name = 'ProblemError';
  }
}

/** Shorthand for the common case: throw refuse(400, 'invalid_request', '…'). */
export function refuse(status: number, error: string, message: string, details?: string): ProblemError {
  return new ProblemError(problem(status, error, message, details));
}

/**
 * The identity provider failed during `flow` (the grant or flow that ran), for `audience` when the
 * request named one. Answered with the advice of `adviceFor`, and logged with the flow.
 */
export class FlowFailedError extends Error {
  constructor(
    readonly failure: IdpError,
    readonly flow: Flow,
    readonly audience?: ParsedAudience,
  ) {
    super(failure.message, { cause: failure });
    this.name = 'FlowFailedError';
  }
}

/** Runs `operation`; an identity-provider failure in it becomes a FlowFailedError of `flow`. */
export async function inFlow<T>(flow: Flow, audience: ParsedAudience | undefined, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof IdpError) throw new FlowFailedError(err, flow, audience);
    throw err;
  }
}

/** The request needs a logged-in employee and has none: a browser is sent to log in, other clients get 401. */
export class LoginRequiredError extends Error {
  constructor(
    /** The path on this service to come back to after login. */
    readonly returnTo: string,
  ) {
    super('login required');
    this.name = 'LoginRequiredError';
  }
}

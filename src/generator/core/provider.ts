/**
 * Every call to the identity provider goes through `ask`: its failure becomes the provider's advice
 * for the flow that ran, as a ProblemError that the one error path renders and logs with that flow.
 */
import type { ParsedAudience } from '../../audience.js';
import { IdpError, type Flow, type IdentityProvider } from '../idp/identity-provider.js';
import { ProblemError } from './problem.js';

export function providerProblem(provider: IdentityProvider, error: IdpError, flow: Flow, target?: ParsedAudience): ProblemError {
  return new ProblemError(
    provider.advice(error, flow, target),
    {},
    { flow, reason: error.message, ...(target ? { target: target.target } : {}) },
  );
}

export async function ask<T>(
  provider: IdentityProvider,
  flow: Flow,
  target: ParsedAudience | undefined,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof IdpError) throw providerProblem(provider, err, flow, target);
    throw err;
  }
}

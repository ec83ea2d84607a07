/** App tokens (client credentials) through the generator's public route, from the cache while they last. */
import { PATHS } from '../paths.js';
import { freshness, type Context } from './context.js';
import { cachedToken, call, failure, storeToken, targetOf, tokenBody } from './generator.js';

export async function appToken(ctx: Context, audience: string): Promise<string> {
  const key = `m2m ${targetOf(audience)}`;
  const cached = await cachedToken(ctx, key);
  if (cached) return cached;
  const path = PATHS.m2m;
  const res = await call(ctx, path, {
    method: 'POST',
    headers: { accept: 'application/json', ...freshness(ctx) },
    form: { aud: audience },
  });
  if (res.status !== 200) throw failure(ctx, res, path);
  const body = tokenBody(ctx, res, path);
  await storeToken(ctx, key, body);
  return body.access_token;
}

/** An app token, or one on the employee's behalf; the login's code is loaded only when it is needed. */
export async function tokenFor(ctx: Context, audience: string, onBehalfOf: boolean): Promise<string> {
  if (!onBehalfOf) return appToken(ctx, audience);
  const { employeeToken } = await import('./employee-token.js');
  return employeeToken(ctx, audience);
}

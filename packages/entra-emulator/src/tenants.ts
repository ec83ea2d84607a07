/**
 * The tenants a path may name: the emulator's own, and Entra's multi-tenant names, `common` (any
 * organization's or personal account) and `organizations`. Their endpoints are the tenant's: a
 * request to them is served as the tenant's, so that the tokens carry the tenant's issuer, as the
 * tokens Entra issues through `common` carry the issuer of the employee's tenant.
 */
import type { IncomingMessage } from 'node:http';

export const MULTI_TENANT_NAMES = ['common', 'organizations'] as const;

const ALIASED = new RegExp(`^/(${MULTI_TENANT_NAMES.join('|')})(/(oauth2|discovery)/)`);

/** Fastify's rewriteUrl: `/common/oauth2/…` and `/common/discovery/…` to the tenant's own paths. */
export function multiTenantRewrite(basePath: string): (request: IncomingMessage) => string {
  return (request) => {
    const url = request.url ?? '/';
    return ALIASED.test(url) ? url.replace(ALIASED, `${basePath}$2`) : url;
  };
}

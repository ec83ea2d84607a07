/**
 * The tenants a path may name: the emulator's own, by its id or by one of its domains (as
 * `https://login.microsoftonline.com/trygdeetaten.no` names NAV's test tenant), and Entra's
 * multi-tenant names, `common` (any organization's or personal account) and `organizations`. Their
 * endpoints are the tenant's: a request to them is served as the tenant's, so that the tokens carry
 * the tenant's issuer, as the tokens Entra issues through `common` carry the issuer of the employee's tenant.
 */
import type { IncomingMessage } from 'node:http';

export const MULTI_TENANT_NAMES = ['common', 'organizations'] as const;

/** What a path's first segment names: the tenant itself (its id or a domain), a multi-tenant name, or no tenant served here. */
export type TenantName = 'own' | 'multi' | undefined;

export function tenantNames(tenantId: string, isDomain: (name: string) => boolean): (name: string) => TenantName {
  return (name) => {
    if (name === tenantId || isDomain(name.toLowerCase())) return 'own';
    return (MULTI_TENANT_NAMES as readonly string[]).includes(name) ? 'multi' : undefined;
  };
}

const ALIASED = /^\/([^/?#]+)(\/(oauth2|discovery)\/)/;

/** Fastify's rewriteUrl: `/common/oauth2/…`, `/<domain>/discovery/…` and the like to the tenant's own paths. */
export function tenantRewrite(basePath: string, named: (name: string) => TenantName): (request: IncomingMessage) => string {
  return (request) => {
    const url = request.url ?? '/';
    const match = ALIASED.exec(url);
    return match && `/${match[1]}` !== basePath && named(match[1]!) ? `${basePath}${url.slice(match[1]!.length + 1)}` : url;
  };
}

/** Which resource a request's scopes name, as Entra ID reads them. */
import { errors } from './errors.js';
import type { Directory } from './directory.js';
import { GRAPH, graphNamed, isGraph } from './graph.js';
import type { Resource } from './model.js';

export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** The resource a scope belongs to: what comes before its last '/'. */
export function resourceName(scope: string): string {
  const slash = scope.lastIndexOf('/');
  return slash > 0 ? scope.slice(0, slash) : scope;
}

/** The distinct items of a space-separated scope parameter. */
export function scopeItems(scope: string): string[] {
  return [...new Set(scope.split(' ').filter(Boolean))];
}

/**
 * The one resource a `.default` scope names, as client credentials and on-behalf-of require.
 * Client credentials take exactly one scope; on-behalf-of may add OpenID scopes (offline_access).
 */
export function defaultScopeResource(
  directory: Directory,
  scope: string | undefined,
  flow: 'client_credentials' | 'on_behalf_of',
): Resource {
  if (!scope) throw errors.missingParameter('scope');
  const items = scopeItems(scope);
  const apiItems = flow === 'client_credentials' ? items : items.filter((item) => !OIDC_SCOPES.has(item));
  const resources = new Set(apiItems.filter((item) => item.includes('/')).map(resourceName));
  if (resources.size > 1) throw errors.scopesAcrossResources();
  const [item] = apiItems;
  if (apiItems.length !== 1 || !item || !item.endsWith('/.default')) {
    throw errors.invalidScope(
      scope.slice(0, 200),
      flow === 'client_credentials'
        ? 'Client credential flows must have exactly one scope: <resource>/.default.'
        : 'Ask for exactly one <resource>/.default scope.',
    );
  }
  const name = resourceName(item);
  if (isGraph(name)) return graphNamed(name);
  const resource = directory.resource(name);
  if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
  return resource;
}

/**
 * The resource a login's scopes ask an access token for: the one API they name, else Microsoft
 * Graph (for OpenID scopes only, or bare Graph permissions). Throws as Entra does at authorize.
 */
export function loginResource(directory: Directory, scopes: string[]): { resource: Resource; scope: string } {
  const apiItems = scopes.filter((item) => !OIDC_SCOPES.has(item));
  const named = apiItems.filter((item) => item.includes('/') && !isGraph(resourceName(item)));
  const graph = apiItems.filter((item) => !named.includes(item));
  const resources = new Set(named.map(resourceName));
  if (resources.size > 1 || (resources.size === 1 && graph.length > 0)) throw errors.scopesAcrossResources();
  const [first] = named;
  if (first !== undefined) {
    const name = resourceName(first);
    const resource = directory.resource(name);
    if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
    return { resource, scope: named.join(' ') };
  }
  const permissions = graph.map((item) => item.slice(item.lastIndexOf('/') + 1)).filter((item) => item !== '.default');
  return { resource: GRAPH, scope: [...new Set(['openid', 'profile', 'email', ...permissions])].join(' ') };
}

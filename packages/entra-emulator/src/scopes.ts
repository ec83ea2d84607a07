/** Which resource a request's scopes name, as Entra ID reads them. */
import { errors, type EntraError } from './errors.js';
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
  // Entra's own code for a client-credentials scope that names no `/.default` at all (a permission, a bare resource, openid).
  if (flow === 'client_credentials' && !items.some((item) => item.endsWith('/.default'))) {
    throw errors.clientCredentialsScope(scope.slice(0, 200));
  }
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
  return isGraph(name) ? graphNamed(name) : namedResource(directory, name);
}

/** A resource of the directory by name, or Entra's AADSTS500011. */
function namedResource(directory: Directory, name: string): Resource {
  const resource = directory.resource(name);
  if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
  return resource;
}

/** The APIs of the directory that scopes name (not Microsoft Graph, not the OpenID scopes), by resource. */
function namedApis(scopes: string[]): Map<string, string[]> {
  const apis = new Map<string, string[]>();
  for (const item of scopes) {
    if (OIDC_SCOPES.has(item) || !item.includes('/') || isGraph(resourceName(item))) continue;
    apis.set(resourceName(item), [...(apis.get(resourceName(item)) ?? []), item]);
  }
  return apis;
}

/**
 * What Entra checks of an authorize request's scopes: each API they name exists. They may name several resources, as MSAL's
 * `extraScopesToConsent` does, for the employee to consent to them up front; a token is then asked for one at a time.
 */
export function checkConsentScopes(directory: Directory, scopes: string[]): void {
  for (const name of namedApis(scopes).keys()) namedResource(directory, name);
}

/**
 * The resource a token request's scopes ask an access token for: the one API they name, else Microsoft Graph (for OpenID
 * scopes only, or bare Graph permissions). Scopes of more than one resource are refused as Entra's token endpoint refuses them
 * (AADSTS28000), or with `acrossResources`.
 */
export function loginResource(
  directory: Directory,
  scopes: string[],
  acrossResources: () => EntraError = () => errors.multipleResources(scopes.join(' ').slice(0, 200)),
): { resource: Resource; scope: string } {
  const apis = namedApis(scopes);
  const graph = scopes.filter((item) => !OIDC_SCOPES.has(item) && !(item.includes('/') && !isGraph(resourceName(item))));
  if (apis.size > 1 || (apis.size === 1 && graph.length > 0)) throw acrossResources();
  const [api] = apis;
  if (api !== undefined) return { resource: namedResource(directory, api[0]), scope: api[1].join(' ') };
  const permissions = graph.map((item) => item.slice(item.lastIndexOf('/') + 1)).filter((item) => item !== '.default');
  return { resource: GRAPH, scope: [...new Set(['openid', 'profile', 'email', ...permissions])].join(' ') };
}

/**
 * The lifecycle hooks Fastify runs for one route, app-level and route-level together, as the names
 * of their functions. Fastify shows them only in `printRoutes({ includeHooks: true })`; this reads
 * that listing, and fails loudly rather than answer nothing when it cannot find the route in it.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify';

/** A line of the listing that names a route: its indentation, the path after its parent's, the method. */
const ROUTE_LINE = /^((?:[│ ] {3})*)[├└]── (.*) \(([A-Z, ]+)\)/;
/** A line under a route: one lifecycle and its hooks' names as JSON, e.g. `• (onRequest) ["rateLimit()"]`. */
const HOOK_LINE = /^[│ ]*• \((\w+)\) (\[.*\])$/;

export type RouteHooks = Record<string, string[]>;

export function routeHooks(app: FastifyInstance, method: HTTPMethods, url: string): RouteHooks {
  const listing = app.printRoutes({ method, includeHooks: true, commonPrefix: false });
  // A route under another route is listed by the rest of its path: the full path is rebuilt from the levels above it.
  const pathAt: string[] = [];
  let found: RouteHooks | undefined;
  let current: RouteHooks | undefined;
  for (const line of listing.split('\n')) {
    const route = ROUTE_LINE.exec(line);
    if (route) {
      const depth = route[1]!.length / 4;
      pathAt.length = depth;
      pathAt.push(route[2]!);
      current = pathAt.join('') === url ? (found = {}) : undefined;
      continue;
    }
    const hooks = HOOK_LINE.exec(line);
    if (!hooks || !current) continue;
    const names = (JSON.parse(hooks[2]!) as string[]).map((name) => name.replace(/\(\)$/, ''));
    // Another variant of the same path (a constraint) adds its hooks to the ones listed before it.
    current[hooks[1]!] = [...(current[hooks[1]!] ?? []), ...names];
  }
  if (!found) throw new Error(`${method} ${url} is not in the listing of routes`);
  return found;
}

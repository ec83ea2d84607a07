/**
 * The methods a path answers, and the 405 (`Allow`, through the one error path) of the others: a client that sends
 * `PUT` where only `POST` is answered learns which method to use, rather than hearing that nothing is there.
 *
 * HEAD on a GET route whose answer has effects is refused too. Fastify answers HEAD on every GET route by running the
 * GET's handler and dropping the body, so a link checker or a chat app's preview, which sends HEAD to see what a link is,
 * would mint a token, call the identity provider, start a login or count against a limit, unseen. Such a route refuses
 * HEAD instead; the routes without effects (the health probes, the metadata, the static pages) answer HEAD as Fastify does.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { refuse, type ProblemError } from '../core/problem.js';
import type { Answers } from './negotiate.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route only refuses its method (405): the path's `Allow` does not name it. */
    refusesMethod?: true;
  }
  interface FastifyInstance {
    /** The methods the routes at `path` answer, as `PathMethods` gathered them from the routes added. */
    methodsAnsweredAt(path: string): readonly string[];
  }
}

/** The config of a route that only refuses its method. */
export const REFUSES_METHOD = { refusesMethod: true } as const;

/**
 * The 405 of the request's method, naming in `Allow` the methods its path answers, as its routes say them: no refusal
 * keeps a list of its own, which would miss a method added to the path later. `advice` says what to send instead,
 * given those methods as words ("GET or POST").
 */
export function methodNotAllowed(request: FastifyRequest, advice: (allowed: string) => string): ProblemError {
  const allow = request.server.methodsAnsweredAt(request.routeOptions.url ?? '');
  return refuse('method_not_allowed', advice(allow.join(' or ')), { headers: { allow: allow.join(', ') } });
}

/**
 * Refuses HEAD at `path`. Called before the path's GET route is added, so that Fastify, finding a HEAD route there, adds none
 * of its own; called after, it fails at start as a route added twice.
 */
export function refuseHead(app: FastifyInstance, path: string): void {
  app.head(path, { config: REFUSES_METHOD }, (request) => {
    throw methodNotAllowed(
      request,
      (allowed) =>
        `Use ${allowed} for ${path}: HEAD is not answered here, as answering it would do what a GET does ` +
        '(a token, a login, a call to Entra ID).',
    );
  });
}

interface PathEntry {
  /** The methods answered, in the order their routes were added. */
  allow: string[];
  /** What the path's routes answer in: its refusals are written the same way. */
  answers: Answers | undefined;
}

/** Every path's methods, from the routes as Fastify adds them (its onRoute hook), to refuse the other methods once all are in. */
export class PathMethods {
  private readonly paths = new Map<string, PathEntry>();

  /** Makes the methods gathered here `app.methodsAnsweredAt`, for the refusals: called before any route is added. */
  decorate(app: FastifyInstance): void {
    app.decorate('methodsAnsweredAt', (path: string): readonly string[] => this.paths.get(path)?.allow ?? []);
  }

  /** Fastify's onRoute hook. */
  readonly added = (route: RouteOptions): void => {
    let entry = this.paths.get(route.url);
    if (!entry) this.paths.set(route.url, (entry = { allow: [], answers: undefined }));
    if (route.config?.refusesMethod) return;
    entry.allow.push(...[route.method].flat());
    entry.answers ??= route.config?.answers;
  };

  /**
   * At each path, every method Fastify knows of and no route answers gets a 405, refused at once so that its body is not
   * read (a malformed one would otherwise be refused first, as a 400). Hidden from /openapi.json: a refusal is no operation.
   * Called once every route is added.
   */
  refuseTheOthers(app: FastifyInstance): void {
    for (const [path, { allow, answers }] of this.paths) {
      const others = app.supportedMethods.filter((method) => !app.hasRoute({ url: path, method }));
      if (others.length === 0 || allow.length === 0) continue;
      const refusal = async (request: FastifyRequest) => {
        throw methodNotAllowed(request, (allowed) => `${request.method} is not answered at ${path}: use ${allowed}.`);
      };
      app.route({
        method: others,
        url: path,
        schema: { hide: true },
        config: { ...(answers ? { answers } : {}), ...REFUSES_METHOD },
        onRequest: refusal,
        handler: refusal,
      });
    }
  }
}

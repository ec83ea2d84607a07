/**
 * HEAD on a GET route whose answer has effects. Fastify answers HEAD on every GET route by running the GET's handler and
 * dropping the body, so a link checker or a chat app's preview, which sends HEAD to see what a link is, would mint a token,
 * call the identity provider, start a login or count against a limit, unseen. Such a route refuses HEAD instead (405, `Allow:
 * GET`, through the one error path); the routes without effects (the health probes, the metadata, the static pages) answer
 * HEAD as Fastify does.
 */
import type { FastifyInstance } from 'fastify';
import { refuse } from '../core/problem.js';

/**
 * Refuses HEAD at `path`. Called before the path's GET route is added, so that Fastify, finding a HEAD route there, adds none
 * of its own; called after, it fails at start as a route added twice.
 */
export function refuseHead(app: FastifyInstance, path: string): void {
  app.head(path, () => {
    throw refuse(
      'method_not_allowed',
      `Use GET for ${path}: HEAD is not answered here, as answering it would do what a GET does (a token, a login, a call to Entra ID).`,
      { headers: { allow: 'GET' } },
    );
  });
}

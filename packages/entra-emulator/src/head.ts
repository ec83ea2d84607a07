/**
 * HEAD on a GET route whose answer has effects. Fastify answers HEAD on every GET route by running the GET's handler and
 * dropping the body, so a link checker or a chat app's preview, which sends HEAD to see what a link is, would issue a code
 * through a sign-on, end a sign-on, count against the sign-in limit or register an app, unseen. Such a route refuses HEAD
 * (405); the read-only ones (discovery, keys, the overview) answer it as Fastify does. The generator keeps the same rule in
 * its own code: the emulator is a package of its own and imports nothing of the generator.
 */
import type { FastifyInstance } from 'fastify';

/**
 * Refuses HEAD at `path`, naming the methods it takes in `Allow`. Called before the path's GET route is added, so that Fastify,
 * finding a HEAD route there, adds none of its own.
 */
export function refuseHead(app: FastifyInstance, path: string, allow: 'GET' | 'GET, POST'): void {
  app.head(path, async (_request, reply) => reply.code(405).header('allow', allow).header('cache-control', 'no-store').send());
}

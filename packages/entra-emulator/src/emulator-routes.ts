/**
 * The emulator's own routes, which Entra ID does not have: the overview at its root, each app's
 * NAIS environment (for docker compose and test code; `entra-emulator env` reads it) and the
 * rotation of the signing key.
 */
import type { FastifyInstance } from 'fastify';
import { dotenv, texasPath, UnknownAppError, type Apps, type TenantUrls } from './apps.js';
import type { Directory } from './directory.js';
import type { KeyRing } from './key-ring.js';
import { sendPage } from './login/responses.js';
import { overview, overviewPage } from './overview.js';
import { refuseHead } from './head.js';
import { sameOriginOnly } from './same-origin.js';

export interface EmulatorRoutesOptions {
  apps: Apps;
  directory: Directory;
  keys: KeyRing;
  urls: () => TenantUrls;
}

export async function emulatorRoutes(app: FastifyInstance, options: EmulatorRoutesOptions): Promise<void> {
  const { apps, directory, keys } = options;
  app.addHook('onRequest', sameOriginOnly());

  app.get('/', async (_request, reply) => {
    const urls = options.urls();
    return sendPage(
      reply,
      200,
      overviewPage(overview(directory, apps, urls.baseUrl), { tenantId: directory.tenantId, wellKnownUrl: urls.wellKnownUrl }),
    );
  });

  // The apps this emulator has, so that `entra-emulator env` never prints another emulator's variables.
  app.get('/apps', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ directory: directory.manifests ? 'manifests' : 'open', apps: apps.targets() }),
  );

  // Looked at for the first time, an app is registered with a key pair of its own, kept in the state folder.
  const envPath = `${texasPath(':target')}/env`;
  refuseHead(app, envPath, 'GET');
  app.get<{ Params: { target: string }; Querystring: { format?: string } }>(envPath, async (request, reply) => {
    let variables: Record<string, string>;
    try {
      variables = await apps.environment(request.params.target, options.urls());
    } catch (err) {
      if (!(err instanceof UnknownAppError)) throw err;
      return reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', error_description: err.message });
    }
    reply.header('cache-control', 'no-store');
    if (request.query.format === 'dotenv') return reply.type('text/plain; charset=utf-8').send(dotenv(variables));
    return variables;
  });

  app.post('/signing-keys/rotate', async (_request, reply) => reply.header('cache-control', 'no-store').send(await keys.rotate()));
}

import type { FastifyInstance } from 'fastify';
import { PATHS } from '../../paths.js';
import type { StoreHealth } from '../../session/index.js';
import type { GeneratorContext } from '../context.js';

export interface Readiness {
  /** Set while the service shuts down, so that the platform stops sending traffic first. */
  shuttingDown: boolean;
  /** The session store's state. */
  sessionStore: () => StoreHealth;
}

/**
 * Readiness: false while shutting down, before the identity provider's keys are loaded, and while the
 * session store was never reached (a configuration fault: every login would fail). A store that went
 * away later leaves the replica ready (app tokens need no store) and is told in /internal/health and
 * the metric `session_store_up`.
 */
export async function internalRoutes(app: FastifyInstance, ctx: GeneratorContext, readiness: Readiness): Promise<void> {
  app.get(PATHS.isAlive, async (_request, reply) => reply.type('text/plain').send('alive'));
  app.get(PATHS.isReady, async (_request, reply) => {
    if (readiness.shuttingDown) return reply.code(503).type('text/plain').send('shutting down');
    if (!ctx.entra.ready) return reply.code(503).type('text/plain').send('identity provider not loaded yet');
    const store = readiness.sessionStore();
    if (!store.reachedOnce) return reply.code(503).type('text/plain').send(`not ready: ${store.problem ?? 'the session store was not reached yet'}`);
    return reply.type('text/plain').send(store.reachable ? 'ready' : `ready (sessions unavailable: ${store.problem})`);
  });
  app.get(PATHS.health, async (_request, reply) => {
    const store = readiness.sessionStore();
    return reply.header('cache-control', 'no-store').send({
      shutting_down: readiness.shuttingDown,
      identity_provider: { keys_loaded: ctx.entra.ready },
      session_store: { kind: ctx.config.session.redisUrl ? 'redis' : 'memory', reachable: store.reachable, reached_once: store.reachedOnce, problem: store.problem ?? null },
    });
  });
  app.get(PATHS.metrics, async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PATHS } from '../../../paths.js';
import type { StoreHealth } from '../../../session/index.js';
import type { GeneratorContext } from '../context.js';
import { answers, plain } from '../schemas.js';

const HEALTH = z.object({
  shutting_down: z.boolean(),
  identity_provider: z.object({ keys_loaded: z.boolean() }),
  session_store: z.object({
    kind: z.enum(['redis', 'memory']),
    reachable: z.boolean(),
    reached_once: z.boolean(),
    problem: z.string().nullable(),
  }),
});

export interface Readiness {
  /** Set while the service shuts down, so that the platform stops sending traffic first. */
  shuttingDown: boolean;
  /** The session store's state. */
  sessionStore: () => StoreHealth;
}

/**
 * Readiness: false while shutting down, before the identity provider's keys are loaded, and while the
 * session store was never reached (a configuration fault: every login would fail). A store that went
 * away later (the connection lost, or Redis hanging: see `RedisStore.health`) leaves the replica ready (app tokens need no
 * store) and is told in the answer, in /internal/health and in the metric `session_store_up`.
 */
export async function internalRoutes(app: FastifyInstance, ctx: GeneratorContext, readiness: Readiness): Promise<void> {
  const isReady = {
    summary: 'Readiness: discovery and keys loaded, the session store reached at least once, not shutting down',
    response: answers({ 200: plain('Ready'), 503: plain('Not ready, and why (a store never reached names its variable)') }),
  };
  const health = {
    summary: 'Health detail: the identity provider keys, the session store (reachable, and why not), shutdown',
    response: answers({ 200: { description: 'Health detail', content: { 'application/json': { schema: HEALTH } } } }),
  };
  app.get(PATHS.isAlive, { schema: { summary: 'Liveness', response: answers({ 200: plain('Alive') }) } }, async (_request, reply) =>
    reply.type('text/plain').send('alive'),
  );
  app.get(PATHS.isReady, { schema: isReady }, async (_request, reply) => {
    if (readiness.shuttingDown) return reply.code(503).type('text/plain').send('shutting down');
    if (!ctx.provider.ready) return reply.code(503).type('text/plain').send('identity provider not loaded yet');
    const store = readiness.sessionStore();
    if (!store.reachedOnce)
      return reply
        .code(503)
        .type('text/plain')
        .send(`not ready: ${store.problem ?? 'the session store was not reached yet'}`);
    return reply.type('text/plain').send(store.reachable ? 'ready' : `ready (sessions unavailable: ${store.problem})`);
  });
  app.get(PATHS.health, { schema: health }, async (_request, reply) => {
    const store = readiness.sessionStore();
    return reply.header('cache-control', 'no-store').send({
      shutting_down: readiness.shuttingDown,
      identity_provider: { keys_loaded: ctx.provider.ready },
      session_store: {
        kind: ctx.config.session.store ? 'redis' : 'memory',
        reachable: store.reachable,
        reached_once: store.reachedOnce,
        problem: store.problem ?? null,
      },
    });
  });
  app.get(
    PATHS.metrics,
    { schema: { summary: 'Prometheus metrics', response: answers({ 200: plain('Prometheus text format') }) } },
    async (_request, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}

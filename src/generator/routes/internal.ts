import type { FastifyInstance } from 'fastify';
import type { GeneratorContext } from '../context.js';

export interface Readiness {
  /** Set while the service shuts down, so that the platform stops sending traffic first. */
  shuttingDown: boolean;
}

export async function internalRoutes(app: FastifyInstance, ctx: GeneratorContext, readiness: Readiness): Promise<void> {
  app.get('/internal/isalive', async (_request, reply) => reply.type('text/plain').send('alive'));
  app.get('/internal/isready', async (_request, reply) => {
    if (readiness.shuttingDown) return reply.code(503).type('text/plain').send('shutting down');
    if (!ctx.entra.ready) return reply.code(503).type('text/plain').send('identity provider not loaded yet');
    return reply.type('text/plain').send('ready');
  });
  app.get('/internal/metrics', async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}

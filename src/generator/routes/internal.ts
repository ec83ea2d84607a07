import type { FastifyInstance } from 'fastify';
import { PATHS } from '../../paths.js';
import type { GeneratorContext } from '../context.js';
import { answers, plain } from '../schemas.js';

export interface Readiness {
  /** Set while the service shuts down, so that the platform stops sending traffic first. */
  shuttingDown: boolean;
}

export async function internalRoutes(app: FastifyInstance, ctx: GeneratorContext, readiness: Readiness): Promise<void> {
  const isReady = { summary: 'Readiness: discovery and keys loaded, not shutting down', response: answers({ 200: plain('Ready'), 503: plain('Not ready, and why') }) };
  app.get(PATHS.isAlive, { schema: { summary: 'Liveness', response: answers({ 200: plain('Alive') }) } }, async (_request, reply) =>
    reply.type('text/plain').send('alive'),
  );
  app.get(PATHS.isReady, { schema: isReady }, async (_request, reply) => {
    if (readiness.shuttingDown) return reply.code(503).type('text/plain').send('shutting down');
    if (!ctx.entra.ready) return reply.code(503).type('text/plain').send('identity provider not loaded yet');
    return reply.type('text/plain').send('ready');
  });
  app.get(PATHS.metrics, { schema: { summary: 'Prometheus metrics', response: answers({ 200: plain('Prometheus text format') }) } }, async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}

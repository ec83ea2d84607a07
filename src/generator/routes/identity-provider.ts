/**
 * Which identity provider issues this generator's tokens, for clients that keep tokens: the command
 * line drops a cached token whose issuer is no longer this one (a restart with a new emulator tenant),
 * and checks signatures against keys it can trust.
 */
import type { FastifyInstance } from 'fastify';
import type { GeneratorContext } from '../context.js';

export const IDENTITY_PROVIDER_PATH = '/api/public/identity-provider';

export async function identityProviderRoutes(app: FastifyInstance, ctx: GeneratorContext): Promise<void> {
  app.get(IDENTITY_PROVIDER_PATH, async (_request, reply) => {
    const { issuer, jwks_uri } = ctx.entra.metadata;
    return reply.header('cache-control', 'no-cache').send({ issuer, jwks_uri: jwks_uri ?? null });
  });
}

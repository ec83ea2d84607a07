/**
 * Which identity provider this generator gets its tokens from, so that a client (the command
 * line's `decode`) can tell a token from it apart from one whose issuer only names itself, and the
 * command line can drop cached tokens of a former issuer (npm start restarted with a new tenant).
 */
import type { FastifyInstance } from 'fastify';
import type { GeneratorContext } from '../context.js';

export const IDENTITY_PROVIDER_PATH = '/api/public/identity-provider';

export async function identityProviderRoutes(app: FastifyInstance, ctx: GeneratorContext): Promise<void> {
  app.get(IDENTITY_PROVIDER_PATH, async (_request, reply) => {
    const { issuer, jwks_uri: jwksUri } = ctx.entra.metadata;
    return reply.header('cache-control', 'no-store').send({ issuer, jwks_uri: jwksUri });
  });
}

/**
 * Which identity provider this generator gets its tokens from, so that a client (the command
 * line's `decode`) can tell a token from it apart from one whose issuer only names itself, and the
 * command line can drop cached tokens of a former issuer (npm start restarted with a new tenant).
 */
import { PATHS } from '../../../paths.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GeneratorContext } from '../context.js';
import { answers } from '../schemas.js';

const IdentityProvider = z.object({ issuer: z.string(), jwks_uri: z.string().optional() });
const SCHEMA = {
  summary: 'The issuer and signing keys of the identity provider this generator gets tokens from',
  response: answers({ 200: { description: 'The issuer and its JWKS URI', content: { 'application/json': { schema: IdentityProvider } } } }),
};

export async function identityProviderRoutes(app: FastifyInstance, ctx: GeneratorContext): Promise<void> {
  app.get(PATHS.identityProvider, { schema: SCHEMA }, async (_request, reply) => {
    const { issuer, jwksUri } = ctx.provider.issuer;
    return reply.header('cache-control', 'no-store').send({ issuer, jwks_uri: jwksUri });
  });
}

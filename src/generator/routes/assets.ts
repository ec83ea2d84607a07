/** What pages and tools load: the stylesheet, the token page's script, and the OpenAPI description of the service. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PATHS } from '../../paths.js';
import { answers } from '../schemas.js';
import { STYLESHEET } from '../html.js';
import { PAGE_SCRIPT } from '../token-page.js';

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Entra ID token generator',
    version: '1',
    description: 'Tokens from Microsoft Entra ID for development: on behalf of an employee, or as an application.',
  },
};

const DOCUMENT = z.object({}).loose().meta({ description: 'An OpenAPI 3.1 document' });
const CACHED_AN_HOUR = 'public, max-age=3600';

export async function assetRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  let document: ReturnType<typeof app.swagger> | undefined;
  const text = (summary: string, type: string) => ({ summary, response: answers({ 200: { description: summary, content: { [type]: { schema: z.string() } } } }) });

  app.get(PATHS.stylesheet, { schema: text('The pages\u2019 stylesheet', 'text/css') }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', CACHED_AN_HOUR).send(STYLESHEET),
  );
  app.get(PATHS.script, { schema: text('The token page\u2019s script', 'text/javascript') }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', CACHED_AN_HOUR).send(PAGE_SCRIPT),
  );
  app.get(
    PATHS.openapi,
    { schema: { summary: 'This description', response: answers({ 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: DOCUMENT } } } }) } },
    // Made once: the routes do not change after start.
    async (_request, reply) => reply.send((document ??= app.swagger())),
  );
}

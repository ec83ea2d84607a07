/**
 * What pages and tools load: the pages' stylesheet, script and icon, and the OpenAPI description of
 * the service. The files are their own (src/generator/http/views/static), read once at start and served from
 * this origin, since the Content-Security-Policy allows no inline script or style.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PATHS } from '../../../paths.js';
import { answers } from '../schemas.js';

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

const FILES: { path: string; file: string; type: string; summary: string }[] = [
  { path: PATHS.stylesheet, file: 'app.css', type: 'text/css', summary: 'The pages\u2019 stylesheet' },
  { path: PATHS.script, file: 'app.js', type: 'text/javascript', summary: 'The pages\u2019 script' },
  { path: PATHS.icon, file: 'favicon.svg', type: 'image/svg+xml', summary: 'The pages\u2019 icon' },
  // Browsers ask for /favicon.ico on their own; an SVG served with its type is shown there too.
  { path: PATHS.favicon, file: 'favicon.svg', type: 'image/svg+xml', summary: 'The icon browsers ask for on their own' },
];

export async function assetRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  let document: ReturnType<typeof app.swagger> | undefined;
  const text = (summary: string, type: string) => ({
    summary,
    response: answers({ 200: { description: summary, content: { [type]: { schema: z.string() } } } }),
  });

  for (const { path, file, type, summary } of FILES) {
    const content = readFileSync(new URL(`../views/static/${file}`, import.meta.url));
    const contentType = type.startsWith('text/') ? `${type}; charset=utf-8` : type;
    app.get(path, { schema: text(summary, type) }, async (_request, reply) =>
      reply.type(contentType).header('cache-control', CACHED_AN_HOUR).send(content),
    );
  }
  app.get(
    PATHS.openapi,
    {
      schema: {
        summary: 'This description',
        response: answers({ 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: DOCUMENT } } } }),
      },
    },
    // Made once: the routes do not change after start.
    async (_request, reply) => reply.send((document ??= app.swagger())),
  );
}

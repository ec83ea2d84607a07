/**
 * The pages' stylesheet, script and icon: files of their own (src/generator/static), read once at start
 * and served from this origin, since the Content-Security-Policy allows no inline script or style.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { PATHS } from '../paths.js';

const FILES: { path: string; file: string; type: string }[] = [
  { path: PATHS.stylesheet, file: 'app.css', type: 'text/css; charset=utf-8' },
  { path: PATHS.script, file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: PATHS.icon, file: 'favicon.svg', type: 'image/svg+xml' },
  // Browsers ask for /favicon.ico on their own; an SVG served with its type is shown there too.
  { path: PATHS.favicon, file: 'favicon.svg', type: 'image/svg+xml' },
];

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  for (const { path, file, type } of FILES) {
    const content = readFileSync(new URL(`./static/${file}`, import.meta.url));
    app.get(path, async (_request, reply) => reply.type(type).header('cache-control', 'public, max-age=3600').send(content));
  }
}

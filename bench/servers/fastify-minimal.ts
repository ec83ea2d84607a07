/**
 * The baseline of figure 1: a minimal Fastify server that does what the generator's cached-token path
 * must do and nothing more: parse the same form body with @fastify/formbody, read `aud`, and answer
 * a fixed token (the generator's own, given as TOKEN, so that both send the same bytes). With HEADERS
 * set, it also sends the headers the generator's every answer carries (from the generator's own list: the
 * security headers and a new correlation id), set the way a Fastify app would.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import { everyResponseHeaders } from '../../src/generator/http/response-headers.js';

const token = process.env.TOKEN ?? 'x'.repeat(1024);
const headers = process.env.HEADERS !== undefined;
const app = Fastify({ logger: false });
await app.register(formbody);
app.get('/', async () => 'ready');
app.post('/api/public/m2m', async (request, reply) => {
  const aud = (request.body as { aud?: unknown } | undefined)?.aud;
  if (typeof aud !== 'string') return reply.code(400).send('send aud');
  if (headers) reply.headers(everyResponseHeaders(randomUUID()));
  return reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(token);
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });

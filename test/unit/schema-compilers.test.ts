import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from '../../packages/entra-emulator/src/schema-compilers.js';

describe('lazySchemaCompilers', () => {
  it("validate and serialize by a route's JSON schema as Fastify's own compilers do", async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazySchemaCompilers } });
    const schema = {
      body: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
      response: { 200: { type: 'object', properties: { count: { type: 'integer' } } } },
    };
    app.post('/count', { schema }, async (request) => ({ ...(request.body as object), secret: 'not in the schema' }));
    try {
      const ok = await app.inject({ method: 'POST', url: '/count', payload: { count: 3 } });
      expect([ok.statusCode, ok.json()]).toEqual([200, { count: 3 }]);
      const bad = await app.inject({ method: 'POST', url: '/count', payload: { count: 'three' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' });
    } finally {
      await app.close();
    }
  });
});

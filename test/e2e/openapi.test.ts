/**
 * /openapi.json is made from the routes' schemas: it must be a valid OpenAPI document, name each
 * route's parameters and bodies as its schema does, and document every answer the route really gives.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startStack, type Stack } from '../helpers/stack.js';

interface Operation {
  summary?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

let stack: Stack;
let doc: Document;

beforeAll(async () => {
  stack = await startStack();
  doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as Document;
});

afterAll(async () => {
  await stack?.close();
});

const operation = (method: string, path: string): Operation => {
  const found = doc.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`${method} ${path} is not documented`);
  return found;
};

/** The routes that declare a schema: every route, the authorization server's included. */
const AUTHORIZE = new URLSearchParams({
  response_type: 'code',
  client_id: 'docs',
  redirect_uri: 'http://127.0.0.1:9/callback',
  scope: 'dev-gcp:docs:app',
  code_challenge: 'c'.repeat(43),
  code_challenge_method: 'S256',
}).toString();

const schemaRoutes = () => stack.generator.routes.filter((route) => route.schema !== undefined);

describe('the OpenAPI description', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route with a summary and its answers', () => {
    // A route registered without a schema would be missing from the description.
    expect(stack.generator.routes.filter((route) => route.schema === undefined).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    for (const route of schemaRoutes()) {
      const documented = operation(route.method, route.url);
      expect(documented.summary, `${route.method} ${route.url}`).toBeTruthy();
      expect(Object.keys(documented.responses).length, `${route.method} ${route.url}`).toBeGreaterThan(0);
    }
  });

  it('names each route’s query parameters and body fields as its schema does', () => {
    let bodies = 0;
    for (const route of stack.generator.routes) {
      const documented = operation(route.method, route.url);
      const query = route.schema?.querystring;
      const names = query instanceof z.ZodObject ? Object.keys(query.shape).sort() : [];
      expect(
        (documented.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => p.name)
          .sort(),
        `${route.method} ${route.url}`,
      ).toEqual(names);
      if (route.schema?.body === undefined) {
        expect(documented.requestBody, `${route.method} ${route.url}`).toBeUndefined();
        continue;
      }
      bodies++;
      const consumes = (route.schema as { consumes?: string[] }).consumes ?? ['application/json'];
      expect(Object.keys(documented.requestBody?.content ?? {}).sort()).toEqual([...consumes].sort());
      for (const content of Object.values(documented.requestBody!.content))
        expect(Object.keys(content.schema.properties ?? {}).length).toBeGreaterThan(0);
    }
    expect(bodies).toBe(9);
    // The audience may come in any of the four ways the m2m route reads it.
    const m2m = operation('POST', '/api/public/m2m');
    expect(m2m.parameters?.map((p) => p.name)).toEqual(['aud']);
    expect(Object.keys(m2m.requestBody!.content).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]);
  });

  it('documents the status and content type of what each route really answers', async () => {
    const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields) });
    const requests: [string, string, RequestInit?][] = [
      ['POST', '/api/public/m2m', form({ aud: 'dev-gcp:docs:app' })],
      ['POST', '/api/public/m2m', { ...form({ aud: 'dev-gcp:docs:app' }), headers: { accept: 'application/json' } }],
      ['POST', '/api/public/m2m', form({ aud: 'no good' })],
      ['POST', '/api/public/m2m', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'dev-gcp:docs:app' }],
      ['POST', '/api/public/m2m', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<aud/>' }],
      ['GET', '/api/public/m2m'],
      ['POST', '/api/public/obo', form({ aud: 'dev-gcp:docs:app', NAVident: 'Z990001' })],
      ['POST', '/api/public/obo', form({ aud: 'dev-gcp:docs:app' })],
      ['GET', '/api/obo?aud=dev-gcp:docs:app'],
      ['GET', '/api/obo?aud=bad'],
      ['GET', '/api/m2m?aud=dev-gcp:docs:app', { headers: { 'sec-fetch-mode': 'navigate' } }],
      ['GET', '/oauth2/login?redirect=/api/obo'],
      ['GET', '/oauth2/callback?code=x&state=y', { headers: { accept: 'text/html' } }],
      ['GET', '/oauth2/logout'],
      ['POST', '/oauth2/logout', form({ csrf_token: 'none' })],
      ['POST', '/oauth2/logout', { ...form({}), headers: { 'sec-fetch-site': 'cross-site' } }],
      ['POST', '/oauth2/tools/end', form({ csrf_token: 'none', handle: 'none' })],
      ['GET', '/oauth2/logged-out'],
      ['GET', '/oauth2/session'],
      ['GET', '/api/public/identity-provider'],
      ['GET', '/internal/isalive'],
      ['GET', '/internal/isready'],
      ['GET', '/internal/health'],
      ['GET', '/internal/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/static/app.css'],
      ['GET', '/static/app.js'],
      ['GET', '/static/favicon.svg'],
      ['GET', '/favicon.ico'],
      ['GET', '/'],
      ['GET', '/api/public/audience?aud=dev-gcp:docs:app'],
      ['GET', '/api/public/audience?aud=Not%20Valid'],
      ['GET', '/.well-known/oauth-authorization-server'],
      ['GET', `/oauth2/authorize?${AUTHORIZE}`],
      ['GET', '/oauth2/authorize?redirect_uri=https://elsewhere.example/'],
      ['POST', '/oauth2/authorize', form({ csrf_token: 'none', decision: 'allow' })],
      ['POST', '/oauth2/token', form({ grant_type: 'client_credentials', scope: 'dev-gcp:docs:app' })],
      ['POST', '/oauth2/token', form({ grant_type: 'password' })],
      ['POST', '/oauth2/revoke', form({ token: 'none' })],
      ['POST', '/oauth2/device_authorization', form({ client_id: 'docs', scope: 'dev-gcp:docs:app' })],
      ['GET', '/oauth2/device'],
      ['POST', '/oauth2/device', form({ csrf_token: 'none', decision: 'allow' })],
    ];
    const covered = new Set<string>();
    for (const [method, url, init] of requests) {
      const res = await fetch(`${stack.url}${url}`, { method, redirect: 'manual', ...init });
      await res.arrayBuffer();
      const path = url.split('?')[0]!;
      covered.add(`${method} ${path}`);
      const answer = operation(method, path).responses[String(res.status)];
      expect(answer, `${method} ${url} answered ${res.status}`).toBeDefined();
      const type = res.headers.get('content-type')?.split(';')[0];
      if (answer?.content && type) expect(Object.keys(answer.content), `${method} ${url} answered ${type}`).toContain(type);
    }
    expect([...covered].sort()).toEqual(
      schemaRoutes()
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    );
  });
});

/**
 * The one error handler: each typed error a route throws becomes its answer, in the format the
 * route answers in, and an identity-provider failure is logged with the flow that ran.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdpError } from '../../src/generator/idp/identity-provider.js';
import { FakeProvider } from '../../src/generator/idp/fake.js';
import { problemPage, registerErrorHandler } from '../../src/generator/http/errors.js';
import { LoginPutOff } from '../../src/generator/core/login.js';
import { LoginRequiredError, refuse } from '../../src/generator/core/problem.js';
import { providerProblem } from '../../src/generator/core/provider.js';
import { answersIn } from '../../src/generator/http/negotiate.js';
import { StoreUnavailableError } from '../../src/session/index.js';
import { memoryLogger } from '../helpers/stack.js';

const { logger, logs } = memoryLogger('info');
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  registerErrorHandler(app, { publicUrl: 'http://gen.test', loginDomain: 'trygdeetaten.no' });
  const provider = new FakeProvider();
  const timeout = new IdpError({ kind: 'timeout', timeoutMs: 5 });
  app.get('/pages', { config: answersIn(['html', 'json'], 'html') }, async () => {
    throw refuse('invalid_request', 'Bad <input>.');
  });
  app.get('/json', { config: answersIn(['json'], 'json') }, async () => {
    throw new StoreUnavailableError('redis went away: ECONNREFUSED');
  });
  app.get('/login', async () => {
    throw providerProblem(provider, timeout, 'login');
  });
  app.get('/refresh', { config: answersIn(['json'], 'json') }, async () => {
    throw providerProblem(provider, timeout, 'refresh');
  });
  app.get('/page', async () => {
    throw new LoginRequiredError('/api/obo?aud=a:b:c');
  });
  app.get('/bug', async () => {
    throw new TypeError('undefined is not a function');
  });
  await app.ready();
});
afterAll(() => app.close());

describe('the error handler', () => {
  it('answers in the formats the route answers in, by what the client prefers', async () => {
    const html = await app.inject({ url: '/pages' });
    expect(html.statusCode).toBe(400);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('<p>Bad &#60;input&#62;.</p>');
    const json = await app.inject({ url: '/pages', headers: { accept: 'application/json' } });
    expect(json.json()).toMatchObject({ error: 'invalid_request', error_description: 'Bad <input>.' });
    // Text is not among what the route answers in: its default wins.
    const text = await app.inject({ url: '/pages', headers: { accept: 'text/plain' } });
    expect(text.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('answers an unavailable store with one 503, whatever the store said', async () => {
    const res = await app.inject({ url: '/json' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      error: 'session_store_unavailable',
      error_description: 'The session store is unavailable right now. Try again in a moment.',
    });
    expect(res.body).not.toContain('ECONNREFUSED');
  });

  it('logs the flow that ran when the identity provider failed', async () => {
    expect((await app.inject({ url: '/login' })).statusCode).toBe(504);
    expect((await app.inject({ url: '/refresh' })).json()).toMatchObject({ error: 'identity_provider_timeout' });
    const flows = logs.map((line) => JSON.parse(line) as { msg: string; flow?: string }).filter((l) => l.msg === 'token request failed');
    expect(flows.map((l) => l.flow)).toEqual(['login', 'refresh']);
  });

  it('sends a browser to log in, and tells any other client where to in JSON', async () => {
    const browser = await app.inject({ url: '/page', headers: { 'sec-fetch-mode': 'navigate' } });
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe('/oauth2/login?redirect=%2Fapi%2Fobo%3Faud%3Da%3Ab%3Ac');
    const script = await app.inject({ url: '/page', headers: { accept: 'text/html', 'sec-fetch-mode': 'cors' } });
    expect(script.statusCode).toBe(401);
    expect(script.json()).toMatchObject({
      error: 'login_required',
      login_url: 'http://gen.test/oauth2/login?redirect=%2Fapi%2Fobo%3Faud%3Da%3Ab%3Ac',
    });
  });

  it('answers anything else with a 500 that names the correlation id, and logs it', async () => {
    const res = await app.inject({ url: '/bug' });
    expect(res.statusCode).toBe(500);
    expect(res.body).toContain('tell its operators the correlation id');
    expect(res.body).not.toContain('undefined is not a function');
    expect(logs.some((line) => line.includes('"request failed"'))).toBe(true);
  });
});

describe('a page whose first step is a link of its own', () => {
  it("keeps a login callback's Try again whole, however long its code", () => {
    const callback = `/oauth2/callback?code=${'c'.repeat(4_000)}&state=s&session_state=t`;
    const page = problemPage(new LoginPutOff(new URL(callback, 'http://gen.test')).problem, {
      returnTo: '/',
      loginDomain: 'trygdeetaten.no',
      correlationId: 'id',
    });
    expect(page).toContain(`href="${callback.replaceAll('&', '&#38;')}"`);
  });
});

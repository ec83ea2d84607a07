/**
 * The cached-token lane answers `POST /api/public/m2m` without Fastify, so it does what the route's
 * hooks do itself. These tests fail when the route gains a hook the lane does not know: the service
 * then refuses to start, naming the hook, rather than skip it unnoticed for the lane's answers.
 */
import Fastify, { type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../src/paths.js';
import { buildApp } from '../../src/generator/app.js';
import { checkLaneKnowsHooks, HOOKS_THE_LANE_KNOWS, laneHookMismatches, replayLaneBody } from '../../src/generator/cached-lane.js';
import { routeHooks } from '../../src/generator/route-hooks.js';
import { MemoryStore } from '../../src/session/index.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** The service's app as `buildApp` makes it, not yet ready, with a store the test closes. */
async function freshApp() {
  const store = new MemoryStore();
  const { config, provider } = stack.generator.ctx;
  const generator = await buildApp({ config, provider, logger: memoryLogger('silent').logger, store });
  return { app: generator.app, close: () => store.close() };
}

const onRequest = function rateLimit(_request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
  done();
};

describe('the hooks of the m2m route', () => {
  it('are exactly the ones the lane knows, in the running service', () => {
    expect(routeHooks(stack.generator.app, 'POST', PATHS.m2m)).toEqual(HOOKS_THE_LANE_KNOWS);
  });

  for (const lifecycle of ['onRequest', 'preHandler', 'onSend', 'onResponse'] as const) {
    it(`stop the service from starting when the app gains an ${lifecycle} hook the lane does not know`, async () => {
      const { app, close } = await freshApp();
      app.addHook(lifecycle, async function auditTrail() {});
      try {
        await expect(app.ready()).rejects.toThrow(`the ${lifecycle} hook auditTrail is not done by the lane`);
      } finally {
        await close();
      }
    });
  }

  it('let the service start with the app as it is', async () => {
    const { app, close } = await freshApp();
    try {
      await expect(app.ready()).resolves.toBeDefined();
    } finally {
      await app.close();
      await close();
    }
  });

  it('count a hook of the route itself, and one of a route listed under another route', async () => {
    const app = Fastify();
    // A POST route at the root lists the m2m route under it, by the rest of its path.
    app.post('/', async () => 'root');
    app.post(PATHS.m2m, { onRequest, preParsing: replayLaneBody, preHandler: async function checkTenant() {} }, async () => 'token');
    await app.ready();
    const expected = { onRequest: ['rateLimit'], preParsing: ['replayLaneBody'], preHandler: ['checkTenant'] };
    expect(routeHooks(app, 'POST', PATHS.m2m)).toEqual(expected);
    expect(() => checkLaneKnowsHooks(app)).toThrow('the preHandler hook checkTenant is not done by the lane');
    await app.close();
  });

  it('count an anonymous hook, and a known hook run twice, as unknown', () => {
    expect(laneHookMismatches({ onRequest: ['rateLimit', 'anonymous'], preParsing: ['replayLaneBody', 'replayLaneBody'] })).toEqual([
      'the onRequest hook anonymous is not done by the lane',
      'the preParsing hook replayLaneBody is not done by the lane',
    ]);
  });

  it('say so when a hook the lane does is gone from the route', () => {
    expect(laneHookMismatches({ preParsing: ['replayLaneBody'] })).toEqual([
      'the lane does the onRequest hook rateLimit, which the route no longer has',
    ]);
  });

  it('are read loudly: a route that is not there is an error, not an empty list', async () => {
    const app = Fastify();
    app.post('/elsewhere', async () => 'x');
    await app.ready();
    expect(() => routeHooks(app, 'POST', PATHS.m2m)).toThrow(`POST ${PATHS.m2m} is not in the listing of routes`);
    await app.close();
  });
});

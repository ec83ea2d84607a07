/**
 * The cached-token lane. Scripts ask for the same few app tokens again and again, and a cached
 * token is answered from memory; for such a request Fastify's request and reply objects, hooks and
 * body parsing took about half of the time the service spent on it (BENCHMARKS.md). This lane
 * answers exactly that request in the HTTP server, before Fastify sees it:
 *
 *   POST /api/public/m2m (no query) with a small `application/x-www-form-urlencoded` body,
 *   without `Cache-Control: no-cache`, whose audience has a cached token, from an address within
 *   its rate limit, while the service is not shutting down.
 *
 * The answer is the one the route gives (the same parser, audience rules, formats, headers, count
 * and log line). Every other request goes to Fastify untouched; one of this shape that is not
 * answered here (an invalid audience, a cache miss, a caller over its limit) goes to Fastify with
 * the body it read handed back to the route by `replayLaneBody`, and the rate-limit verdict it
 * took kept for the route's hook, so that the request is counted once: both in the request's
 * `LaneState`. The route's hooks are what the lane must do alike; `buildApp` refuses to start when
 * the route has one the lane does not know (HOOKS_THE_LANE_KNOWS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { parse as parseForm } from 'fast-querystring';
import type { FastifyInstance, preParsingHookHandler } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { clientAddressOf } from './client-address.js';
import { noCacheAsked } from './context.js';
import type { Metrics } from './metrics.js';
import { preferredFormat } from './negotiate.js';
import type { RateLimiter } from './core/limits.js';
import { laneStateOf, type LaneState } from './lane-state.js';
import { routeHooks, type RouteHooks } from './route-hooks.js';
import { logAnswered } from './request-log.js';
import type { AudienceResult } from '../audience.js';
import { PATHS } from '../paths.js';
import { audienceOf, M2M_FORMATS, tokenAnswer } from './m2m-rules.js';
import type { Tokens } from './core/tokens.js';

/** The content types the lane takes, as curl, fetch, Python and Go write them; others go to Fastify. */
const FORM_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded;charset=utf-8',
  'application/x-www-form-urlencoded; charset=utf-8',
]);
/** An audience is at most 253 characters; a larger body is not a plain request for a token. */
const MAX_BODY_BYTES = 1024;
const CONTENT_LENGTH = /^\d{1,4}$/;

/**
 * The hooks Fastify runs for the m2m route, by the names of their functions, that the lane accounts
 * for when it answers a request itself. A hook the route gains (its own, or the app's) that is not
 * here would be skipped, unnoticed, for the lane's answers: `buildApp` refuses to start with one
 * (`checkLaneKnowsHooks`). Make the lane do what the new hook does, then name the hook here.
 */
export const HOOKS_THE_LANE_KNOWS: Readonly<RouteHooks> = {
  // The lane takes the caller's verdict from the same limiter, and leaves it in the request's LaneState for this hook.
  onRequest: ['rateLimit'],
  // The lane reads the body itself; for a request it hands on, this hook gives that body to the route.
  preParsing: ['replayLaneBody'],
};

/** How the route's hooks differ from the ones the lane knows, one sentence each; empty when they agree. */
export function laneHookMismatches(hooks: RouteHooks): string[] {
  const mismatches: string[] = [];
  for (const lifecycle of new Set([...Object.keys(hooks), ...Object.keys(HOOKS_THE_LANE_KNOWS)])) {
    const known = [...(HOOKS_THE_LANE_KNOWS[lifecycle] ?? [])];
    for (const name of hooks[lifecycle] ?? []) {
      const at = known.indexOf(name);
      if (at === -1) mismatches.push(`the ${lifecycle} hook ${name} is not done by the lane`);
      else known.splice(at, 1);
    }
    for (const name of known) mismatches.push(`the lane does the ${lifecycle} hook ${name}, which the route no longer has`);
  }
  return mismatches;
}

/** Throws when the m2m route's hooks are not the ones the lane knows; called once the app is ready. */
export function checkLaneKnowsHooks(app: FastifyInstance): void {
  const mismatches = laneHookMismatches(routeHooks(app, 'POST', PATHS.m2m));
  if (mismatches.length > 0) {
    const where = 'see HOOKS_THE_LANE_KNOWS in src/generator/cached-lane.ts';
    throw new Error(`The cached-token lane answers ${PATHS.m2m} without Fastify, and ${mismatches.join('; ')} (${where})`);
  }
}

interface Outgoing {
  response: ServerResponse;
  headers: string[];
  body: string;
  id: string;
  userAgent: string | undefined;
  started: number;
}

export interface LaneOptions {
  tokens: Tokens;
  limiter: RateLimiter;
  metrics: Metrics;
  /** The logger of the one line a request (`accessLogger`). */
  access: Logger;
  /** As TRUST_PROXY_HOPS: the client's address is taken the way Fastify takes `request.ip`. */
  trustProxyHops: number;
  shuttingDown: () => boolean;
  /** BODY_LIMIT_BYTES: a body the route would refuse as too large is left to the route. */
  bodyLimitBytes: number;
  /** The headers the server puts on every response; the lane writes them with its own. */
  everyResponseHeaders: readonly (readonly [string, string])[];
}

export class CachedTokenLane {
  /** Requests answered here (for tests). */
  answered = 0;
  private readonly clientAddress: (request: IncomingMessage) => string | undefined;
  private readonly fixedHeaders: string[];
  private readonly maxBodyBytes: number;
  private readonly countAnswer: () => void;
  /**
   * Answers decided in this turn of the event loop, written together at its end (setImmediate, in
   * the same turn). Written one by one as each request was read, nearly every answer found the
   * client waiting and woke it; on loopback the kernel does that inside our write, which then took
   * more than half of the time of a cached-token answer. Written together, the client is woken once
   * for the lot: 21 % more cached-token answers a second (BENCHMARKS.md).
   */
  private outbox: Outgoing[] = [];
  /** Recent bodies and the audience each names: scripts send the same body again and again. */
  private readonly recentBodies = new LRUCache<string, AudienceResult>({ max: 1000 });

  constructor(private readonly options: LaneOptions) {
    this.fixedHeaders = options.everyResponseHeaders.flat();
    this.maxBodyBytes = Math.min(MAX_BODY_BYTES, options.bodyLimitBytes);
    this.countAnswer = options.metrics.requestCounter(PATHS.m2m, 'POST', 200);
    this.clientAddress = clientAddressOf(options.trustProxyHops);
  }

  /**
   * Reads the body of a request that `takes` accepted, and answers it when it asks for a cached
   * token; otherwise calls `next`, which hands it to Fastify with the body kept for `replayLaneBody`.
   */
  handle(request: IncomingMessage, response: ServerResponse, state: LaneState, next: () => void): void {
    const started = performance.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body leaves nobody to answer; its socket is closed by Node.js.
    request.on('error', () => {});
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let answered = false;
      try {
        answered = this.answer(request, response, body, state, started);
      } catch {
        // Nothing is queued until the last step of `answer`: whatever went wrong, the route answers (or reports) it.
      }
      if (answered) return;
      state.body = body;
      next();
    });
  }

  /** Whether the request, by its method, URL and headers alone, is one the lane may answer. */
  takes(request: IncomingMessage): boolean {
    if (request.method !== 'POST' || request.url !== PATHS.m2m || this.options.shuttingDown()) return false;
    const headers = request.headers;
    const type = headers['content-type'];
    const length = headers['content-length'];
    return (
      type !== undefined &&
      FORM_TYPES.has(type.toLowerCase()) &&
      length !== undefined &&
      CONTENT_LENGTH.test(length) &&
      Number(length) <= this.maxBodyBytes &&
      headers['transfer-encoding'] === undefined &&
      !noCacheAsked(headers)
    );
  }

  /** Queues the answer with the cached token and returns true, or returns false having answered nothing. */
  private answer(request: IncomingMessage, response: ServerResponse, body: Buffer, state: LaneState, started: number): boolean {
    // Shutdown may have begun while the body was on its way: the route then answers, closing the connection.
    if (this.options.shuttingDown()) return false;
    const audience = this.audienceIn(body.toString());
    if (!audience.ok) return false;
    const verdict = this.options.limiter.take(this.clientAddress(request) ?? '');
    state.verdict = verdict;
    if (!verdict.allowed) return false;
    const token = this.options.tokens.cachedAppToken(audience.value);
    if (!token) return false;
    const answer = tokenAnswer(token, preferredFormat(request.headers.accept, M2M_FORMATS, 'text'));
    // One array, in the order the server and the route set them: no header object is built.
    const id = state.correlationId;
    const headers = [
      'x-correlation-id',
      id,
      ...this.fixedHeaders,
      'cache-control',
      'no-store',
      'content-type',
      answer.type,
      'content-length',
      String(Buffer.byteLength(answer.body)),
    ];
    this.outbox.push({ response, headers, body: answer.body, id, userAgent: request.headers['user-agent'], started });
    if (this.outbox.length === 1) setImmediate(this.flush);
    return true;
  }

  /** Writes the answers decided in this turn of the event loop, then counts and logs each. */
  private readonly flush = (): void => {
    const outbox = this.outbox;
    this.outbox = [];
    for (const { response, headers, body, id, userAgent, started } of outbox) {
      // Nothing here is known to fail; if something does, this client's connection ends and the others' answers go out.
      try {
        response.writeHead(200, headers);
        response.end(body);
        this.answered++;
        this.countAnswer();
        logAnswered(this.options.access, {
          id,
          method: 'POST',
          url: PATHS.m2m,
          userAgent,
          statusCode: 200,
          responseTime: performance.now() - started,
        });
      } catch {
        response.destroy();
      }
    }
  };

  private audienceIn(body: string): AudienceResult {
    let audience = this.recentBodies.get(body);
    if (!audience) {
      // A parsed form is an object: the content type, named only when a plain-text body is refused, plays no part.
      audience = audienceOf(undefined, parseForm(body), undefined);
      this.recentBodies.set(body, audience);
    }
    return audience;
  }
}

/** A `preParsing` hook for the route: the body the lane read is parsed by Fastify as if it came from the socket. */
export const replayLaneBody: preParsingHookHandler = (request, _reply, payload, done) => {
  const body = laneStateOf(request.raw)?.body;
  done(null, body ? Readable.from([body], { objectMode: false }) : payload);
};

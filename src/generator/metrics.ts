/**
 * Prometheus metrics for operators, one registry per generator instance.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TokenRequestEvent } from '../entra/client.js';

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly tokenRequests = new Counter({
    name: 'idp_token_requests_total',
    help: 'Token requests to the identity provider, by grant and outcome (with the AADSTS code when refused)',
    labelNames: ['grant', 'outcome', 'aadsts'] as const,
    registers: [this.registry],
  });

  readonly tokenRequestDuration = new Histogram({
    name: 'idp_token_request_duration_seconds',
    help: 'Duration of token requests to the identity provider, by grant',
    labelNames: ['grant'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly cacheLookups = new Counter({
    name: 'token_cache_lookups_total',
    help: 'Token cache lookups, by cache (app, user) and result (hit, miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly sessions = new Counter({
    name: 'sessions_total',
    help: 'Session events: started, refreshed, ended',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'logins_total',
    help: 'Login events: started, completed, failed',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  onTokenRequest = (event: TokenRequestEvent): void => {
    this.tokenRequests.inc({ grant: event.grant, outcome: event.outcome, aadsts: event.aadsts === undefined ? '' : String(event.aadsts) });
    this.tokenRequestDuration.observe({ grant: event.grant }, event.durationMs / 1000);
  };

  onCache = (cache: 'app' | 'user', hit: boolean): void => {
    this.cacheLookups.inc({ cache, result: hit ? 'hit' : 'miss' });
  };
}

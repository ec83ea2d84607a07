/**
 * Prometheus metrics for operators, one registry per generator instance.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TokenRequestEvent } from '../entra/client.js';

export class Metrics {
  readonly registry = new Registry();

  /**
   * Requests answered, counted in plain numbers as they happen and handed to the counter when
   * metrics are scraped: labelling a prom-client counter on every request cost the cached-token
   * path a few percent of its throughput.
   */
  private readonly answered = new Map<string, { labels: { route: string; method: string; status: string }; count: number }>();

  readonly httpRequests: Counter<'route' | 'method' | 'status'>;

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

  /** Cache lookups, counted like answered requests: one happens on every token request. */
  private readonly lookups = { app: { hit: 0, miss: 0 }, user: { hit: 0, miss: 0 } };

  readonly cacheLookups: Counter<'cache' | 'result'>;

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
    const answered = this.answered;
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [this.registry],
      collect() {
        for (const entry of answered.values()) {
          if (entry.count === 0) continue;
          this.inc(entry.labels, entry.count);
          entry.count = 0;
        }
      },
    });
    const lookups = this.lookups;
    this.cacheLookups = new Counter({
      name: 'token_cache_lookups_total',
      help: 'Token cache lookups, by cache (app, user) and result (hit, miss)',
      labelNames: ['cache', 'result'] as const,
      registers: [this.registry],
      collect() {
        for (const cache of ['app', 'user'] as const) {
          for (const result of ['hit', 'miss'] as const) {
            if (lookups[cache][result] === 0) continue;
            this.inc({ cache, result }, lookups[cache][result]);
            lookups[cache][result] = 0;
          }
        }
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** One request answered. */
  requestAnswered(route: string, method: string, status: number): void {
    const key = `${status} ${method} ${route}`;
    const entry = this.answered.get(key);
    if (entry) entry.count++;
    else this.answered.set(key, { labels: { route, method, status: String(status) }, count: 1 });
  }

  onTokenRequest = (event: TokenRequestEvent): void => {
    this.tokenRequests.inc({ grant: event.grant, outcome: event.outcome, aadsts: event.aadsts === undefined ? '' : String(event.aadsts) });
    this.tokenRequestDuration.observe({ grant: event.grant }, event.durationMs / 1000);
  };

  onCache = (cache: 'app' | 'user', hit: boolean): void => {
    this.lookups[cache][hit ? 'hit' : 'miss']++;
  };
}

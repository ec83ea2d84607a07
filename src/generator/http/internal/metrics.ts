/**
 * Prometheus metrics for operators, one registry per generator instance.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TokenRequestEvent } from '../../idp/identity-provider.js';

/**
 * A counter for events that happen on every request: counted in plain numbers as they happen and
 * handed to prom-client when metrics are scraped, because labelling a prom-client counter on every
 * request cost the cached-token path a few percent of its throughput (BENCHMARKS.md).
 */
class BatchedCounter<L extends string> {
  private readonly pending: { labels: Record<L, string>; count: number }[] = [];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    const pending = this.pending;
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const entry of pending) {
          if (entry.count === 0) continue;
          this.inc(entry.labels, entry.count);
          entry.count = 0;
        }
      },
    });
  }

  /** A function that counts one event with these label values; the caller keeps it for every such event. */
  counter(labels: Record<L, string>): () => void {
    const entry = { labels, count: 0 };
    this.pending.push(entry);
    return () => {
      entry.count++;
    };
  }
}

export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new BatchedCounter(
    this.registry,
    'http_requests_total',
    'HTTP requests answered, by route, method and status',
    ['route', 'method', 'status'] as const,
  );

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

  private readonly cacheLookups = new BatchedCounter(
    this.registry,
    'token_cache_lookups_total',
    'Token cache lookups, by cache (app, employee) and result (hit, miss)',
    ['cache', 'result'] as const,
  );

  /**
   * The headless route's sessions are left out on purpose: such a session lives in its request's memory, is never
   * refreshed in the store and never ends, so counting it as started would count calls to that route, not sessions,
   * and would swamp the employees' logins when a load test calls it (see `Sessions.once`).
   */
  readonly sessions = new Counter({
    name: 'sessions_total',
    help:
      'Events of the sessions kept in the session store (an employee’s login in a browser, a tool’s): started, refreshed, ended. ' +
      'The headless route’s one-token sessions are never stored and not counted.',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'logins_total',
    help: 'Login events: started, completed, failed',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  /** What `session_store_up` reads when scraped. */
  private storeHealth: () => { reachable: boolean } = () => ({ reachable: true });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const reachable = () => this.storeHealth().reachable;
    new Gauge({
      name: 'session_store_up',
      help: 'Whether the session store answers (1) or not (0); always 1 for sessions in memory',
      registers: [this.registry],
      collect() {
        this.set(reachable() ? 1 : 0);
      },
    });
  }

  watchSessionStore(health: () => { reachable: boolean }): void {
    this.storeHealth = health;
  }

  /** The counter of each route, method and status, looked up by the strings Fastify hands over (no key is built per request). */
  private readonly answered = new Map<string, Map<string, Map<number, () => void>>>();

  /** One request answered. */
  requestAnswered(route: string, method: string, status: number): void {
    let byMethod = this.answered.get(route);
    if (!byMethod) this.answered.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let count = byStatus.get(status);
    if (!count) byStatus.set(status, (count = this.httpRequests.counter({ route, method, status: String(status) })));
    count();
  }

  onTokenRequest = (event: TokenRequestEvent): void => {
    this.tokenRequests.inc({ grant: event.grant, outcome: event.outcome, aadsts: event.aadsts === undefined ? '' : String(event.aadsts) });
    this.tokenRequestDuration.observe({ grant: event.grant }, event.durationMs / 1000);
  };

  private readonly lookups = {
    app: [this.cacheLookups.counter({ cache: 'app', result: 'miss' }), this.cacheLookups.counter({ cache: 'app', result: 'hit' })],
    employee: [
      this.cacheLookups.counter({ cache: 'employee', result: 'miss' }),
      this.cacheLookups.counter({ cache: 'employee', result: 'hit' }),
    ],
  } as const;

  onCache = (cache: 'app' | 'employee', hit: boolean): void => {
    this.lookups[cache][hit ? 1 : 0]();
  };
}

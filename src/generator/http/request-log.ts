/** The one line a request gets when it is answered, and its count in `http_requests_total`: written by Fastify's log controller. */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from '../../logger.js';
import type { Metrics } from './internal/metrics.js';

/** A request that took longer than this is logged at `info` even when it succeeded. */
const SLOW_REQUEST_MS = 1000;

export interface Answered {
  id: string;
  method: string;
  url: string;
  userAgent: string | undefined;
  statusCode: number;
  /** Milliseconds from the request's arrival to its answer. */
  responseTime: number;
  error?: Error | null | undefined;
}

/**
 * Logs one answered request with method, redacted URL, status and duration: at `info` when it failed
 * (status 400 or more) or was slow, at `debug` when it succeeded. Successes are counted by the metric
 * and logged by the NAIS ingress already; written at `info`, their line cost a third of the
 * cached-token throughput (BENCHMARKS.md). `LOG_LEVEL=debug` logs every request. The line is built
 * here from fields that cannot hold a secret (the URL's codes and tokens are blanked by `redactUrl`),
 * so `access` is an `accessLogger`, which skips the redaction pass that every other line gets.
 */
export function logAnswered(access: Logger, answered: Answered): void {
  const { error, statusCode, responseTime } = answered;
  const level = levelOf(error, statusCode, responseTime);
  if (!access.isLevelEnabled(level)) return;
  access[level](
    {
      reqId: answered.id,
      req: { id: answered.id, method: answered.method, url: redactUrl(answered.url), userAgent: answered.userAgent },
      res: { statusCode },
      responseTime,
    },
    error ? 'request errored' : 'request completed',
  );
}

/** The level of a request's line: `info` when it failed or was slow, `debug` when it succeeded. */
function levelOf(error: Error | null | undefined, statusCode: number, responseTime: number): 'info' | 'debug' {
  return error || statusCode >= 400 || responseTime > SLOW_REQUEST_MS ? 'info' : 'debug';
}

/** The logger for the one line a request: no redaction pass, and its fields taken as they are. */
export function accessLogger(logger: Logger): Logger {
  const asIs = <T>(value: T): T => value;
  return logger.child({}, { redact: { paths: [] }, serializers: { req: asIs, res: asIs } });
}

/**
 * Fastify's side: every request it completes is counted and logged. Health checks and metrics
 * scrapes are counted but never logged.
 */
export class RequestEnd extends LogController {
  constructor(
    private readonly access: Logger,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  override isLogDisabled(request: FastifyRequest): boolean {
    return request.url.startsWith('/internal/');
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const statusCode = reply.statusCode;
    // Counted here, where Fastify calls in for every request anyway, rather than in a hook of its own.
    this.metrics.requestAnswered(request.routeOptions.url ?? 'unmatched', request.method, statusCode);
    if (this.isLogDisabled(request)) return;
    const responseTime = reply.elapsedTime;
    // A line that is not written is not built: a success, at the default level.
    if (!this.access.isLevelEnabled(levelOf(error, statusCode, responseTime))) return;
    logAnswered(this.access, {
      id: String(request.id),
      method: request.method,
      url: request.url,
      userAgent: request.headers['user-agent'],
      statusCode,
      responseTime,
      error,
    });
  }
}

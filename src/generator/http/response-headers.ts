/**
 * The headers every response carries, and its request's correlation id, which Fastify takes as the
 * request's id. The server sets them on each response before Fastify sees the request, so that every
 * answer has them (refusals and 404s included) and no hook runs for them.
 *
 * They are added when the response's head is written, to the headers the answer brings (which win),
 * rather than set one by one beforehand: Node.js keeps headers set beforehand in a dictionary and
 * writes the head by its slow path, which cost the cached-token path several microseconds an answer
 * (BENCHMARKS.md).
 */
import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { CONTENT_SECURITY_POLICY } from './views/html.js';

/**
 * Tokens and codes travel in URLs and pages here: no referrer ever leaves, nothing is sniffed, and no
 * response may run a script of another origin or be framed (the policy fits the HTML pages; on text
 * and JSON it is harmless). Written out as one literal, so that every answer's head starts as the same
 * kind of object.
 */
export function everyResponseHeaders(correlationId: string): OutgoingHttpHeaders {
  return {
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'x-correlation-id': correlationId,
  };
}
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The caller's correlation id when it sent a sane one, else the trace id of `traceparent`, else a new one. */
export function correlationId(headers: IncomingHttpHeaders): string {
  const given = headers['x-correlation-id'];
  if (typeof given === 'string' && CORRELATION_ID.test(given)) return given;
  const traceparent = headers.traceparent;
  const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
  return trace ?? randomUUID();
}

type Head = OutgoingHttpHeaders | OutgoingHttpHeader[];

/** A response that writes the headers every response carries, and its correlation id once it has one. */
export class CorrelatedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Set by the server once the request is let in: a request refused before (an unknown host name) gets none of these headers. */
  correlationId: string | undefined = undefined;

  /** Called as the head is written, before Node.js stores it (whether the connection ends): a server's own class says what. */
  protected beforeHead(): void {}

  override writeHead(statusCode: number, statusMessage?: string, headers?: Head): this;
  override writeHead(statusCode: number, headers?: Head): this;
  override writeHead(statusCode: number, messageOrHeaders?: string | Head, headers?: Head): this {
    this.beforeHead();
    const id = this.correlationId;
    if (id === undefined) return super.writeHead(statusCode, messageOrHeaders as string, headers);
    const message = typeof messageOrHeaders === 'string' ? messageOrHeaders : undefined;
    const given = typeof messageOrHeaders === 'string' ? headers : messageOrHeaders;
    if (Array.isArray(given) || this.getHeaderNames().length > 0) {
      // Headers set one by one, or given as a list: only those neither names are added, one by one.
      for (const [name, value] of Object.entries(everyResponseHeaders(id))) {
        if (!this.hasHeader(name) && !named(given, name)) this.setHeader(name, value as string);
      }
      return super.writeHead(statusCode, message, given);
    }
    const all = everyResponseHeaders(id);
    // The answer's own headers win: Fastify writes names in lower case, as these are.
    for (const name in given) all[name] = given[name];
    return super.writeHead(statusCode, message, all);
  }
}

/**
 * The response class of one server, whose answers call `beforeHead` as their heads are written: set once
 * for the server's class rather than on each response.
 */
export function correlatedResponses(beforeHead: (response: ServerResponse) => void): typeof CorrelatedResponse {
  return class ServerAnswer<Request extends IncomingMessage = IncomingMessage> extends CorrelatedResponse<Request> {
    protected override beforeHead(): void {
      beforeHead(this);
    }
  };
}

/** Whether headers given to `writeHead` name `name`. */
function named(given: Head | undefined, name: string): boolean {
  if (!given) return false;
  if (!Array.isArray(given)) return Object.keys(given).some((key) => key.toLowerCase() === name);
  // A flat list of names and values, or a list of [name, value] pairs.
  const nameOf = (entry: OutgoingHttpHeader, i: number) => (Array.isArray(entry) ? entry[0] : i % 2 === 0 ? entry : undefined);
  return given.some((entry, i) => String(nameOf(entry, i)).toLowerCase() === name);
}

/**
 * A deadline for a request's body: once its headers are in, a request has this long for the rest.
 * A client that trickles a body a byte at a time would otherwise hold its connection, and a place
 * within the connection bound, for as long as Node.js's whole-request timeout. It gets a 408 and
 * its connection is closed.
 *
 * Most bodies (a form of a few bytes) arrive with their headers, so no request gets a timer or a
 * listener of its own: the requests of one turn of the event loop are looked at once it is over, and
 * only those still waiting for their body are kept and looked at a few times a second. A timer and
 * two listeners per request were a measurable part of answering a cached token (BENCHMARKS.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Problem } from '../core/problem.js';
import { fixedAnswer } from './errors.js';

export const BODY_TIMEOUT: Problem = {
  code: 'body_timeout',
  message: 'The request body did not arrive in time: send it at once, after the headers.',
};
/** Rendered once: the same words for every late request. */
const ANSWER = fixedAnswer(BODY_TIMEOUT);
/** How many times within a deadline the requests waiting for their body are looked at. */
const LOOKS_PER_DEADLINE = 20;

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** Waiting for its body: neither arrived nor answered, nor closed. */
const waiting = (res: ServerResponse) => !res.req.complete && !res.writableEnded && !res.destroyed;

function late(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) {
    res.writeHead(ANSWER.status, ANSWER.headers);
    res.end(ANSWER.body, () => req.socket.destroy());
  }
  // Whatever is still on its way is not waited for.
  setTimeout(() => req.socket.destroy(), 1_000).unref();
}

/** What the server calls with each request it receives, to hold that request to the deadline. */
export function bodyDeadline(ms: number): (req: IncomingMessage, res: ServerResponse) => void {
  // This turn's requests with a body to come.
  let arrived: ServerResponse[] = [];
  // Those still waiting for it after their turn, with the time their deadline passes.
  const awaiting = new Map<ServerResponse, number>();
  let looking: NodeJS.Timeout | undefined;
  const look = () => {
    const now = Date.now();
    for (const [res, deadline] of awaiting) {
      if (!waiting(res)) awaiting.delete(res);
      else if (deadline <= now) {
        awaiting.delete(res);
        late(res.req, res);
      }
    }
    if (awaiting.size > 0) return;
    clearInterval(looking);
    looking = undefined;
  };
  const turnOver = () => {
    const deadline = Date.now() + ms;
    for (const res of arrived) if (waiting(res)) awaiting.set(res, deadline);
    arrived = [];
    if (awaiting.size > 0) looking ??= setInterval(look, ms / LOOKS_PER_DEADLINE).unref();
  };
  return (req, res) => {
    if (req.complete || !hasBody(req)) return;
    if (arrived.push(res) === 1) setImmediate(turnOver);
  };
}

/**
 * While the service shuts down, each connection ends with its last answer: `Connection: close`, and
 * closed once the answer is sent, so that clients move to other replicas instead of sending more here
 * until their keep-alive runs out.
 *
 * Decided as each answer's head is written, not as its request arrives: a request whose headers came
 * before the shutdown and whose body came after is answered after it began. An answer with another
 * request already behind it on its connection (pipelined) keeps the connection open, since closing it
 * would drop that request unanswered; the last one answered closes it. For the same reason the
 * `Connection: close` that Fastify sets on each request it receives once it is closing is taken off an
 * answer that has a request behind it.
 *
 * A request that reaches the server between the head of the answer before it and the end of that answer
 * is dropped with the connection, as with any server that closes connections: its client had not yet
 * read `Connection: close`.
 */
import type { ServerResponse } from 'node:http';

/** What the server calls as each answer's head is written. Costs a property read while not shutting down. */
export function lastAnswerCloses(
  shutdown: { readonly shuttingDown: boolean },
  followed: (response: ServerResponse) => boolean,
): (response: ServerResponse) => void {
  return (response) => {
    if (!shutdown.shuttingDown) return;
    // Node.js then writes `Connection: close` and ends the connection once the answer is sent.
    if (!followed(response)) response.shouldKeepAlive = false;
    // Fastify's; unless the request itself asked to close.
    else if (response.shouldKeepAlive && response.hasHeader('connection')) response.setHeader('connection', 'keep-alive');
  };
}

/**
 * A refusal sent before the request's body has all arrived (413, an unreadable body) closes the
 * connection, and Node.js closes it as soon as the answer is written. The client is then still
 * sending: the rest of its body meets a reset connection, and Node's fetch, curl and Python's
 * requests report that reset instead of the answer. So the rest of the body is read and thrown
 * away first, up to a bound in bytes and in time, and only then is the connection closed.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export const DRAIN_MAX_BYTES = 10 * 1024 * 1024;
export const DRAIN_MAX_MS = 5_000;
/** How often the bytes read are looked at: Node.js hands a dumped body to nobody, so they are counted on the socket. */
const CHECK_EVERY_MS = 20;

/** Defers the close Node.js makes after the answer until the request's body has ended, or the bound is reached. */
export function drainBeforeClose(request: IncomingMessage): void {
  const socket = request.socket as Socket | null;
  // A socket that is no network connection (light-my-request's, under inject) has no close to defer.
  if (request.complete || !socket || socket.destroyed || typeof socket.destroySoon !== 'function') return;
  const closeNow = socket.destroySoon.bind(socket);
  // Node.js calls this once the answer is written, after it has stopped passing the body to anyone.
  socket.destroySoon = () => {
    socket.destroySoon = closeNow;
    if (request.complete) return closeNow();
    const limit = socket.bytesRead + DRAIN_MAX_BYTES;
    const deadline = Date.now() + DRAIN_MAX_MS;
    const done = (close: () => void) => {
      clearInterval(check);
      request.off('end', ended);
      close();
    };
    const ended = () => done(closeNow);
    const check = setInterval(() => {
      if (socket.bytesRead > limit || Date.now() > deadline) done(() => socket.destroy());
    }, CHECK_EVERY_MS);
    check.unref();
    socket.once('close', () => clearInterval(check));
    request.once('end', ended);
    request.resume();
  };
}

/**
 * The emulator's request log: one line per request at debug (npm start's terminal is for the developer's own
 * work) and its start at trace, by path only, as query strings carry codes, states and id_token_hints.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export class PathOnlyRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.trace({ method: request.method, path: pathOf(request.url).slice(0, 200) }, 'incoming request');
  }

  override routeNotFound(): void {}

  override defaultErrorLog(error: Error, request: FastifyRequest): void {
    request.log.error({ path: pathOf(request.url).slice(0, 200), reason: error.message.slice(0, 200) }, 'request failed');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug(
      { method: request.method, path: pathOf(request.url).slice(0, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      error ? 'request errored' : 'request completed',
    );
  }
}

/**
 * One HTTP request with node:http(s). Not fetch: in Node.js 20 the first fetch loads undici and compiles
 * its WebAssembly parser, some 100 ms of CPU, more than the rest of a cached token's whole run
 * (BENCHMARKS.md, figure 8). OAuth's flows, which are not on that path, use fetch through openid-client.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Answer {
  status: number;
  /** A response header, lower-case name. */
  header(name: string): string | undefined;
  /** The body as JSON, or undefined when it is not JSON. */
  json(): unknown;
  /** The body as text. */
  text(): string;
}

/**
 * `timeoutMs` bounds the whole exchange, not each pause in it: a server that sends its head and then trickles its body
 * would outlast an idle timeout.
 */
export function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Answer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const seconds = init.timeoutMs / 1000;
    const deadline = setTimeout(
      () => req.destroy(new Error(`no answer within ${seconds} second${seconds === 1 ? '' : 's'}`)),
      init.timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(deadline);
      reject(err);
    };
    const req = request(target, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(deadline);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const value = res.headers[name];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          text: () => text,
          json: () => {
            try {
              return JSON.parse(text) as unknown;
            } catch {
              return undefined;
            }
          },
        });
      });
    });
    req.on('error', fail);
    req.end(init.body);
  });
}

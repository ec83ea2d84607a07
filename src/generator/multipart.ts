/**
 * Multipart forms (`curl -F aud=...`) read into a plain object of fields, as a content-type
 * parser: it runs only for multipart bodies, so other requests pay nothing for it (a plugin that
 * hooks every request cost the cached-token path a tenth of its throughput, see BENCHMARKS.md).
 * Only fields are taken: a file part, too many parts or an oversized field is refused.
 */
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance } from 'fastify';

export interface MultipartLimits {
  /** The whole body, in bytes. */
  bodyBytes: number;
  fields: number;
  fieldBytes: number;
}

/** A refused multipart body; the error handler turns `code` into a problem for the caller. */
export class MultipartError extends Error {
  constructor(
    readonly code: 'INVALID_MULTIPART' | 'FST_ERR_CTP_BODY_TOO_LARGE',
    readonly statusCode: 400 | 413,
  ) {
    super(code === 'INVALID_MULTIPART' ? 'The multipart body cannot be read' : 'The multipart body is too large');
  }
}

type Fields = Record<string, string | string[]>;

export function addMultipartParser(app: FastifyInstance, limits: MultipartLimits): void {
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    let parser: BusboyInstance;
    try {
      parser = new Busboy({
        headers: request.headers as { 'content-type': string },
        limits: { fields: limits.fields, fieldSize: limits.fieldBytes, files: 0, parts: limits.fields, fileSize: 1 },
      });
    } catch {
      // No boundary, or not multipart after all.
      payload.resume();
      done(new MultipartError('INVALID_MULTIPART', 400), undefined);
      return;
    }
    const fields: Fields = Object.create(null) as Fields;
    let received = 0;
    let finished = false;
    const finish = (error: MultipartError | null) => {
      if (finished) return;
      finished = true;
      payload.unpipe(parser);
      if (error) {
        // Drain what is left, so that the answer can go out on a connection that stays usable.
        payload.resume();
        done(error, undefined);
      } else done(null, fields);
    };
    const tooLarge = () => finish(new MultipartError('FST_ERR_CTP_BODY_TOO_LARGE', 413));

    payload.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.bodyBytes) tooLarge();
    });
    parser.on('field', (name: string, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      if (valueTruncated) return tooLarge();
      const existing = fields[name];
      if (existing === undefined) fields[name] = value;
      else fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
    });
    parser.on('file', (_name: string, stream: NodeJS.ReadableStream) => {
      stream.resume();
      tooLarge();
    });
    parser.on('partsLimit', tooLarge);
    parser.on('fieldsLimit', tooLarge);
    parser.on('filesLimit', tooLarge);
    parser.on('error', () => finish(new MultipartError('INVALID_MULTIPART', 400)));
    parser.on('finish', () => finish(null));
    payload.on('error', () => finish(new MultipartError('INVALID_MULTIPART', 400)));
    payload.pipe(parser);
  });
}

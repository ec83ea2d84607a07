/**
 * Multipart forms (`curl -F aud=...`) read into a plain object of fields, as a content-type
 * parser: it runs only for multipart bodies, so other requests pay nothing for it (a plugin that
 * hooks every request cost the cached-token path a tenth of its throughput, see BENCHMARKS.md).
 * Only fields are taken: a file part, too many parts or an oversized field is refused.
 */
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance } from 'fastify';
import { BODY_TOO_LARGE, MULTIPART_UNREADABLE } from './errors.js';
import { ProblemError } from '../core/problem.js';

export interface MultipartLimits {
  /** The whole body, in bytes. */
  bodyBytes: number;
  fields: number;
  fieldBytes: number;
}

const unreadable = () => new ProblemError(MULTIPART_UNREADABLE);

type Fields = Record<string, string | string[]>;

export function addMultipartParser(app: FastifyInstance, limits: MultipartLimits): void {
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    let parser: BusboyInstance;
    try {
      parser = new Busboy({
        headers: { 'content-type': request.headers['content-type'] ?? '' },
        limits: { fields: limits.fields, fieldSize: limits.fieldBytes, files: 0, parts: limits.fields, fileSize: 1 },
      });
    } catch {
      // No boundary, or not multipart after all.
      payload.resume();
      done(unreadable(), undefined);
      return;
    }
    const fields: Fields = Object.create(null) as Fields;
    let received = 0;
    let finished = false;
    const finish = (error: ProblemError | null) => {
      if (finished) return;
      finished = true;
      payload.unpipe(parser);
      if (error) {
        // Drain what is left, so that the answer can go out on a connection that stays usable.
        payload.resume();
        done(error, undefined);
      } else done(null, fields);
    };
    const tooLarge = () => finish(new ProblemError(BODY_TOO_LARGE));

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
    parser.on('error', () => finish(unreadable()));
    parser.on('finish', () => finish(null));
    payload.on('error', () => finish(unreadable()));
    payload.pipe(parser);
  });
}

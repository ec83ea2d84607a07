/**
 * Fastify's own schema compilers (Ajv and fast-json-stringify), loaded when a route first has a
 * schema. Fastify() loads them itself otherwise, which was about a third of the time a first
 * startEmulator() took (BENCHMARKS.md), and the emulator's routes take forms, not JSON schemas.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Factories = Required<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>>;

/** A compiler package of Fastify's, resolved from Fastify's own folder: they are its dependencies, not ours. */
function fromFastify<T>(name: string): T {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve('fastify'))(name) as T;
}

let validator: Factories['buildValidator'] | undefined;
let serializer: Factories['buildSerializer'] | undefined;

export const lazySchemaCompilers: Factories = {
  buildValidator: (schemas, options) =>
    (validator ??= fromFastify<() => Factories['buildValidator']>('@fastify/ajv-compiler')())(schemas, options),
  buildSerializer: (schemas, options) =>
    (serializer ??= fromFastify<() => Factories['buildSerializer']>('@fastify/fast-json-stringify-compiler')())(schemas, options),
};

/**
 * Fastify's own schema compilers (Ajv and fast-json-stringify), loaded when a route first has a
 * schema. Fastify() loads them itself otherwise, which was about a third of the time a first
 * startEmulator() took (BENCHMARKS.md), and the emulator's routes take forms, not JSON schemas.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Factories = Required<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>>;

// Resolved from Fastify's own folder: they are its dependencies, not ours.
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
let validator: Factories['buildValidator'] | undefined;
let serializer: Factories['buildSerializer'] | undefined;

export const lazySchemaCompilers: Factories = {
  buildValidator: (schemas, options) => (validator ??= (fromFastify('@fastify/ajv-compiler') as () => Factories['buildValidator'])())(schemas, options),
  buildSerializer: (schemas, options) =>
    (serializer ??= (fromFastify('@fastify/fast-json-stringify-compiler') as () => Factories['buildSerializer'])())(schemas, options),
};

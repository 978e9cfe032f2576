import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

/** Requires as fastify does, so that its own compiler packages are found wherever npm put them. */
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * fastify's default schema compilers (Ajv for validation, fast-json-stringify for responses),
 * loaded when a route first needs one instead of at start-up. Our routes validate with zod and
 * declare no fastify schemas, so a server normally never loads them; loading them eagerly cost
 * about a tenth of the start-up time.
 */
export function lazySchemaCompilers(): CompilersFactory {
  // Each selector keeps its compilers cache, as fastify's own do: one per app.
  let validator: ((...args: unknown[]) => unknown) | undefined;
  let serializer: ((...args: unknown[]) => unknown) | undefined;
  return {
    buildValidator: (...args: unknown[]) => {
      validator ??= requireFromFastify('@fastify/ajv-compiler')();
      return validator!(...args);
    },
    buildSerializer: (...args: unknown[]) => {
      serializer ??= requireFromFastify('@fastify/fast-json-stringify-compiler')();
      return serializer!(...args);
    },
  } as CompilersFactory;
}

import type { FastifyInstance } from 'fastify';
import { invalidValue } from './errors';
import { isStorableString } from './json-body';

const values = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/** The first path parameter or query parameter (name or value) Postgres could not store. */
export function findUrlDefect(params: unknown, query: unknown): string | null {
  for (const source of [params, query]) {
    if (!source || typeof source !== 'object') continue;
    for (const [name, value] of Object.entries(source)) {
      if (!isStorableString(name)) return name;
      for (const v of values(value)) if (typeof v === 'string' && !isStorableString(v)) return name;
    }
  }
  return null;
}

/**
 * Refuses a NUL (or a lone surrogate) in a path or query parameter with a 400 naming it, before
 * any guard or handler: such a string would otherwise reach a Postgres query and fail there.
 */
export function refuseUnstorableUrlInput(fastify: FastifyInstance) {
  fastify.addHook('preValidation', (req, _reply, done) => {
    const param = findUrlDefect(req.params, req.query);
    if (param === null) return done();
    done(invalidValue(param || null, `Invalid value for '${param}': it must not contain NUL characters or unpaired UTF-16 surrogates.`));
  });
}

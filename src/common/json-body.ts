import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { DomainError, invalidValue } from './errors';

declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

/** Deepest nesting of objects and arrays a JSON body may have (the body itself is level 1). */
export const MAX_JSON_DEPTH = 64;

interface Frame {
  value: unknown;
  parent: Frame | null;
  key: string | number;
  depth: number;
}

/** `input[0].content[0].text`: the notation validation errors use. */
function pathOf(frame: Frame | null): string {
  const parts: Array<string | number> = [];
  for (let f = frame; f && f.parent; f = f.parent) parts.push(f.key);
  let path = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i];
    path = typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${part}` : part;
  }
  return path;
}

/** Postgres refuses NUL in text and jsonb, and a lone surrogate is not valid UTF-8. */
export const isStorableString = (s: string): boolean => s.indexOf('\u0000') === -1 && s.isWellFormed();

const badString = (param: string) =>
  invalidValue(param || null, `Invalid value for '${param || 'body'}': strings must not contain NUL characters or unpaired UTF-16 surrogates.`);

const badKey = (param: string) =>
  invalidValue(param || null, `Invalid field name '${param}': names must not contain NUL characters or unpaired UTF-16 surrogates.`);

const tooDeep = (param: string) =>
  invalidValue(param || null, `The JSON body is nested too deeply at '${param || 'body'}': at most ${MAX_JSON_DEPTH} levels of objects and arrays.`);

/**
 * The first defect of a parsed JSON body, in document order: a string (value or field name)
 * Postgres cannot store, or nesting deeper than `maxDepth`. One iterative walk (no recursion, so
 * no stack overflow whatever the depth); the path is only built for the defect.
 */
export function findJsonDefect(root: unknown, maxDepth = MAX_JSON_DEPTH): DomainError | null {
  const stack: Frame[] = [{ value: root, parent: null, key: '', depth: 1 }];
  while (stack.length) {
    const frame = stack.pop()!;
    const { value, depth } = frame;
    if (typeof frame.key === 'string' && frame.parent && !isStorableString(frame.key)) return badKey(pathOf(frame));
    if (typeof value === 'string') {
      if (!isStorableString(value)) return badString(pathOf(frame));
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return tooDeep(pathOf(frame));
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], parent: frame, key: i, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      stack.push({ value: (value as Record<string, unknown>)[keys[i]], parent: frame, key: keys[i], depth: depth + 1 });
    }
  }
  return null;
}

/**
 * Fastify's own JSON parser (prototype-poisoning checks included; any parse failure, a RangeError
 * included, is its 400), then `findJsonDefect`: a refused body never reaches a guard or handler.
 */
export function safeJsonBodyParser(fastify: FastifyInstance): FastifyBodyParser<Buffer> {
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
  const parse = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
  return (req, body, done) => {
    let completed = false;
    // Typed for a string, it parses a Buffer as well (as Nest's own default parser passes it).
    void parse(req, body as unknown as string, (err, value) => {
      // Fastify's parser calls back inside its try: never let it call twice.
      if (completed) return;
      completed = true;
      if (err) return done(err, undefined);
      const defect = findJsonDefect(value);
      if (defect) return done(defect, undefined);
      done(null, value);
    });
  };
}

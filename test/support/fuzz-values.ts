import fc from 'fast-check';

/** Strings chosen to break things: NUL, lone surrogates, formulas, injections, odd unicode. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '=HYPERLINK("http://evil")',
  '+1',
  '-1',
  '@SUM(A1)',
  "'; DROP TABLE tenants; --",
  '../../etc/passwd',
  '%00',
  '%zz',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'NaN',
  '1e309',
  '-0',
  '0x10',
  '９９',
  '\u202Eevil',
  '\u2028\u2029',
  'Z\u0351\u0352\u0353\u0354a\u0355\u0356l\u0357g\u0358o',
  '👩‍👩‍👧‍👦'.repeat(50),
  '\uFEFF',
  '\r\n\t\u0007\u001b[31m',
  'sk-tg-' + 'A'.repeat(40),
  'x'.repeat(5_000),
  'long '.repeat(4_000),
];

/** Text a valid request may carry: ordinary, odd unicode, formula-like, long; never NUL or a lone surrogate. */
export const benignText = fc.oneof(
  { weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\u0000')) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.filter((s) => /\S/.test(s) && s.isWellFormed() && !s.includes('\u0000'))) },
);

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Any text: benign, 16-bit garbage (lone surrogates), or one of the hostile strings. */
export const text = fc.oneof(
  { weight: 4, arbitrary: benignText },
  { weight: 1, arbitrary: fc.string({ unit: codeUnit, maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
);

/** Numbers JSON can carry that validators tend to forget. */
export const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 0.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 1e-320, 4294967296, 2147483648),
);

/** A container nested `depth` levels deep (built iteratively; JSON.stringify copes up to a few thousand). */
export function nested(depth: number, leaf: unknown = 1, array = false): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
}

/** Anything that is not what a field expects. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: text },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 2_000 }).chain((d) => fc.boolean().map((arr) => nested(d, 'x', arr))) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(text, text, { maxKeys: 4 }) },
  // Decimal strings the money fields must refuse (or take exactly).
  {
    weight: 1,
    arbitrary: fc.constantFrom('0', '0.00', '-1', '-0', '1e3', '1.', '.5', '00001', '9'.repeat(20), '9'.repeat(21), '1.' + '0'.repeat(18) + '1', '0.000000000000000001', ' 1', '１'),
  },
);

/** Sets a field as an own property, even one named `__proto__`. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A valid-shaped object, left alone `cleanWeight` times in `cleanWeight + 3`; otherwise one to
 * three of its fields (or unknown ones) replaced by hostile values.
 */
export function mutated<T extends object>(valid: fc.Arbitrary<T>, fieldNames: string[], cleanWeight = 2): fc.Arbitrary<Record<string, unknown>> {
  const name: fc.Arbitrary<string> = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...fieldNames) }, { weight: 1, arbitrary: text });
  return fc
    .tuple(valid, fc.oneof({ weight: cleanWeight, arbitrary: fc.constant([] as Array<[string, unknown]>) }, { weight: 3, arbitrary: fc.array(fc.tuple(name, hostile) as fc.Arbitrary<[string, unknown]>, { minLength: 1, maxLength: 3 }) }))
    .map(([body, changes]) => {
      const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
      for (const [key, value] of changes) setOwn(out, key, value);
      return out;
    });
}

/** Decimal strings the money fields accept. */
export const validAmount = fc.tuple(fc.nat(1_000), fc.nat(999_999)).map(([a, b]) => `${a}.${String(b).padStart(6, '0')}`);

/** ISO times, and near-misses. */
export const timeString = fc.oneof(
  { weight: 4, arbitrary: fc.date({ min: new Date('1960-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom('2025-02-30T00:00:00Z', '2025-13-01', 'yesterday', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '2025-01-01T25:00:00Z', '1700000000') },
);

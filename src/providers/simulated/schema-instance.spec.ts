import fc from 'fast-check';
import { conforms } from '../json-schema';
import { schemaInstance } from './schema-instance';

const valid = (schema: Record<string, unknown>, text = 'Paris') => {
  const value = schemaInstance(schema, text);
  expect(conforms(schema, value)).toBe(true);
  return value;
};

describe('schemaInstance', () => {
  it('fills required properties only, enums with their first value, strings from the prompt', () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, note: { type: 'string' } },
      required: ['city', 'unit'],
    };
    expect(valid(schema)).toEqual({ city: 'Paris', unit: 'celsius' });
  });

  it.each([
    [{ type: 'integer', minimum: 5, maximum: 9 }, 5],
    [{ type: 'integer', maximum: -3 }, -3],
    [{ type: 'number', exclusiveMinimum: 1, exclusiveMaximum: 2 }, 1.5],
    [{ type: 'integer', minimum: 7, multipleOf: 5 }, 10],
    [{ type: 'string', minLength: 8 }, 'Parisxxx'],
    [{ type: 'string', maxLength: 3 }, 'Par'],
    [{ type: 'string', format: 'date-time' }, '2026-01-01T00:00:00Z'],
    [{ type: 'boolean' }, true],
    [{ type: ['null', 'string'] }, 'Paris'],
    [{ const: 42 }, 42],
    [{ type: 'array', items: { type: 'string' }, minItems: 2, uniqueItems: true }, ['Paris', 'Paris 2']],
  ])('%p gives %p', (schema, expected) => {
    expect(valid(schema as Record<string, unknown>)).toEqual(expected);
  });

  it('follows $refs, anyOf, allOf and nested objects (as zod and pydantic emit them)', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        steps: { type: 'array', items: { $ref: '#/$defs/step' } },
        answer: { anyOf: [{ type: 'null' }, { type: 'string' }] },
        meta: { allOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { properties: { b: { type: 'boolean' } }, required: ['b'] }] },
      },
      required: ['steps', 'answer', 'meta'],
      additionalProperties: false,
      $defs: { step: { type: 'object', properties: { explanation: { type: 'string' }, output: { type: 'string' } }, required: ['explanation', 'output'], additionalProperties: false } },
    };
    expect(valid(schema)).toEqual({ steps: [{ explanation: 'Paris', output: 'Paris' }], answer: 'Paris', meta: { a: 1, b: true } });
  });

  it('is valid for any object of typed, required properties (property test)', () => {
    const leaf = fc.oneof(
      fc.record({ type: fc.constant('string'), minLength: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ type: fc.constant('integer'), minimum: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ type: fc.constant('number'), maximum: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ enum: fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 4 }) }),
      fc.constant({ type: 'boolean' }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), leaf, { minKeys: 1, maxKeys: 6 }), fc.string(), (properties, text) => {
        const schema = { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
        return conforms(schema, schemaInstance(schema, text));
      }),
    );
  });
});

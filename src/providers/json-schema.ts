import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * JSON Schema checks for tool parameters and structured output (ajv). Schemas that declare the
 * 2020-12 dialect get the 2020 validator, every other one draft-07 (what most SDKs emit).
 */
const options = { strict: false, allErrors: false, validateFormats: true } as const;
const draft07 = addFormats(new Ajv(options));
const draft2020 = addFormats(new Ajv2020(options));

const compiled = new Map<string, ValidateFunction>();
const MAX_CACHED = 256;

/** The validator of `schema`; throws (with ajv's message) when the schema itself is invalid. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    const { $schema, ...rest } = schema;
    const ajv = typeof $schema === 'string' && $schema.includes('2020-12') ? draft2020 : draft07;
    validate = ajv.compile(rest);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
  }
  return validate;
}

/** Why `schema` is not a usable JSON Schema, or null when it is. */
export function schemaProblem(schema: Record<string, unknown>): string | null {
  try {
    compileSchema(schema);
    return null;
  } catch (err) {
    return (err as Error).message.slice(0, 300);
  }
}

/** True when `value` is valid against `schema`. */
export const conforms = (schema: Record<string, unknown>, value: unknown): boolean => compileSchema(schema)(value) === true;

/**
 * A small deterministic value for a JSON Schema, for the simulated model's tool arguments and
 * structured output: required properties only, the first enum / const value, numbers at the low
 * end of their range, one array item, strings taken from the prompt (`text`) and fitted to their
 * length limits. The caller checks the result with a validator: schemas this cannot satisfy
 * (patterns, contradictory constraints) are refused there.
 */
type Schema = Record<string, unknown>;

const MAX_DEPTH = 12;

const FORMAT_EXAMPLES: Record<string, string> = {
  'date-time': '2026-01-01T00:00:00Z',
  date: '2026-01-01',
  time: '00:00:00Z',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  'uri-reference': 'https://example.com/',
  iri: 'https://example.com/',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '127.0.0.1',
  ipv6: '::1',
  uuid: '00000000-0000-4000-8000-000000000000',
  duration: 'P1D',
  regex: '.*',
};

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

export function schemaInstance(schema: unknown, text: string): unknown {
  const root = isSchema(schema) ? schema : {};
  return new InstanceBuilder(root, text || 'value').build(root, 0, '');
}

class InstanceBuilder {
  constructor(
    private readonly root: Schema,
    private readonly text: string,
  ) {}

  build(schema: unknown, depth: number, suffix: string): unknown {
    if (schema === true || schema === undefined) return this.fitString({}, suffix);
    if (!isSchema(schema)) return null;
    if (depth > MAX_DEPTH) return null;
    if (typeof schema.$ref === 'string') return this.build(this.resolve(schema.$ref), depth + 1, suffix);
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
    if (Array.isArray(schema.allOf) && schema.allOf.length) return this.build(mergeAll(schema, schema.allOf.map((s) => this.deref(s))), depth + 1, suffix);
    const options = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
    if (Array.isArray(options) && options.length) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      const choice = options.map((s) => this.deref(s)).find((s) => typeOf(s) !== 'null') ?? options[0];
      return this.build(mergeAll(rest, [this.deref(choice)]), depth + 1, suffix);
    }
    switch (typeOf(schema)) {
      case 'null':
        return null;
      case 'boolean':
        return true;
      case 'integer':
        return numberIn(schema, true);
      case 'number':
        return numberIn(schema, false);
      case 'array':
        return this.array(schema, depth);
      case 'object':
        return this.object(schema, depth);
      default:
        return this.fitString(schema, suffix);
    }
  }

  private object(schema: Schema, depth: number): Record<string, unknown> {
    const properties = isSchema(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : [];
    const keys = [...required];
    const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
    for (const key of Object.keys(properties)) {
      if (keys.length >= minProperties) break;
      if (!keys.includes(key)) keys.push(key);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = this.build(properties[key] ?? {}, depth + 1, '');
    return out;
  }

  private array(schema: Schema, depth: number): unknown[] {
    const tuple = (Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : []) as unknown[];
    const rest = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity;
    const count = Math.min(Math.max(min, tuple.length, 1), max, tuple.length + (rest === false ? 0 : Infinity));
    return Array.from({ length: count }, (_, i) => this.build(i < tuple.length ? tuple[i] : (rest ?? {}), depth + 1, i > 0 ? ` ${i + 1}` : ''));
  }

  private fitString(schema: Schema, suffix: string): string {
    if (typeof schema.format === 'string' && FORMAT_EXAMPLES[schema.format]) return FORMAT_EXAMPLES[schema.format];
    let value = this.text + suffix;
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
    while ([...value].length < min) value += 'x';
    if ([...value].length > max) value = [...value].slice(0, max).join('');
    return value;
  }

  private deref(schema: unknown): unknown {
    let current = schema;
    for (let i = 0; i < MAX_DEPTH && isSchema(current) && typeof current.$ref === 'string'; i++) current = this.resolve(current.$ref);
    return current;
  }

  /** A local reference (`#/$defs/x`, `#/definitions/x`, `#`); anything else resolves to {}. */
  private resolve(ref: string): unknown {
    if (!ref.startsWith('#')) return {};
    let node: unknown = this.root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = isSchema(node) ? node[key] : undefined;
    }
    return node ?? {};
  }
}

function typeOf(schema: unknown): string {
  if (!isSchema(schema)) return 'string';
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type;
  if (typeof type === 'string') return type;
  if (isSchema(schema.properties) || Array.isArray(schema.required)) return 'object';
  if (schema.items !== undefined || Array.isArray(schema.prefixItems)) return 'array';
  if (typeof schema.minimum === 'number' || typeof schema.maximum === 'number') return 'number';
  return 'string';
}

/** The smallest value >= 1 the range allows (or its low end), on the multipleOf grid. */
function numberIn(schema: Schema, integer: boolean): number {
  const num = (k: string) => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
  const step = num('multipleOf') ?? (integer ? 1 : undefined);
  const exclusiveMin = num('exclusiveMinimum') ?? (schema.exclusiveMinimum === true ? num('minimum') : undefined);
  const exclusiveMax = num('exclusiveMaximum') ?? (schema.exclusiveMaximum === true ? num('maximum') : undefined);
  const min = schema.exclusiveMinimum === true ? undefined : num('minimum');
  const max = schema.exclusiveMaximum === true ? undefined : num('maximum');
  const low = min ?? exclusiveMin;
  const high = max ?? exclusiveMax;
  let value = 1;
  if (low !== undefined && value < low) value = low;
  if (high !== undefined && value > high) value = low ?? high;
  if (exclusiveMin !== undefined && value <= exclusiveMin) value = high !== undefined ? (exclusiveMin + high) / 2 : exclusiveMin + 1;
  if (exclusiveMax !== undefined && value >= exclusiveMax) value = low !== undefined ? (low + exclusiveMax) / 2 : exclusiveMax - 1;
  if (step) value = Math.ceil(value / step) * step;
  return integer ? Math.round(value) : value;
}

/** One schema with the keywords of all `parts` (properties and required lists united). */
function mergeAll(base: Schema, parts: unknown[]): Schema {
  const merged: Schema = { ...base };
  delete merged.allOf;
  for (const part of parts) {
    if (!isSchema(part)) continue;
    for (const [key, value] of Object.entries(part)) {
      if (key === 'properties' && isSchema(value)) merged.properties = { ...(isSchema(merged.properties) ? merged.properties : {}), ...value };
      else if (key === 'required' && Array.isArray(value)) merged.required = [...new Set([...((merged.required as string[]) ?? []), ...value])];
      else if (!(key in merged)) merged[key] = value;
    }
  }
  return merged;
}

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Validates what Tollgate sends against OpenAI's published OpenAPI document
 * (test/fixtures/openai-openapi.yaml). Component schemas are read as JSON Schema 2020-12 after
 * three OpenAPI 3.0 leftovers are translated: `nullable: true` means "or null", a boolean
 * `exclusiveMinimum`/`exclusiveMaximum` qualifies `minimum`/`maximum`, and a `discriminator` over
 * `type` picks the one branch of a oneOf/anyOf whose `type` matches (so an error names the real
 * problem instead of every branch that did not match).
 *
 * Vendor extras: Tollgate adds fields OpenAI does not define. The schemas Tollgate answers with
 * allow additional properties, so they pass as they are; these names are also removed before
 * validating, so a schema that forbids additional properties does not fail on them:
 * - `caching`, `thinking`, `expire_at`: BytePlus/Seed request settings echoed on the response
 * - `reasoning_content`: reasoning text in chat messages and deltas, as the Seed models send it
 * - `cost`, `cost_details`: the charge (the cost receipt) reported beside the usage
 */
export const VENDOR_EXTRAS = ['caching', 'thinking', 'expire_at', 'reasoning_content', 'cost', 'cost_details'] as const;

const FIXTURE = join(__dirname, '../fixtures/openai-openapi.yaml');
const DOC_ID = 'https://openai.test/openapi.json';

type Json = any;
let schemas: Record<string, Json> | null = null;
let ajv: Ajv2020 | null = null;
const validators = new Map<string, ValidateFunction>();
let streamEventTypes: Map<string, string> | null = null;

/** The component schemas, parsed once per process (and the parse kept on disk: YAML of 3 MB takes seconds). */
function componentSchemas(): Record<string, Json> {
  if (schemas) return schemas;
  const text = readFileSync(FIXTURE, 'utf8');
  const cacheFile = join(tmpdir(), `tollgate-openapi-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  let doc: Json;
  if (existsSync(cacheFile)) doc = JSON.parse(readFileSync(cacheFile, 'utf8'));
  else {
    doc = parse(text);
    writeFileSync(cacheFile, JSON.stringify(doc));
  }
  const raw = doc.components.schemas as Record<string, Json>;
  const translated: Record<string, Json> = translate(raw, raw);
  schemas = translated;
  return translated;
}

const refName = (ref: string) => ref.replace('#/components/schemas/', '');

/** The values a branch allows for `prop` (following $ref and allOf), or null when it does not say. */
function discriminatorValues(branch: Json, prop: string, all: Record<string, Json>, depth = 0): string[] | null {
  if (!branch || typeof branch !== 'object' || depth > 8) return null;
  if (branch.$ref) return discriminatorValues(all[refName(branch.$ref)], prop, all, depth + 1);
  const p = branch.properties?.[prop];
  if (p?.const !== undefined) return [p.const];
  if (Array.isArray(p?.enum)) return p.enum;
  for (const part of branch.allOf ?? []) {
    const found = discriminatorValues(part, prop, all, depth + 1);
    if (found) return found;
  }
  return null;
}

/** oneOf/anyOf + discriminator -> "the discriminator must be one of these, then that branch". */
function byDiscriminator(node: Json, all: Record<string, Json>): Json {
  const prop: string = node.discriminator.propertyName;
  const branches: Json[] = node.oneOf ?? node.anyOf;
  const byValue = new Map<string, Json[]>();
  for (const branch of branches) {
    const values = discriminatorValues(branch, prop, all);
    if (!values) return null;
    for (const v of values) byValue.set(v, [...(byValue.get(v) ?? []), branch]);
  }
  const { oneOf: _o, anyOf: _a, discriminator: _d, ...rest } = node;
  return {
    ...rest,
    type: 'object',
    required: [prop],
    properties: { [prop]: { enum: [...byValue.keys()] } },
    allOf: [...byValue].map(([value, matching]) => ({
      if: { properties: { [prop]: { const: value } } },
      then: matching.length === 1 ? matching[0] : { anyOf: matching },
    })),
  };
}

function translate(node: Json, all: Record<string, Json>): Json {
  if (Array.isArray(node)) return node.map((n) => translate(n, all));
  if (!node || typeof node !== 'object') return node;
  let out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' || k === '$defs' ? mapValues(v as Json, all) : translate(v, all);
  for (const bound of ['Minimum', 'Maximum'] as const) {
    const key = `exclusive${bound}`;
    if (typeof out[key] === 'boolean') {
      const limit = bound.toLowerCase();
      if (out[key] && out[limit] !== undefined) {
        out[key] = out[limit];
        delete out[limit];
      } else delete out[key];
    }
  }
  if (out.discriminator && (out.oneOf || out.anyOf)) out = byDiscriminator(out, all) ?? out;
  delete out.discriminator;
  if (out.nullable === true) {
    const { nullable: _n, ...rest } = out;
    return { anyOf: [rest, { type: 'null' }] };
  }
  delete out.nullable;
  return out;
}

function mapValues(obj: Record<string, Json>, all: Record<string, Json>) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, translate(v, all)]));
}

function validator(schemaName: string): ValidateFunction {
  const found = validators.get(schemaName);
  if (found) return found;
  const all = componentSchemas();
  if (!all[schemaName]) throw new Error(`No component schema '${schemaName}' in the OpenAPI document.`);
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, unicodeRegExp: false });
    addFormats(ajv);
    // OpenAPI's own formats: descriptive only.
    for (const f of ['unixtime', 'double', 'float', 'int64', 'int32', 'binary', 'png', '']) ajv.addFormat(f, true);
    ajv.addSchema({ $id: DOC_ID, components: { schemas: all } });
  }
  const validate = ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${schemaName}` });
  validators.set(schemaName, validate);
  return validate;
}

/** A copy without the vendor extras (metadata keys are the tenant's own and stay). */
export function withoutVendorExtras(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutVendorExtras(v));
  if (!value || typeof value !== 'object' || parentKey === 'metadata') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!(VENDOR_EXTRAS as readonly string[]).includes(k)) out[k] = withoutVendorExtras(v, k);
  }
  return out;
}

const describe = (errors: ErrorObject[]) =>
  errors
    .filter((e) => e.keyword !== 'if')
    .slice(0, 12)
    .map((e) => `  ${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join('\n');

/** The violations of `value` against the named component schema (empty when it conforms). */
export function violations(schemaName: string, value: unknown): string {
  const validate = validator(schemaName);
  return validate(withoutVendorExtras(value)) ? '' : describe(validate.errors ?? []);
}

/** Throws, naming every violation, unless `value` conforms to the named component schema. */
export function expectConforms(schemaName: string, value: unknown): void {
  const found = violations(schemaName, value);
  if (found) throw new Error(`Not a conformant ${schemaName}:\n${found}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`);
}

/** The ResponseStreamEvent branch for each event `type`. */
function streamEventSchemas(): Map<string, string> {
  if (streamEventTypes) return streamEventTypes;
  const raw = componentSchemas().ResponseStreamEvent;
  // translate() turned the discriminated anyOf into if/then pairs.
  streamEventTypes = new Map(
    (raw.allOf as Json[]).map((clause) => {
      const branches: Json[] = clause.then.anyOf ?? [clause.then];
      return [clause.if.properties.type.const as string, branches.map((b) => refName(b.$ref as string)).join(' | ')];
    }),
  );
  return streamEventTypes;
}

/** The schema a Responses stream event of this type must conform to (undefined: no such event). */
export const streamEventSchema = (type: string) => streamEventSchemas().get(type);

/**
 * Validates a whole stream as parsed by parseSse: Responses events each against their
 * ResponseStreamEvent branch (with `event:` equal to `type`, and `sequence_number` counting from 0),
 * chat chunks against CreateChatCompletionStreamResponse, an error object against ErrorResponse,
 * and `[DONE]` only last.
 */
export function expectStreamConforms(events: Array<{ event?: string; data: unknown }>): void {
  const problems: string[] = [];
  let sequence = 0;
  events.forEach(({ event, data }, i) => {
    const at = `event ${i}`;
    if (data === '[DONE]') {
      if (i !== events.length - 1) problems.push(`${at}: [DONE] before the end of the stream`);
      return;
    }
    const d = data as Record<string, unknown>;
    if (!d || typeof d !== 'object') return problems.push(`${at}: not a JSON object: ${String(data)}`);
    let schema: string;
    let branch: string | undefined;
    if (d.object === 'chat.completion.chunk') schema = 'CreateChatCompletionStreamResponse';
    else if (d.type === undefined && d.error) schema = 'ErrorResponse';
    else {
      schema = 'ResponseStreamEvent';
      branch = streamEventSchema(String(d.type));
      if (!branch) return problems.push(`${at}: '${String(d.type)}' is not a ResponseStreamEvent type`);
      if (event !== undefined && event !== 'message' && event !== d.type) problems.push(`${at}: SSE event '${event}' but type '${String(d.type)}'`);
      if (d.sequence_number !== sequence) problems.push(`${at}: sequence_number ${String(d.sequence_number)}, expected ${sequence}`);
      sequence++;
    }
    const found = violations(schema, d);
    if (found) problems.push(`${at} (${String(d.type ?? d.object ?? 'error')}) is not a conformant ${branch ?? schema}:\n${found}`);
  });
  if (problems.length) throw new Error(`Stream does not conform to the OpenAPI document:\n${problems.join('\n')}`);
}

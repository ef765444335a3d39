import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Client } from 'pg';
import { benignText, mutated, text, timeString, validAmount } from './support/fuzz-values';
import { ensureSeedModel, http, HttpResult, SEED_MODEL, startApp, TestApp } from './support/harness';
import { expectMoneyInvariants } from './support/invariants';
import { openDb } from './support/db';

/**
 * Property-based fuzzing of the public surface against the real app: generated bodies (valid
 * shapes mixed with hostile values) must never get a 5xx, every error must have the OpenAI shape,
 * and afterwards the money must still add up. FUZZ_SEED and FUZZ_RUNS (cases per property)
 * override the defaults; the seed is printed so a failure can be replayed. FUZZ_LOG=<file> appends
 * every call and its answer there.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

jest.setTimeout(120_000);

let t: TestApp;
let db: Client;
const keys: string[] = [];
const knownResponseIds: string[] = [];
const knownTenantIds: string[] = [];
const knownInvoiceIds: string[] = [];
/** Answers by route and status, printed at the end: a fuzzer that only ever gets 400s tests little. */
const tally: Record<string, Record<number, number>> = {};
const routeOf = (method: string, path: string) => `${method} ${path.split('?')[0].replace(/\/(@known-[a-z]+:\d+|[^/]{40,})/g, '/:id')}`;

beforeAll(async () => {
  process.stdout.write(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}\n`);
  t = await startApp();
  await ensureSeedModel(t);
  for (let i = 0; i < 3; i++) {
    const tenant = await t.tenant('5');
    keys.push(tenant.key);
    knownTenantIds.push(tenant.tenantId);
  }
  db = await openDb();
});

afterAll(async () => {
  process.stdout.write(`fuzz answers by route and status:\n${JSON.stringify(tally, null, 1)}\n`);
  await db?.end();
  await t?.close();
});

interface Call {
  method: string;
  path: string;
  /** A JSON value to send, or raw text (`raw`) when the point is malformed JSON. */
  body?: unknown;
  raw?: string;
  /** Index into the fuzz tenants' keys; -1 for none, -2 for a wrong one; undefined for the admin token. */
  key?: number;
}

/** `@known-<kind>:<n>` markers become real ids (responses, tenants, invoices) seen so far. */
const KNOWN = /(?:@|%40)known-(response|tenant|invoice)(?::|%3A)(\d+)/g;
const resolveKnown = (text: string): string =>
  text.replace(KNOWN, (marker, kind: string, n: string) => {
    const pool = kind === 'response' ? knownResponseIds : kind === 'tenant' ? knownTenantIds : knownInvoiceIds;
    return pool.length ? pool[Number(n) % pool.length] : marker;
  });
/** The value once in `every` cases, else null. */
const sometimes = <T>(value: fc.Arbitrary<T>, every: number) => fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: value });

const known = (kind: 'response' | 'tenant' | 'invoice') => fc.nat(1_000).map((n) => `@known-${kind}:${n}`);
/** Percent-encoded; a lone surrogate (which encodeURIComponent refuses) as U+FFFD, as a browser sends it. */
const encodeSegment = (s: string) => encodeURIComponent(s.slice(0, 300).replace(/[\ud800-\udfff]/g, (c, i, all) => (isPairedSurrogate(all, i) ? c : '\ufffd')));
const isPairedSurrogate = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c < 0xdc00 ? (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 : i > 0 && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800;
};
/** A path segment: a real id, anything (percent-encoded), or a raw oddity. */
const idSegment = (kind: 'response' | 'tenant' | 'invoice') =>
  fc.oneof(
    { weight: 6, arbitrary: known(kind) },
    { weight: 2, arbitrary: text.filter((s) => s.length > 0).map(encodeSegment) },
    { weight: 1, arbitrary: fc.constantFrom('%00', '%zz', '%', '..', '%2e%2e', '00000000-0000-0000-0000-000000000000', 'x'.repeat(600)) },
  );

function tokenFor(call: Call): string | undefined {
  if (call.key === undefined) return t.env.ADMIN_TOKEN;
  if (call.key === -1) return undefined;
  if (call.key === -2) return 'sk-tg-' + 'Z'.repeat(40);
  return keys[call.key % keys.length];
}

const describeCall = (call: Call, body: string | undefined, res: HttpResult) =>
  `${call.method} ${call.path.slice(0, 1_000)} -> ${res.status}\nrequest: ${(body ?? '').slice(0, 3_000)}\nanswer: ${res.text.slice(0, 1_000)}`;

/** Sends the call; fails on a 5xx, on an error without the OpenAI shape, or on a stream that failed server-side. */
async function send(call: Call): Promise<HttpResult> {
  const path = resolveKnown(call.path);
  const body = call.raw ?? (call.body !== undefined ? resolveKnown(JSON.stringify(call.body)) : undefined);
  const res = await http(t.baseUrl, call.method, path, {
    token: tokenFor(call),
    ...(body !== undefined && { rawBody: body, headers: { 'content-type': 'application/json' } }),
  });
  const detail = () => describeCall({ ...call, path }, body, res);
  if (process.env.FUZZ_LOG) appendFileSync(process.env.FUZZ_LOG, `${describeCall({ ...call, path }, body, res)}\n\n`);
  const route = (tally[routeOf(call.method, call.path)] ??= {});
  route[res.status] = (route[res.status] ?? 0) + 1;
  if (res.status >= 500) throw new Error(`5xx answer\n${detail()}`);
  if (res.status >= 400) {
    const error = res.body?.error;
    const shaped = error && typeof error.message === 'string' && typeof error.type === 'string' && 'param' in error && 'code' in error;
    if (!shaped) throw new Error(`error without the OpenAI shape\n${detail()}`);
  }
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream') && /"type":"server_error"|event: response\.failed/.test(res.text)) {
    throw new Error(`stream failed on the server side\n${detail()}`);
  }
  if (res.status < 300) remember(path, res.body);
  return res;
}

function remember(path: string, body: any) {
  if (!body || typeof body !== 'object') return;
  if (path === '/v1/responses' && typeof body.id === 'string') knownResponseIds.push(body.id);
  if (path === '/admin/tenants' && typeof body.id === 'string') knownTenantIds.push(body.id);
  if (path === '/admin/invoices' && typeof body.id === 'string') knownInvoiceIds.push(body.id);
}

const callerKey = fc.oneof({ weight: 12, arbitrary: fc.nat(2) }, { weight: 1, arbitrary: fc.constantFrom(-1, -2) });

/** Now and then the body is not the generated object but malformed or odd JSON text. */
const asRawSometimes = (body: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 12, arbitrary: body.map((b) => ({ body: b })) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        body.map((b) => ({ raw: (JSON.stringify(b) ?? '').slice(0, -1) })),
        fc.constantFrom('null', '[]', '"text"', '123', 'true', '{', '{"a":1,}', '\u0000', '{"model":"\\ud800"}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}').map((raw) => ({ raw })),
      ),
    },
  );

const role = fc.constantFrom('user', 'assistant', 'system', 'developer');
const opt = { requiredKeys: [] as never[] };
const textPart = (r: string) => fc.record({ type: fc.constant(r === 'assistant' ? 'output_text' : 'input_text'), text: benignText });
const messageItem = role.chain((r) =>
  mutated(fc.record({ type: fc.constant('message'), role: fc.constant(r), content: fc.oneof(benignText, fc.array(textPart(r), { minLength: 1, maxLength: 2 })) }), ['role', 'content', 'type'], 12),
);
const userTurn = fc.array(messageItem, { minLength: 1, maxLength: 3 }).map((items) => [...items, { role: 'user', content: 'and?' }]);

const responsesBody = mutated(
  fc.record(
    {
      model: fc.constant(SEED_MODEL),
      input: fc.oneof(benignText, userTurn),
      instructions: benignText,
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      top_p: fc.double({ min: 0, max: 1, noNaN: true }),
      max_output_tokens: fc.integer({ min: 1, max: 64 }),
      metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), benignText, { maxKeys: 4 }),
      store: fc.boolean(),
      stream: fc.boolean(),
      thinking: fc.record({ type: fc.constantFrom('enabled', 'disabled', 'auto') }),
      reasoning: fc.record({ effort: fc.constantFrom('none', 'minimal', 'low', 'high') }),
      user: benignText,
      truncation: fc.constantFrom('auto', 'disabled'),
    },
    { requiredKeys: ['model', 'input'] },
  ).chain((body) =>
    // Mostly a new conversation: a previous response of another tenant is (rightly) a 404.
    sometimes(known('response'), 6).map((previous) => (previous ? { ...body, previous_response_id: previous } : body)),
  ),
  ['model', 'input', 'messages', 'instructions', 'temperature', 'top_p', 'max_output_tokens', 'metadata', 'store', 'stream', 'previous_response_id', 'thinking', 'caching', 'reasoning', 'expire_at', 'extra_body', 'text', 'tools', 'include'],
);

const chatBody = mutated(
  fc.record(
    {
      model: fc.constant(SEED_MODEL),
      messages: fc.array(role.chain((r) => fc.record({ role: fc.constant(r), content: fc.oneof(benignText, fc.array(fc.record({ type: fc.constant('text'), text: benignText }), { minLength: 1, maxLength: 2 })) })), { minLength: 1, maxLength: 3 }).map((m) => [...m, { role: 'user', content: 'ok?' }]),
      max_tokens: fc.integer({ min: 1, max: 64 }),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      top_p: fc.double({ min: 0, max: 1, noNaN: true }),
      stream: fc.boolean(),
      stream_options: fc.record({ include_usage: fc.boolean() }),
      thinking: fc.record({ type: fc.constantFrom('enabled', 'disabled', 'auto') }),
    },
    { requiredKeys: ['model', 'messages'] },
  ),
  ['model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stream', 'stream_options', 'thinking', 'n', 'tools', 'response_format'],
);

const tenantCall = fc.oneof(
  asRawSometimes(mutated(fc.record({ name: benignText, credits: validAmount }, { requiredKeys: ['name'] }), ['name', 'credits'])).map((b) => ({
    method: 'POST',
    path: '/admin/tenants',
    ...b,
  })),
  fc
    .tuple(idSegment('tenant'), asRawSometimes(mutated(fc.record({ amount: validAmount, reference: benignText }, { requiredKeys: ['amount'] }), ['amount', 'reference'])))
    .map(([id, b]) => ({ method: 'POST', path: `/admin/tenants/${id}/credits`, ...b })),
  fc
    .tuple(
      idSegment('tenant'),
      asRawSometimes(
        mutated(fc.record({ name: benignText, rpm_limit: fc.integer({ min: 10_000, max: 1_000_000 }), tpm_limit: fc.integer({ min: 1_000_000, max: 1_000_000_000 }) }, opt), [
          'name',
          'rpm_limit',
          'tpm_limit',
        ]),
      ),
    )
    .map(([id, b]) => ({ method: 'POST', path: `/admin/tenants/${id}/api-keys`, ...b })),
  fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom('fuzz-model', 'fuzz/model:v1', 'Fuzz.2') }, { weight: 1, arbitrary: text.filter((s) => s.length > 0 && s !== SEED_MODEL) }),
      asRawSometimes(
        mutated(
          fc.record(
            {
              provider: fc.constant('simulated'),
              upstream_model: fc.constantFrom('x', null),
              input_price: validAmount,
              cached_input_price: validAmount,
              output_price: validAmount,
              effective_from: timeString,
            },
            { requiredKeys: ['provider', 'input_price', 'output_price'] },
          ),
          ['provider', 'upstream_model', 'input_price', 'cached_input_price', 'output_price', 'effective_from'],
        ),
      ),
    )
    .map(([model, b]) => ({ method: 'PUT', path: `/admin/models/${encodeSegment(model)}`, ...b })),
);

/** An ordered `from` < `to` pair of recent ISO times, either side sometimes left out. */
const timeRange = fc
  .tuple(fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }), fc.integer({ min: 1, max: 400 * 86_400_000 }))
  .map(([from, span]) => ({ from: from.toISOString(), to: new Date(from.getTime() + span).toISOString() }));

/**
 * A query string from a valid-shaped parameter object, often mutated (hostile values, unknown
 * names), sometimes with an extra pair or a raw oddity appended.
 */
const queryString = <T extends object>(valid: fc.Arbitrary<T>, names: string[]) =>
  fc
    .tuple(
      mutated(valid, names),
      sometimes(fc.tuple(text, text), 4),
      sometimes(fc.constantFrom('%00', '%zz', '%', '&&', '=', 'a=1&a=2', 'group_by=model&group_by=day'), 6),
    )
    .map(([params, extra, raw]) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) q.append(k, typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
      if (extra) q.append(extra[0], extra[1]);
      const s = [q.toString(), raw].filter(Boolean).join('&');
      return s ? `?${s}` : '';
    });

/** Usage report parameters; the tenant's own report (/v1/usage) takes no `tenant_id`. */
const usageQuery = (withTenant: boolean) =>
  queryString(
    fc
      .tuple(
        fc.record(
          {
            ...(withTenant && { tenant_id: known('tenant') }),
            group_by: fc.constantFrom('model', 'day', 'api_key', 'tenant', 'model,day', 'day,tenant,api_key'),
            format: fc.constantFrom('json', 'csv'),
          },
          opt,
        ),
        fc.option(timeRange),
      )
      .map(([params, range]) => ({ ...params, ...range })),
    ['tenant_id', 'from', 'to', 'group_by', 'format'],
  );

const readCall = fc.oneof(
  usageQuery(true).map((q) => ({ method: 'GET', path: `/admin/usage${q}` })),
  fc.tuple(usageQuery(false), callerKey).map(([q, key]) => ({ method: 'GET', path: `/v1/usage${q}`, key })),
  asRawSometimes(
    mutated(
      fc.tuple(known('tenant'), timeRange).map(([tenant_id, range]) => ({ tenant_id, period_start: range.from, period_end: range.to })),
      ['tenant_id', 'period_start', 'period_end'],
    ),
  ).map((b) => ({ method: 'POST', path: '/admin/invoices', ...b })),
  fc.tuple(idSegment('invoice'), fc.constantFrom('', '/export?format=json', '/export?format=csv', '/export?format=pdf', '/export?format=docx', '/export')).map(([id, tail]) => ({
    method: 'GET',
    path: `/admin/invoices/${id}${tail}`,
  })),
  fc
    .tuple(idSegment('tenant'), queryString(fc.tuple(fc.record({ limit: fc.integer({ min: 1, max: 1_000 }).map(String) }, opt), fc.option(timeRange)).map(([p, r]) => ({ ...p, ...r })), ['from', 'to', 'limit', 'after']))
    .map(([id, q]) => ({ method: 'GET', path: `/admin/tenants/${id}/ledger${q}` })),
  queryString(fc.record({ limit: fc.integer({ min: 1, max: 1_000 }).map(String), action: fc.constantFrom('tenant.create', 'admin.auth_failed') }, opt), ['limit', 'action', 'after']).map((q) => ({
    method: 'GET',
    path: `/admin/audit${q}`,
  })),
  fc
    .tuple(idSegment('response'), fc.constantFrom('', '/input_items', '/input_items?limit=0', '/input_items?order=sideways', '/input_items?limit=100&order=desc'), callerKey)
    .map(([id, tail, key]) => ({ method: 'GET', path: `/v1/responses/${id}${tail}`, key })),
  fc.tuple(callerKey, fc.constantFrom('/v1/models', '/v1/balance')).map(([key, path]) => ({ method: 'GET', path, key })),
);

const property = (calls: fc.Arbitrary<Call>) =>
  fc.assert(
    fc.asyncProperty(calls, async (call) => {
      await send(call);
    }),
    // Shrinking re-sends many requests; the failure message already carries the whole body.
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );

describe(`fuzz (FUZZ_SEED=${SEED}, FUZZ_RUNS=${RUNS} per property)`, () => {
  it('POST /v1/responses never answers 5xx', async () => {
    await property(fc.tuple(asRawSometimes(responsesBody), callerKey).map(([b, key]) => ({ method: 'POST', path: '/v1/responses', key, ...b })));
  });

  it('POST /v1/chat/completions never answers 5xx', async () => {
    await property(fc.tuple(asRawSometimes(chatBody), callerKey).map(([b, key]) => ({ method: 'POST', path: '/v1/chat/completions', key, ...b })));
  });

  it('admin writes (tenants, credits, API keys, models) never answer 5xx', async () => {
    await property(tenantCall);
  });

  it('reads, reports and invoices never answer 5xx', async () => {
    await property(readCall);
  });

  it('the process is alive and the money adds up', async () => {
    expect((await http(t.baseUrl, 'GET', '/health')).status).toBe(200);
    // The generators must reach the model, not only the validators.
    for (const route of ['POST /v1/responses', 'POST /v1/chat/completions']) {
      expect(tally[route]?.[200] ?? 0).toBeGreaterThanOrEqual(RUNS / 20);
    }
    await expectMoneyInvariants(db, [...new Set(knownTenantIds)]);
  });
});

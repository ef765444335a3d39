import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import Decimal from 'decimal.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureSeedModel, SEED_MODEL, startApp, TestApp } from './harness';
import { ModelUpstream, ModelUpstreamOptions, startModelUpstream } from './model-upstream';
import { waitFor } from './wait';

/**
 * Shared set-up of the client-library suites: one app with the simulated model and a model routed
 * to a loopback upstream, so every client scenario runs on both.
 */

export const UPSTREAM_MODEL = 'clients-upstream-model';
const KEY_VAR = 'TOLLGATE_CLIENTS_UPSTREAM_KEY';

export interface Target {
  name: 'simulated' | 'upstream';
  model: string;
}

export const TARGETS: Target[] = [
  { name: 'simulated', model: SEED_MODEL },
  { name: 'upstream', model: UPSTREAM_MODEL },
];

export interface ClientsFixture {
  t: TestApp;
  upstream: ModelUpstream;
  db: Client;
  /** Base URL the client libraries are given: `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  /** A new tenant's API key and id. */
  tenant(): Promise<{ key: string; tenantId: string }>;
  /**
   * Waits until the tenant's usage is all charged; expects exactly `calls` usage events, each with
   * one negative ledger charge. Returns the charged amounts.
   */
  expectCharged(tenantId: string, calls: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startClientsFixture(upstreamOptions: Partial<ModelUpstreamOptions> = {}): Promise<ClientsFixture> {
  const unguardedFetch = globalThis.fetch;
  globalThis.fetch = loopbackOnly(unguardedFetch);
  const upstream = await startModelUpstream(upstreamOptions);
  process.env[KEY_VAR] = `upstream-secret-${Math.random().toString(36).slice(2)}`;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-clients-'));
  const file = join(dir, 'providers.json');
  writeFileSync(file, JSON.stringify({ model_upstream: { type: 'openai', base_url: upstream.url, api_key_env: KEY_VAR } }));
  const t = await startApp({ PROVIDERS_FILE: file, CHARGE_RELAY_AFTER_MS: '300', CHARGE_RELAY_EVERY_MS: '100' });
  await ensureSeedModel(t);
  const model = await t.admin('PUT', `/admin/models/${UPSTREAM_MODEL}`, {
    provider: 'model_upstream',
    upstream_model: 'vendor-model',
    input_price: '0.25',
    output_price: '2',
  });
  if (model.status !== 200) throw new Error(`register ${UPSTREAM_MODEL}: ${model.status} ${model.text}`);
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();

  return {
    t,
    upstream,
    db,
    baseURL: `${t.baseUrl}/v1`,
    async tenant() {
      const { key, tenantId } = await t.tenant('100');
      return { key, tenantId };
    },
    async expectCharged(tenantId, calls) {
      const rows = await waitFor(`${calls} charges of tenant ${tenantId}`, async () => {
        const { rows } = await db.query(
          `SELECT e.id, e.charged_at, l.amount::text AS amount
             FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id AND l.kind = 'charge'
            WHERE e.tenant_id = $1`,
          [tenantId],
        );
        return rows.length >= calls && rows.every((row) => row.charged_at && row.amount) ? rows : null;
      }, 15_000);
      expect(rows).toHaveLength(calls);
      for (const row of rows) expect(new Decimal(row.amount).isNegative()).toBe(true);
      return rows.map((row) => row.amount as string);
    },
    async close() {
      await db.end();
      await t.close();
      await upstream.close();
      delete process.env[KEY_VAR];
      rmSync(dir, { recursive: true, force: true });
      globalThis.fetch = unguardedFetch;
    },
  };
}

const draft07 = addFormats(new Ajv({ strict: false }));
const draft2020 = addFormats(new Ajv2020({ strict: false }));

/** Fails the test unless `value` (a JSON string or a value) is valid against the JSON schema. */
export function expectValidAgainst(schema: Record<string, unknown>, value: unknown): void {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  const { $schema, ...rest } = schema;
  const validate = (String($schema ?? '').includes('2020-12') ? draft2020 : draft07).compile(rest);
  if (!validate(parsed)) throw new Error(`${JSON.stringify(parsed)} is not valid: ${draft07.errorsText(validate.errors)}`);
}

/**
 * A `fetch` that records the JSON bodies a client library sends, to assert what it put on the
 * wire (loopback only).
 */
export function recordingFetch(): { fetch: typeof fetch; bodies: any[] } {
  const bodies: any[] = [];
  const send = loopbackOnly(fetch);
  const recording: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body));
    return send(input, init);
  };
  return { fetch: recording, bodies };
}

/** `fetch` refusing every address but loopback: a client library reaching out fails the test at once. */
function loopbackOnly(send: typeof fetch): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname !== '127.0.0.1') throw new Error(`a client library tried to reach ${url.origin}`);
    return send(input, init);
  };
}

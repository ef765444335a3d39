import type { Client } from 'pg';
import { http, SEED_MODEL } from './support/harness';
import { seedPrice } from './support/prices';
import { ensureBuilt, isolatedServices, Service, spawnService, stopService } from './support/processes';
import { waitFor } from './support/wait';
import { openDb } from './support/db';

const CHECKPOINT_MS = 200;

describe('API process killed (SIGKILL) mid-stream', () => {
  const services = isolatedServices('apicrash');
  const running: Service[] = [];
  let db: Client;

  const common = {
    DATABASE_URL: services.databaseUrl,
    QUEUE_PREFIX: services.queuePrefix,
    STREAM_CHECKPOINT_MS: String(CHECKPOINT_MS),
    REQUEST_LEASE_MS: '1500',
    CHARGE_RELAY_EVERY_MS: '200',
    CHARGE_RELAY_AFTER_MS: '500',
  };

  beforeAll(async () => {
    ensureBuilt();
    services.migrate();
    db = await openDb(services.databaseUrl);
    // $1 per 1M tokens in and out: a charge is (input + output) / 1e6.
    await seedPrice(services.databaseUrl, SEED_MODEL, { input_price: '1', output_price: '1', effective_from: '2020-01-01T00:00:00Z' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map(stopService));
    await db?.end();
    await services.drop();
  }, 60_000);

  it('charges the tokens already streamed, once, from the last checkpoint; the hold is released', async () => {
    const api = spawnService({ ...common, ROLE: 'api', SIMULATED_TOKENS_PER_SECOND: '40', SIMULATED_OUTPUT_TOKENS: '400' });
    const worker = spawnService({ ...common, ROLE: 'worker' });
    running.push(api, worker);
    const base = await api.url;
    const admin = (method: string, path: string, body?: unknown) => http(base, method, path, { token: process.env.ADMIN_TOKEN, body });
    const tenant = (await admin('POST', '/admin/tenants', { name: 'crash', credits: '1' })).body;
    const key = (await admin('POST', `/admin/tenants/${tenant.id}/api-keys`, {})).body.key;

    const res = await fetch(`${base}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: SEED_MODEL, input: 'tell me a long story', stream: true }),
    });
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    // About a second of output (40 tokens/s), so several checkpoints have recorded progress.
    while ((text.match(/response\.output_text\.delta/g) ?? []).length < 40) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended early: ${text.slice(-500)}`);
      text += decoder.decode(value, { stream: true });
    }
    api.child.kill('SIGKILL');
    expect(await api.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await reader.cancel().catch(() => undefined);
    const responseId = /"id":"(resp_[0-9a-f]+)"/.exec(text)![1];

    const event = await waitFor(
      'the interrupted request to be charged',
      async () => (await db.query(`SELECT *, state::text FROM usage_events WHERE response_id = $1 AND charged_at IS NOT NULL`, [responseId])).rows[0],
      20_000,
      100,
    );
    expect(event.state).toBe('interrupted');
    // What was streamed up to the last checkpoint before the kill (on a loaded machine that can
    // trail the client by a few intervals), never more than was produced.
    expect(event.output_tokens).toBeGreaterThanOrEqual(5);
    expect(event.output_tokens).toBeLessThan(400);
    expect(event.input_tokens).toBeGreaterThan(0);

    const entries = (await db.query(`SELECT trim_scale(amount)::text AS amount FROM ledger_entries WHERE usage_event_id = $1`, [event.id])).rows;
    const want = (event.input_tokens + event.output_tokens) / 1e6;
    expect(entries).toEqual([{ amount: `-${want.toFixed(6).replace(/0+$/, '')}` }]);
    const row = (await db.query('SELECT trim_scale(balance)::text AS balance, trim_scale(reserved)::text AS reserved FROM tenants WHERE id = $1', [tenant.id])).rows[0];
    expect(row).toEqual({ balance: (1 - want).toFixed(6).replace(/0+$/, ''), reserved: '0' });
    await stopService(worker);
  }, 60_000);
});

import 'reflect-metadata';
import { createApp } from './bootstrap';
import { assertServicesUp } from './common/preflight';
import { loadEnv } from './config/env';
import { adminClient, HISTORY_DAYS, writeDemoHistory } from './demo-history';
import { PrismaService } from './prisma/prisma.service';

/**
 * npm run demo: starts Tollgate, registers the simulated seed models with their prices, makes (or
 * reuses) a "demo" tenant with credits and a few days of usage history, and prints a fresh API key
 * and the dashboard's address.
 */
const DEMO_MODELS = [
  { model: 'seed-1-6-250915', input_price: '0.25', cached_input_price: '0.05', output_price: '2.00' },
  { model: 'seed-1-6-flash-250715', input_price: '0.075', cached_input_price: '0.015', output_price: '0.30' },
];
const DAY_MS = 86_400_000;

/**
 * The models, the tenant and (on its first run) the history, through an API-only instance: with no
 * worker running, the history's usage is back-dated before anything charges it.
 */
async function prepare(): Promise<{ tenantId: string; historyRequests: number }> {
  const env = loadEnv({ ...process.env, ROLE: 'api', PORT: '0' });
  const app = await createApp(env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const address = app.getHttpServer().address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const admin = adminClient(base, env.ADMIN_TOKEN!);
    const models = await admin('GET', '/admin/models');
    for (const { model, ...price } of DEMO_MODELS) {
      if (!models.data.some((m: any) => m.model === model && m.price)) await admin('PUT', `/admin/models/${model}`, { provider: 'simulated', ...price });
    }
    const tenants = await admin('GET', '/admin/tenants');
    const tenant = tenants.data.find((t: any) => t.name === 'demo') ?? (await admin('POST', '/admin/tenants', { name: 'demo', credits: '10.00' }));
    const today = Date.now() - (Date.now() % DAY_MS);
    const since = new Date(today - HISTORY_DAYS * DAY_MS).toISOString();
    const past = await admin('GET', `/admin/usage?tenant_id=${tenant.id}&from=${since}&to=${new Date(today).toISOString()}`);
    if (past.data[0].requests > 0) return { tenantId: tenant.id, historyRequests: 0 };
    const key = await admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 'demo history' });
    const made = await writeDemoHistory(base, key.key, DEMO_MODELS.map((m) => m.model), app.get(PrismaService));
    return { tenantId: tenant.id, historyRequests: made };
  } finally {
    await app.close();
  }
}

async function main() {
  const env = loadEnv();
  await assertServicesUp(env.DATABASE_URL, env.REDIS_URL);
  const { tenantId, historyRequests } = await prepare();
  const app = await createApp(env);
  await app.listen({ port: env.PORT, host: env.HOST });
  const base = `http://127.0.0.1:${env.PORT}`;
  const admin = adminClient(base, env.ADMIN_TOKEN!);
  const key = await admin('POST', `/admin/tenants/${tenantId}/api-keys`, { name: 'demo' });
  // The history's charge jobs were queued with no worker: this process's worker charges them now.
  for (let i = 0; i < 200; i++) {
    if ((await admin('GET', `/admin/usage?tenant_id=${tenantId}`)).data[0].uncharged_requests === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tenant = await admin('GET', `/admin/tenants/${tenantId}`);

  console.log(`
Tollgate demo is running on ${base}
  models     ${DEMO_MODELS.map((m) => m.model).join(', ')} (simulated)
  tenant     ${tenant.id} (balance ${tenant.balance} USD${historyRequests ? `; ${historyRequests} requests of history written` : ''})
  API key    ${key.key}
  admin      ${env.ADMIN_TOKEN}
  dashboard  ${base}/dashboard  (sign in with the admin token, or with the API key for the tenant's view)

Try it:
  curl ${base}/v1/responses -H "Authorization: Bearer ${key.key}" -H "Content-Type: application/json" \\
    -d '{"model": "${DEMO_MODELS[0].model}", "input": "Hello, Tollgate!"}'
`);
}

main().catch((err) => {
  console.error(`demo failed: ${err?.message ?? err}`);
  process.exit(1);
});

import 'reflect-metadata';
import { createApp } from './bootstrap';
import { assertServicesUp } from './common/preflight';
import { loadEnv } from './config/env';

/**
 * npm run demo: starts Tollgate, registers the simulated seed model with its prices, makes (or
 * reuses) a "demo" tenant with credits, and prints a fresh API key for it.
 */
const DEMO_MODEL = 'seed-1-6-250915';

async function main() {
  const env = loadEnv();
  await assertServicesUp(env.DATABASE_URL, env.REDIS_URL);
  const app = await createApp(env);
  await app.listen({ port: env.PORT, host: env.HOST });
  const base = `http://127.0.0.1:${env.PORT}`;
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const models = await admin('GET', '/admin/models');
  if (!models.data.some((m: any) => m.model === DEMO_MODEL && m.price)) {
    await admin('PUT', `/admin/models/${DEMO_MODEL}`, { provider: 'simulated', input_price: '0.25', cached_input_price: '0.05', output_price: '2.00' });
  }
  const tenants = await admin('GET', '/admin/tenants');
  const tenant = tenants.data.find((t: any) => t.name === 'demo') ?? (await admin('POST', '/admin/tenants', { name: 'demo', credits: '10.00' }));
  const key = await admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 'demo' });

  console.log(`
Tollgate demo is running on ${base}
  model      ${DEMO_MODEL} (simulated)
  tenant     ${tenant.id} (balance ${tenant.balance} USD)
  API key    ${key.key}
  admin      ${env.ADMIN_TOKEN}

Try it:
  curl ${base}/v1/responses -H "Authorization: Bearer ${key.key}" -H "Content-Type: application/json" \\
    -d '{"model": "${DEMO_MODEL}", "input": "Hello, Tollgate!"}'
`);
}

main().catch((err) => {
  console.error(`demo failed: ${err?.message ?? err}`);
  process.exit(1);
});

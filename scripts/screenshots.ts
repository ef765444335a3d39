// npm run screenshots: boots `npm run demo`'s program on a fresh database, adds two more tenants and
// an invoice, and writes PNGs of the dashboard's main views to docs/screenshots/.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/support/browser';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'docs/screenshots');
const PORT = Number(process.env.SCREENSHOTS_PORT ?? 3977);
const BASE = `http://127.0.0.1:${PORT}`;
const ADMIN_TOKEN = 'screenshots-admin-token-0000';
const base = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tollgate');
const DB_NAME = 'tollgate_screenshots';
const DATABASE_URL = Object.assign(new URL(base), { pathname: `/${DB_NAME}` }).toString();

async function recreateDatabase(drop: boolean) {
  const admin = new Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  if (!drop) await admin.query(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
}

/** Starts dist/demo.js and resolves with the API key it prints. */
function startDemo(): Promise<{ child: ChildProcess; apiKey: string }> {
  const env = { ...process.env, DATABASE_URL, PORT: String(PORT), HOST: '127.0.0.1', ADMIN_TOKEN, QUEUE_PREFIX: `screenshots-${process.pid}`, LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/demo.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const key = /API key\s+(sk-\S+)/.exec(out);
      if (key) resolve({ child, apiKey: key[1] });
    });
    child.on('exit', (code) => reject(new Error(`demo exited (${code}) before printing its key:\n${out}`)));
  });
}

async function admin(method: string, route: string, body?: unknown) {
  const res = await fetch(BASE + route, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

async function signIn(page: Page, token: string, route = '') {
  await page.goto(`${BASE}/dashboard${route}`);
  await page.getByLabel('Admin token or API key').fill(token);
  await page.keyboard.press('Enter');
}

async function shot(page: Page, name: string, ready: () => Promise<unknown>) {
  await ready();
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  console.log(`docs/screenshots/${name}.png`);
}

async function main() {
  await recreateDatabase(false);
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/migrate.mjs')], { env: { ...process.env, DATABASE_URL }, stdio: 'ignore' });
  const { child, apiKey } = await startDemo();
  const browser = await launchChromium();
  try {
    await admin('POST', '/admin/tenants', { name: 'acme-labs', credits: '250.000000000000000001' });
    const globex = await admin('POST', '/admin/tenants', { name: 'globex', credits: '0.5' });
    await admin('PATCH', `/admin/tenants/${globex.id}`, { status: 'suspended' });
    const demo = (await admin('GET', '/admin/tenants')).data.find((t: any) => t.name === 'demo');
    await admin('PATCH', `/admin/tenants/${demo.id}`, { credit_limit: '10', low_balance_threshold: '5' });
    for (const key of (await admin('GET', `/admin/tenants/${demo.id}/api-keys`)).data) {
      await admin('PATCH', `/admin/api-keys/${key.id}`, { budget_limit: '25', budget_period: 'month' });
    }
    const now = new Date();
    const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString();
    await admin('POST', '/admin/invoices', { tenant_id: demo.id, period_start: month(-1), period_end: month(0) });
    await admin('POST', '/admin/invoices', { tenant_id: demo.id, period_start: month(0), period_end: month(1) });

    mkdirSync(OUT, { recursive: true });
    const wide = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(wide, ADMIN_TOKEN);
    await shot(wide, 'overview', () => wide.getByText('Top models').waitFor());
    await wide.getByRole('link', { name: 'Tenants' }).click();
    await shot(wide, 'tenants', () => wide.locator('tr[data-tenant]').nth(2).waitFor());
    await wide.getByRole('link', { name: 'demo', exact: true }).click();
    await shot(wide, 'tenant-page', async () => {
      await wide.getByText('Cost per day by model (USD)').waitFor();
      await wide.locator('tr[data-invoice]', { hasText: 'ready' }).nth(1).waitFor();
    });
    await wide.getByRole('link', { name: 'Models' }).click();
    await shot(wide, 'models', () => wide.getByRole('cell', { name: 'seed-1-6-250915' }).waitFor());

    const narrow = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage();
    await signIn(narrow, apiKey);
    await shot(narrow, 'tenant-view', async () => {
      await narrow.getByText('Cost per day by model (USD)').waitFor();
      await narrow.locator('tr[data-invoice]').first().waitFor();
    });
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await recreateDatabase(true);
  }
}

main().catch((err) => {
  console.error(`screenshots failed: ${err?.message ?? err}`);
  process.exit(1);
});

import type { Browser, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { buildDashboard, launchChromium, watchedPage, WatchedPage } from './support/browser';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

type Tenant = { tenantId: string; key: string; keyId: string };

/** Pixels of the chart's canvas in the first series' stroke colour (#2563eb): a line was drawn. */
async function chartStrokePixels(page: Page): Promise<number> {
  const canvas = page.locator('[data-testid="usage-chart"] canvas').first();
  await canvas.waitFor();
  // The callback runs in the browser; this project's lib has no DOM types.
  return canvas.evaluate((el: any) => {
    const { data } = el.getContext('2d')!.getImageData(0, 0, el.width, el.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 200 && Math.abs(r - 37) < 40 && Math.abs(g - 99) < 40 && Math.abs(b - 235) < 40) n++;
    }
    return n;
  });
}

describe('dashboard in Chromium: admin and tenant views against the real app', () => {
  let t: TestApp;
  let browser: Browser;
  let rich: Tenant; // has usage, a charge history and an exact 18-digit balance
  let other: Tenant; // must never show in rich's own view
  const OTHER_CREDITS = '7.123456789012345678';
  let watched: WatchedPage;
  /** The one failed answer a test expects (the wrong-token login), else none. */
  let allowed: RegExp[] = [];

  beforeAll(async () => {
    buildDashboard();
    browser = await launchChromium();
    // The webhooks page's receiver is on loopback.
    t = await startApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '200' });
    await ensureSeedModel(t);
    rich = await t.tenant('12.345678901234567891');
    other = await t.tenant(OTHER_CREDITS);
    const client = t.openai(rich.key);
    for (const input of ['Hello, dashboard!', 'How much does a token cost?', 'Draw me a chart.']) {
      await client.responses.create({ model: SEED_MODEL, input });
    }
    await client.responses.create({ model: SEED_MODEL, input: 'and the other tenant' }).catch(() => undefined);
    await t.openai(other.key).responses.create({ model: SEED_MODEL, input: 'Other tenant request' });
    await waitFor('charges in the ledger', async () => {
      const [a, b] = await Promise.all([t.admin('GET', `/admin/tenants/${rich.tenantId}/ledger`), t.admin('GET', `/admin/tenants/${other.tenantId}/ledger`)]);
      return a.body.data.filter((e: any) => e.kind === 'charge').length === 4 && b.body.data.some((e: any) => e.kind === 'charge');
    });
  }, 60_000);

  let othersInvoice: string;
  beforeAll(async () => {
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1)).toISOString();
    const thisMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1)).toISOString();
    const period = { period_start: lastMonth, period_end: thisMonth };
    expect((await t.admin('POST', '/admin/invoices', { tenant_id: rich.tenantId, ...period })).status).toBe(202);
    othersInvoice = (await t.admin('POST', '/admin/invoices', { tenant_id: other.tenantId, ...period })).body.id;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  beforeEach(async () => {
    allowed = [];
    watched = await watchedPage(browser);
  });

  afterEach(async () => {
    const problems = watched.problems.filter((p) => !allowed.some((re) => re.test(p)));
    await watched.close();
    expect(problems).toEqual([]);
  });

  /** Signs in on `path` (a client route: the app opens it once signed in). */
  async function login(page: Page, token: string, path = '') {
    await page.goto(`${t.baseUrl}/dashboard${path}`);
    // Keyboard only: the token field has the focus, Enter submits.
    await page.getByLabel('Admin token or API key').waitFor();
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
  }

  const balanceOf = async (tenantId: string) => (await t.admin('GET', `/admin/tenants/${tenantId}`)).body.balance as string;

  it("a wrong token shows the API's own message, and keeps the form", async () => {
    allowed = [/http 401: GET .*\/admin\/tenants$/, /console: Failed to load resource: .* 401/];
    const { page } = watched;
    await login(page, 'not-the-admin-token-at-all');
    const expected = (await http(t.baseUrl, 'GET', '/admin/tenants', { token: 'not-the-admin-token-at-all' })).body.error.message;
    await expect(page.getByRole('alert').textContent()).resolves.toBe(expected);
    await expect(page.getByLabel('Admin token or API key').isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
  });

  it("a wrong API key shows the tenant API's message", async () => {
    allowed = [/http 401: GET .*\/v1\/balance$/, /console: Failed to load resource: .* 401/];
    const { page } = watched;
    await login(page, 'sk-tg-this-key-does-not-exist');
    const expected = (await http(t.baseUrl, 'GET', '/v1/balance', { token: 'sk-tg-this-key-does-not-exist' })).body.error.message;
    await expect(page.getByRole('alert').textContent()).resolves.toBe(expected);
    expect(expected).toMatch(/^Incorrect API key provided/);
  });

  it('admin login: the overview draws cost per day, and tenants show exact balances; sign out forgets the token', async () => {
    const { page } = watched;
    await login(page, t.env.ADMIN_TOKEN!);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Cost per day (USD)').waitFor();
    expect(await chartStrokePixels(page)).toBeGreaterThan(20);
    // The overview's default period, the last 30 UTC days (other suites in this run write usage at other times).
    const DAY = 86_400_000;
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    const range = `from=${new Date(today - 29 * DAY).toISOString()}&to=${new Date(today + DAY).toISOString()}`;
    const totals = (await t.admin('GET', `/admin/usage?group_by=day&${range}`)).body.totals;
    await expect(page.locator('.cards dd').first().textContent()).resolves.toBe(totals.cost);
    await page.getByRole('heading', { name: 'Top tenants' }).waitFor();

    await page.getByRole('link', { name: 'Tenants' }).click();
    const otherRow = page.locator(`tr[data-tenant="${other.tenantId}"]`);
    await otherRow.waitFor();
    // Exactly the API's string: a float would have printed 7.123456789012346.
    expect(OTHER_CREDITS).not.toBe(String(Number(OTHER_CREDITS)));
    const otherBalance = await balanceOf(other.tenantId);
    expect(otherBalance.split('.')[1]).toHaveLength(18);
    await expect(otherRow.locator('.amount').textContent()).resolves.toBe(otherBalance);
    const richBalance = await balanceOf(rich.tenantId);
    await expect(page.locator(`tr[data-tenant="${rich.tenantId}"] .amount`).textContent()).resolves.toBe(richBalance);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token or API key').waitFor();
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
    await page.reload();
    await page.getByLabel('Admin token or API key').waitFor();
  });

  it('creates a tenant, credits it to the last digit, and suspends it', async () => {
    const { page } = watched;
    await login(page, t.env.ADMIN_TOKEN!);
    await page.getByRole('link', { name: 'Tenants' }).click();
    const name = `browser-${Date.now()}`;
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Opening credits (USD)').fill('1.5');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name }).waitFor();
    const tenantId = page.url().split('/').at(-1)!;
    await expect(page.getByTestId('tenant-balance').textContent()).resolves.toBe('1.5');

    await page.getByLabel('Credit amount (USD)').fill('0.000000000000000001');
    await page.getByRole('button', { name: 'Add credits' }).click();
    await page.getByTestId('tenant-balance').getByText('1.500000000000000001', { exact: true }).waitFor();
    expect(await balanceOf(tenantId)).toBe('1.500000000000000001');
    await page.getByRole('cell', { name: '0.000000000000000001', exact: true }).waitFor(); // the ledger entry

    await page.getByRole('button', { name: 'Suspend tenant' }).click();
    await page.getByRole('button', { name: 'Reactivate tenant' }).waitFor();
    expect((await t.admin('GET', `/admin/tenants/${tenantId}`)).body.status).toBe('suspended');
  });

  it('creates a key (shown once, and it works) and revokes it (refused from then on), in a 375px window', async () => {
    const { page } = watched;
    await page.setViewportSize({ width: 375, height: 800 });
    await login(page, t.env.ADMIN_TOKEN!, `/tenants/${other.tenantId}`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByText('Cost per day by model (USD)').waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.getByText('Create a key').click();
    await page.locator('#new-key-name').fill('from the browser');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-key').locator('code').textContent())!;
    expect(key).toMatch(/^sk-/);
    expect((await http(t.baseUrl, 'GET', '/v1/balance', { token: key })).status).toBe(200);

    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('new-key').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Revoke from the browser' }).click();
    await page.getByRole('button', { name: 'Confirm revoking from the browser' }).click();
    await page.locator('tr', { hasText: 'from the browser' }).getByText('revoked').waitFor();
    await waitFor('the key refused', async () => (await http(t.baseUrl, 'GET', '/v1/balance', { token: key })).status === 401, 5000);
  });

  it('creates an invoice and downloads its PDF', async () => {
    const { page } = watched;
    await login(page, t.env.ADMIN_TOKEN!, `/tenants/${rich.tenantId}`);
    await page.getByRole('button', { name: 'Create invoice' }).click();
    // The form's default period is this month (last month's invoice is already listed).
    const now = new Date();
    const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().slice(0, 10);
    const row = page.locator('tr[data-invoice]', { hasText: `${thisMonth} →` });
    await row.getByText('ready').waitFor();
    const invoice = (await t.admin('GET', `/admin/invoices/${await row.getAttribute('data-invoice')}`)).body;
    await expect(row.locator('.amount').first().textContent()).resolves.toBe(invoice.total);
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /^Download PDF/ }).click()]);
    const chunks: Buffer[] = [];
    for await (const chunk of (await download.createReadStream())!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
  });

  it("tenant login: its own balance, usage chart and invoices, in a 375px window, and nothing of another tenant's", async () => {
    await watched.close();
    watched = await watchedPage(browser, { width: 375, height: 800 });
    const { page } = watched;
    const urls: string[] = [];
    page.on('request', (req) => urls.push(new URL(req.url()).pathname));
    await login(page, rich.key);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const balance = (await http(t.baseUrl, 'GET', '/v1/balance', { token: rich.key })).body.balance;
    await expect(page.getByTestId('tenant-balance').textContent()).resolves.toBe(balance);
    await page.getByText('Cost per day by model (USD)').waitFor();
    expect(await chartStrokePixels(page)).toBeGreaterThan(20);
    const usage = (await http(t.baseUrl, 'GET', '/v1/usage', { token: rich.key })).body.totals;
    await expect(page.locator('tfoot .amount').textContent()).resolves.toBe(usage.cost);
    await page.getByRole('heading', { name: 'Invoices' }).waitFor();
    await page.locator('tr[data-invoice]').first().waitFor();

    const invoices = await page.locator('tr[data-invoice]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-invoice')));
    expect(invoices).not.toContain(othersInvoice);
    const text = (await page.locator('body').textContent())!;
    expect(text).not.toContain(other.tenantId);
    expect(text).not.toContain(OTHER_CREDITS);
    expect(urls.filter((u) => u.startsWith('/admin'))).toEqual([]);
    // Narrow window: nothing wider than the viewport but the scrollable tables.
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  });

  it('models, webhooks, dead letters and the audit log open from the menu with their content', async () => {
    const { page } = watched;
    await login(page, t.env.ADMIN_TOKEN!);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('cell', { name: SEED_MODEL, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Price versions' }).first().click();
    await page.getByRole('heading', { name: /^Price versions of/ }).waitFor();
    const model = `browser-model-${Date.now()}`;
    await page.getByText('Add a model or a price version').click();
    await page.getByLabel('Model', { exact: true }).fill(model);
    await page.getByLabel('Input price', { exact: true }).fill('0.123456789');
    await page.getByLabel('Output price').fill('0.4');
    await page.getByRole('button', { name: 'Save price' }).click();
    await page.getByRole('heading', { name: `Price versions of ${model}` }).waitFor();
    await page.getByRole('cell', { name: '0.123456789', exact: true }).first().waitFor();
    const models = (await t.admin('GET', '/admin/models')).body.data;
    expect(models.find((m: any) => m.model === model)?.price).toMatchObject({ input_price: '0.123456789', cached_input_price: '0.0123456789', output_price: '0.4' });
    await nav.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.locator('main').getByText(/No webhooks yet|Deliveries/).first().waitFor();
    await nav.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByText('No dead letters: every charge went through.').waitFor();
    await nav.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'tenant.create', exact: true }).first().waitFor();
  });

  it("sets a tenant's credit limit and low-balance threshold, and creates and edits a key with a budget, expiry and allowed models", async () => {
    const { page } = watched;
    const tenant = await t.tenant('1');
    await login(page, t.env.ADMIN_TOKEN!, `/tenants/${tenant.tenantId}`);
    await expect(page.getByTestId('tenant-credit-limit').textContent()).resolves.toBe('0');
    await page.getByLabel('Credit limit (USD)').fill('2.5');
    await page.getByLabel('Low-balance threshold (USD)').fill('0.75');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByTestId('tenant-credit-limit').getByText('2.5', { exact: true }).waitFor();
    await page.getByTestId('tenant-threshold').getByText('0.75', { exact: true }).waitFor();
    expect((await t.admin('GET', `/admin/tenants/${tenant.tenantId}`)).body).toMatchObject({ credit_limit: '2.5', low_balance_threshold: '0.75' });
    // A bad value is the API's message, naming the field.
    await page.getByLabel('Credit limit (USD)').fill('-1');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByRole('form', { name: 'Spend limits' }).getByText(/credit_limit/).waitFor();
    allowed = [/http 400: PATCH .*\/admin\/tenants\/[^/]+$/, /console: Failed to load resource: .* 400/];

    await page.getByText('Create a key').click();
    await page.locator('#new-key-name').fill('budgeted');
    await page.locator('#new-key-budget').fill('5.00');
    await page.locator('#new-key-period').selectOption('day');
    await page.locator('#new-key-expires').fill('2099-01-01T00:00');
    await page.locator('#new-key-models').fill(SEED_MODEL);
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-key').locator('code').textContent())!;
    await page.getByRole('button', { name: 'Done' }).click();
    const listed = async () => (await t.admin('GET', `/admin/tenants/${tenant.tenantId}/api-keys`)).body.data.find((k: any) => k.name === 'budgeted');
    const created = await listed();
    expect(created).toMatchObject({ budget_limit: '5', budget_period: 'day', expires_at: new Date('2099-01-01T00:00').toISOString(), allowed_models: [SEED_MODEL] });
    const row = page.locator(`tr[data-key="${created.id}"]`);
    await row.getByText('5', { exact: true }).waitFor();
    await row.getByText(`models: ${SEED_MODEL}`).waitFor();
    await row.getByText(/day/).waitFor();

    await page.getByRole('button', { name: 'Edit budgeted' }).click();
    await page.locator(`#edit-${created.id}-budget`).fill('7.5');
    await page.locator(`#edit-${created.id}-period`).selectOption('week');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByText('7.5', { exact: true }).waitFor();
    expect(await listed()).toMatchObject({ budget_limit: '7.5', budget_period: 'week', allowed_models: [SEED_MODEL] });

    // The key works on its model; the tenant view shows its budget and the credit limit from /v1/balance.
    expect((await http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input: 'Budgeted hello.' } })).status).toBe(200);
    const spent = await waitFor('the charge in the budget', async () => {
      const b = (await http(t.baseUrl, 'GET', '/v1/balance', { token: key })).body;
      return b.budget.spent !== '0' && b.budget.reserved === '0' && b;
    });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await login(page, key);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await expect(page.getByTestId('credit-limit').textContent()).resolves.toBe('2.5');
    const budget = page.getByTestId('key-budget');
    await budget.waitFor();
    const amounts = await budget.locator('.amount').allTextContents();
    expect(amounts).toEqual([spent.budget.spent, '7.5', '0', spent.budget.remaining]);
    await expect(page.locator('dt', { hasText: "This key's budget (week)" }).count()).resolves.toBe(1);
  });

  it('the webhooks page adds a webhook (its secret shown once, and it signs the deliveries) and lists its deliveries', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const { page } = watched;
      const tenant = await t.tenant('1');
      await login(page, t.env.ADMIN_TOKEN!, '/webhooks');
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      await page.getByText('Add a webhook').click();
      await page.getByLabel('URL').fill(receiver.url);
      await page.getByLabel('Tenant id (optional)').fill(tenant.tenantId);
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const secret = (await page.locator('code.secret').textContent())!;
      expect(secret).toMatch(/^whsec_/);
      const hook = (await t.admin('GET', '/admin/webhooks')).body.data.find((w: any) => w.tenant_id === tenant.tenantId);
      expect(hook).toMatchObject({ url: receiver.url, events: ['balance.low', 'budget.threshold', 'invoice.ready', 'charge.failed'] });
      const item = page.locator(`li[data-webhook="${hook.id}"]`);
      await item.getByText(receiver.url).waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
      expect(await page.locator('body').textContent()).not.toContain(secret);

      const period = { period_start: '2025-01-01T00:00:00Z', period_end: '2025-02-01T00:00:00Z' };
      expect((await t.admin('POST', '/admin/invoices', { tenant_id: tenant.tenantId, ...period })).status).toBe(202);
      const [got] = await waitFor('the delivery', () => receiver.accepted.length >= 1 && receiver.accepted);
      const headers = { 'webhook-id': String(got.headers['webhook-id']), 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) };
      expect(new Webhook(secret).verify(got.body, headers)).toMatchObject({ type: 'invoice.ready', data: { tenant_id: tenant.tenantId } });
      await waitFor('delivered', async () => (await t.admin('GET', `/admin/webhooks/${hook.id}/deliveries`)).body.data[0]?.status === 'delivered');

      await item.getByRole('button', { name: 'Deliveries' }).click();
      const delivery = item.locator('tbody tr');
      await delivery.getByText('invoice.ready').waitFor();
      await delivery.getByText('delivered').waitFor();
      await expect(delivery.locator('td.num').allTextContents()).resolves.toEqual(['1', '200']);
    } finally {
      await receiver.stop();
    }
  });

  it('serves index.html for client routes (never cached) and hashed assets (cached), same origin only', async () => {
    const index = await fetch(`${t.baseUrl}/dashboard/tenants/some-id`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await index.text();
    const asset = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)![1];
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(t.baseUrl + asset);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const missing = await fetch(`${t.baseUrl}/dashboard/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

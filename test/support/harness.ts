import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import OpenAI from 'openai';
import { createApp } from '../../src/bootstrap';
import { Env, loadEnv } from '../../src/config/env';
import { seedPrice } from './prices';

export const SEED_MODEL = 'seed-1-6-250915';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** fetch + JSON, for calls the openai SDK does not make (admin API, raw bodies). */
export async function http<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface TestApp {
  app: NestFastifyApplication;
  env: Env;
  baseUrl: string;
  /** Admin API call with the admin token. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>>;
  /** The official SDK, as a tenant would configure it. */
  openai(apiKey: string): OpenAI;
  /** A new tenant with `credits` and one API key. */
  tenant(credits?: string): Promise<{ tenantId: string; key: string; keyId: string }>;
  close(): Promise<void>;
}

/** Boots the real app on a random loopback port against the run's database and Redis. */
export async function startApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const env = loadEnv({ ...process.env, PORT: '0', ...overrides });
  const app = await createApp(env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const admin = <T>(method: string, path: string, body?: unknown) =>
    http<T>(baseUrl, method, path, { token: env.ADMIN_TOKEN, body });
  return {
    app,
    env,
    baseUrl,
    admin,
    openai: (apiKey) => new OpenAI({ apiKey, baseURL: `${baseUrl}/v1`, maxRetries: 0 }),
    async tenant(credits = '100') {
      const t = await admin<any>('POST', '/admin/tenants', { name: `tenant-${Math.random().toString(36).slice(2, 8)}`, credits });
      if (t.status !== 201) throw new Error(`create tenant: ${t.status} ${t.text}`);
      const k = await admin<any>('POST', `/admin/tenants/${t.body.id}/api-keys`, { name: 'test' });
      if (k.status !== 201) throw new Error(`create key: ${k.status} ${k.text}`);
      return { tenantId: t.body.id, key: k.body.key, keyId: k.body.id };
    },
    close: () => app.close(),
  };
}

/** Registers the simulated seed model with the demo prices, in force since 2020 (idempotent). */
export async function ensureSeedModel(t: TestApp, prices = { input_price: '0.25', output_price: '2.00' }) {
  await seedPrice(t.env.DATABASE_URL, SEED_MODEL, { ...prices, effective_from: '2020-01-01T00:00:00Z' }, t);
}

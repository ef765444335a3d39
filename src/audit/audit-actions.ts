import { createHash } from 'node:crypto';

/** Who did it: "admin:" + the first 8 hex digits of sha256(admin token). Never the token. */
export const adminFingerprint = (token: string): string => `admin:${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;

export interface ActionInput {
  method: string;
  /** The route pattern, e.g. "/admin/tenants/:id/credits". */
  route: string;
  params: Record<string, unknown>;
  body: unknown;
  /** The handler's answer (undefined when it failed). */
  result: unknown;
  /** Set when the action failed. */
  error?: { status: number; code: string | null; message: string };
}

export interface AuditRecord {
  action: string;
  targetType: string | null;
  targetId: string | null;
  summary: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : v === undefined || v === null ? null : String(v));
const pick = (source: unknown, keys: string[]): Obj => {
  const o = obj(source);
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
};

interface ActionSpec {
  action: string;
  targetType: string;
  target: (i: ActionInput) => unknown;
  summary: (i: ActionInput) => Obj;
}

/** A key's settings an admin may change (never the key itself). */
const KEY_SETTINGS = ['rpm_limit', 'tpm_limit', 'budget_limit', 'budget_period', 'expires_at', 'allowed_models'];

/** The admin actions by route, each with an allow-list of what its summary keeps. */
const ACTIONS: Record<string, ActionSpec> = {
  'POST /admin/tenants': {
    action: 'tenant.create',
    targetType: 'tenant',
    target: (i) => obj(i.result).id,
    summary: (i) => ({ ...pick(i.body, ['name', 'credits']), ...pick(i.result, ['status', 'balance']) }),
  },
  'PATCH /admin/tenants/:id': {
    action: 'tenant.update',
    targetType: 'tenant',
    target: (i) => i.params.id,
    summary: (i) => pick(i.body, ['status', 'credit_limit', 'low_balance_threshold']),
  },
  'POST /admin/tenants/:id/credits': {
    action: 'tenant.credit',
    targetType: 'tenant',
    target: (i) => i.params.id,
    summary: (i) => ({ ...pick(i.body, ['amount', 'reference']), ...pick(i.result, ['entry_id', 'balance']) }),
  },
  'POST /admin/tenants/:id/api-keys': {
    action: 'api_key.create',
    targetType: 'api_key',
    target: (i) => obj(i.result).id,
    // The key itself is in the answer: only its display prefix is kept.
    summary: (i) => ({ tenant_id: i.params.id, ...pick(i.body, ['name', ...KEY_SETTINGS]), ...pick(i.result, ['prefix']) }),
  },
  'PATCH /admin/api-keys/:id': {
    action: 'api_key.update',
    targetType: 'api_key',
    target: (i) => i.params.id,
    summary: (i) => pick(i.body, KEY_SETTINGS),
  },
  'DELETE /admin/api-keys/:id': {
    action: 'api_key.revoke',
    targetType: 'api_key',
    target: (i) => i.params.id,
    summary: (i) => pick(i.result, ['revoked_at']),
  },
  'PUT /admin/models/:model': {
    action: 'model.put',
    targetType: 'model',
    target: (i) => i.params.model,
    summary: (i) => ({
      ...pick(i.body, ['provider', 'upstream_model', 'input_price', 'cached_input_price', 'output_price', 'effective_from']),
      ...(obj(i.result).price ? { price: obj(i.result).price, effective_from: obj(i.result).effective_from } : {}),
    }),
  },
  'PUT /admin/tenants/:id/prices/:model': {
    action: 'tenant_price.put',
    targetType: 'tenant',
    target: (i) => i.params.id,
    summary: (i) => ({
      model: i.params.model,
      ...pick(i.body, ['input_price', 'cached_input_price', 'output_price', 'effective_from']),
      ...pick(i.result, ['id', 'effective_from']),
    }),
  },
  'POST /admin/queues/charges/failed/:id/retry': {
    action: 'charge.retry',
    targetType: 'charge_job',
    target: (i) => i.params.id,
    summary: (i) => pick(i.result, ['retried']),
  },
  'POST /admin/queues/charges/failed/retry': {
    action: 'charge.retry_all',
    targetType: 'charge_job',
    target: () => null,
    summary: (i) => pick(i.result, ['retried']),
  },
  'POST /admin/webhooks': {
    action: 'webhook.create',
    targetType: 'webhook',
    target: (i) => obj(i.result).id,
    // Never the secret (it is in the answer); the URL without its query, which may carry a token.
    summary: (i) => ({ ...pick(i.body, ['events', 'tenant_id']), url: urlWithoutQuery(obj(i.body).url) }),
  },
  'DELETE /admin/webhooks/:id': {
    action: 'webhook.delete',
    targetType: 'webhook',
    target: (i) => i.params.id,
    summary: (i) => pick(i.result, ['deleted']),
  },
  'POST /admin/invoices': {
    action: 'invoice.create',
    targetType: 'invoice',
    target: (i) => obj(i.result).id,
    summary: (i) => ({ ...pick(i.body, ['tenant_id', 'period_start', 'period_end']), ...pick(i.result, ['status', 'created']) }),
  },
};

function urlWithoutQuery(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return value.split(/[?#]/)[0];
  }
}

/** Field names whose values are never kept, wherever they appear. */
const SECRET_FIELD = /key$|^key|token|secret|password|authorization|hash/i;
/** Anything shaped like a full API key (sk-tg- + 40 characters) or a webhook secret; display prefixes (12 characters) stay. */
const KEY_LIKE = /sk-[A-Za-z0-9_-]{20,}|whsec_[A-Za-z0-9+/=_-]+/g;

/** Deep copy without secret-named fields and with key-shaped strings (and `extraSecrets`) redacted. */
export function scrub(value: unknown, extraSecrets: string[] = [], depth = 0): unknown {
  if (depth > 6) return '[truncated]';
  if (typeof value === 'string') {
    let s = value.length > 500 ? `${value.slice(0, 500)}…` : value;
    for (const secret of extraSecrets) if (secret) s = s.split(secret).join('[redacted]');
    return s.replace(KEY_LIKE, '[redacted]');
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrub(v, extraSecrets, depth + 1));
  if (value && typeof value === 'object') {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value as Obj)) {
      // `prefix` is the 12-character display prefix, not a secret; api_key_id / tenant ids are ids.
      if (SECRET_FIELD.test(k) && !/_id$/.test(k)) continue;
      out[k] = scrub(v, extraSecrets, depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * What an admin request did, for the audit log: the action, its target and a summary without
 * secrets. Unlisted routes get a generic record (method and route, the params, the body's field
 * names only).
 */
export function describeAction(input: ActionInput, extraSecrets: string[] = []): AuditRecord {
  const spec = ACTIONS[`${input.method.toUpperCase()} ${input.route}`];
  const base = spec
    ? { action: spec.action, targetType: spec.targetType, targetId: str(spec.target(input)), summary: spec.summary(input) }
    : {
        action: `${input.method.toLowerCase()} ${input.route}`,
        targetType: null,
        targetId: str(input.params.id ?? null),
        summary: { params: input.params, fields: Object.keys(obj(input.body)).sort() },
      };
  const summary = scrub(input.error ? { ...base.summary, error: input.error } : base.summary, extraSecrets) as Obj;
  return { ...base, targetId: base.targetId ? (scrub(base.targetId, extraSecrets) as string).slice(0, 200) : null, summary };
}

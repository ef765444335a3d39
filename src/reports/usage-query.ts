import { invalidValue, unknownParameter } from '../common/errors';
import { isIsoTimestamp } from '../admin/dto/validators';

/** What a usage report can be grouped by, and the key each adds to a row. */
export const GROUP_KEYS = {
  model: 'model',
  day: 'day',
  api_key: 'api_key_id',
  tenant: 'tenant_id',
} as const;

export type GroupBy = keyof typeof GROUP_KEYS;
export const GROUP_BYS = Object.keys(GROUP_KEYS) as GroupBy[];

export type ReportFormat = 'json' | 'csv';
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'csv'];

/** A validated usage report request. from/to: half-open [from, to) on usage_events.created_at. */
export interface UsageQuery {
  tenantId?: string;
  from?: Date;
  to?: Date;
  groupBy: GroupBy[];
  format: ReportFormat;
}

/**
 * `group_by` as it arrives: absent, "model,day" or a repeated parameter (["model", "day"]). Order
 * is kept (it is the column and sort order); a repeated or unknown key is a 400 naming `group_by`.
 */
export function parseGroupBy(value: unknown): GroupBy[] {
  if (value === undefined || value === null) return [];
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => {
    if (typeof v !== 'string') throw invalidValue('group_by', `'group_by' must be a comma-separated list of: ${GROUP_BYS.join(', ')}.`);
    return v.split(',').map((p) => p.trim());
  });
  if (parts.length === 1 && parts[0] === '') return [];
  const out: GroupBy[] = [];
  for (const p of parts) {
    if (!(GROUP_BYS as string[]).includes(p)) {
      throw invalidValue('group_by', `Unknown group_by '${p.slice(0, 50)}'. Use any of: ${GROUP_BYS.join(', ')} (comma-separated).`);
    }
    if (out.includes(p as GroupBy)) throw invalidValue('group_by', `group_by '${p}' is given twice.`);
    out.push(p as GroupBy);
  }
  return out;
}

export function parseFormat(value: unknown): ReportFormat {
  if (value === undefined || value === null || value === '') return 'json';
  if (typeof value === 'string' && (REPORT_FORMATS as string[]).includes(value)) return value as ReportFormat;
  throw invalidValue('format', `'format' must be one of: ${REPORT_FORMATS.join(', ')}.`);
}

/** An optional ISO 8601 time parameter (400 naming it when malformed). */
export function parseTime(param: string, value: unknown): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!isIsoTimestamp(value)) {
    throw invalidValue(param, `'${param}' must be an ISO 8601 time such as "2026-01-01T00:00:00Z" (got '${String(value).slice(0, 50)}').`);
  }
  const date = new Date(value);
  if (date.getTime() < Date.UTC(1970, 0, 1) || date.getTime() > Date.UTC(9999, 11, 31, 23, 59, 59, 999)) {
    throw invalidValue(param, `'${param}' must be between 1970 and 9999.`);
  }
  return date;
}

/** Raw query -> UsageQuery. `allowTenant` is false on /v1/usage (the tenant is the caller). */
export function parseUsageQuery(raw: Record<string, unknown>, allowTenant: boolean): UsageQuery {
  const known = ['from', 'to', 'group_by', 'format', ...(allowTenant ? ['tenant_id'] : [])];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      throw unknownParameter(key, key.slice(0, 50));
    }
  }
  for (const key of ['from', 'to', 'format', 'tenant_id']) {
    if (Array.isArray(raw[key])) throw invalidValue(key, `'${key}' may be given once.`);
  }
  const from = parseTime('from', raw.from);
  const to = parseTime('to', raw.to);
  if (from && to && to.getTime() < from.getTime()) throw invalidValue('to', `'to' must not be before 'from'.`);
  let tenantId: string | undefined;
  if (allowTenant && raw.tenant_id !== undefined && raw.tenant_id !== '') {
    tenantId = String(raw.tenant_id);
  }
  return { tenantId, from, to, groupBy: parseGroupBy(raw.group_by), format: parseFormat(raw.format) };
}

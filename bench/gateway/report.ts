/** The bench's output: markdown tables (and the README block) from the results. */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { ClosedLoopResult, OpenLoopResult } from './load';
import type { RoundTrips } from './round-trips';

export interface WindowResult {
  closed: ClosedLoopResult;
  open: OpenLoopResult;
  /** The unmeasured first seconds at the steady rate, kept to show what a new rate's ramp costs. */
  ramp: OpenLoopResult | null;
  /** CPU seconds per 1,000 answered requests, by process group, in each window. */
  cpu_s_per_1k: { closed: Record<string, number>; open: Record<string, number> };
  /** Peak RSS of each of the target's processes during this payload's windows. */
  peak_rss_mb: Record<string, number>;
  /** Tollgate targets only. */
  round_trips?: { closed?: RoundTrips; open?: RoundTrips };
}

export interface TargetResult {
  target: string;
  label: string;
  payloads: Record<string, WindowResult>;
  memory: Record<string, { peak_rss_mb: number; heap?: { heap_used_mb: number; heap_total_mb: number; external_mb: number; rss_mb: number } | null }>;
  metering?: Record<string, unknown> & { every_answered_charged_once: boolean };
}

const fmt = (n: number | null | undefined, d = 0) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ms = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n < 10 ? `${fmt(n, 2)} ms` : n < 1000 ? `${fmt(n, 0)} ms` : `${fmt(n / 1000, 2)} s`);

export function machineLine(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    /* not Linux */
  }
  const shared = process.env.BENCH_QUIET ? 'nothing else running' : 'shared with other work';
  return `${os.cpus().length} cores, ${model}, Node ${process.version}, ${shared}`;
}

/** One table per payload: the issue's shape, ratios against Portkey, added latency against direct. */
export function throughputTables(results: TargetResult[], payloads: { name: string; label: string; streamed: boolean }[], rate: number, connections: number): string {
  const out: string[] = [];
  for (const p of payloads) {
    const rows = results.filter((r) => r.payloads[p.name]);
    if (!rows.length) continue;
    const direct = results.find((r) => r.target === 'direct')?.payloads[p.name];
    const portkey = results.find((r) => r.target === 'portkey')?.payloads[p.name];
    const ttfb = p.streamed ? ' | TTFB p50 / p99' : '';
    out.push(`#### ${p.label}`, '');
    out.push(`| target | max throughput (${connections} conns) | vs Portkey | p50 at ${rate} req/s | p99 at ${rate} req/s | added p50 | added p99${ttfb} | not 200 |`);
    out.push(`| --- | --- | --- | --- | --- | --- | ---${p.streamed ? ' | ---' : ''} | --- |`);
    for (const r of rows) {
      const w = r.payloads[p.name];
      const portkeyAnswered = !!portkey && portkey.closed.rps > 0;
      const ratio = r.target === 'portkey' ? (portkeyAnswered ? '1x' : 'failed') : portkeyAnswered ? `${fmt(w.closed.rps / portkey.closed.rps, 2)}x` : '–';
      const added = (q: 'p50_ms' | 'p99_ms') => (direct && r.target !== 'direct' && w.open[q] !== null && direct.open[q] !== null ? ms(w.open[q]! - direct.open[q]!) : '–');
      const t = p.streamed ? ` | ${ms(w.open.ttfb_p50_ms)} / ${ms(w.open.ttfb_p99_ms)}` : '';
      const failed = w.open.not_ok + w.closed.not_ok;
      out.push(`| ${r.label} | ${fmt(w.closed.rps)} req/s | ${ratio} | ${ms(w.open.p50_ms)} | ${ms(w.open.p99_ms)} | ${added('p50_ms')} | ${added('p99_ms')}${t} | ${failed ? `${fmt(failed)}${w.open.first_failure ? ` (${w.open.first_failure.slice(0, 60).replace(/\|/g, '/')})` : ''}` : '0'} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

export function cpuTable(results: TargetResult[], payloads: { name: string; label: string }[]): string {
  const groups = [...new Set(results.flatMap((r) => Object.values(r.payloads).flatMap((w) => [...Object.keys(w.cpu_s_per_1k.closed), ...Object.keys(w.cpu_s_per_1k.open)])))];
  const out = [`| target | payload | window | ${groups.join(' | ')} | total |`, `| --- | --- | --- | ${groups.map(() => '---').join(' | ')} | --- |`];
  for (const r of results) {
    for (const p of payloads) {
      const w = r.payloads[p.name];
      if (!w) continue;
      for (const kind of ['closed', 'open'] as const) {
        const c = w.cpu_s_per_1k[kind];
        const total = Object.entries(c).reduce((s, [g, v]) => (g === 'load generator' ? s : s + v), 0);
        out.push(`| ${r.label} | ${p.name} | ${kind === 'closed' ? 'max' : 'steady'} | ${groups.map((g) => (g in c ? fmt(c[g], 2) : '')).join(' | ')} | ${fmt(total, 2)} |`);
      }
    }
  }
  return out.join('\n');
}

export function memoryTable(results: TargetResult[], payloads: { name: string }[]): string {
  const names = payloads.map((p) => p.name);
  const out = [
    `| target | process | peak RSS (whole run) | ${names.map((n) => `peak RSS, ${n}`).join(' | ')} | peak heap used / total | external |`,
    `| --- | --- | --- | ${names.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  for (const r of results) {
    for (const [proc, m] of Object.entries(r.memory)) {
      const byPayload = names.map((n) => (r.payloads[n]?.peak_rss_mb[proc] !== undefined ? `${fmt(r.payloads[n].peak_rss_mb[proc])} MB` : '–'));
      out.push(`| ${r.label} | ${proc} | ${fmt(m.peak_rss_mb)} MB | ${byPayload.join(' | ')} | ${m.heap ? `${m.heap.heap_used_mb} / ${m.heap.heap_total_mb} MB` : '–'} | ${m.heap ? `${m.heap.external_mb} MB` : '–'} |`);
    }
  }
  return out.join('\n');
}

export function meteringLines(results: TargetResult[]): string {
  return results
    .filter((r) => r.metering)
    .map((r) => `- ${r.label}: ${JSON.stringify(r.metering)}`)
    .join('\n');
}

export function roundTripTable(results: TargetResult[], payloads: { name: string }[]): string {
  const out = ['| target | payload | window | Redis commands | busiest Redis commands | Postgres transactions |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of results) {
    for (const p of payloads) {
      const t = r.payloads[p.name]?.round_trips;
      if (!t) continue;
      for (const kind of ['closed', 'open'] as const) {
        const w = t[kind];
        if (!w) continue;
        const top = Object.entries(w.redis_top).map(([cmd, n]) => `${cmd} ${fmt(n, 2)}`).join(', ');
        out.push(`| ${r.label} | ${p.name} | ${kind === 'closed' ? 'max' : 'steady'} | ${fmt(w.redis_per_request, 2)} | ${top} | ${fmt(w.pg_xacts_per_request, 2)} |`);
      }
    }
  }
  return out.join('\n');
}

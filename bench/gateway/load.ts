/** The two loads: closed loop (autocannon, N connections) and a steady open loop (undici). */
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface Target {
  url: string;
  body: string;
  headers: Record<string, string>;
}

const round = (n: number, d = 2) => (Number.isFinite(n) ? +n.toFixed(d) : null);

export interface ClosedLoopResult {
  requests: number;
  ok: number;
  not_ok: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Answers by status code, and errors (connection resets, timeouts). */
  statuses: Record<string, number>;
}

/** The most req/s `connections` keep-alive connections get, each sending as soon as it is answered. */
export function closedLoop(target: Target, connections: number, seconds: number): Promise<ClosedLoopResult> {
  return new Promise((resolve, reject) =>
    autocannon({ ...target, method: 'POST', connections, duration: seconds }, (err, r) =>
      err
        ? reject(err)
        : resolve({
            requests: r.requests.total,
            ok: r['2xx'],
            not_ok: r.non2xx + r.errors + r.timeouts,
            rps: Math.round(r['2xx'] / r.duration),
            p50_ms: r.latency.p50,
            p99_ms: r.latency.p99,
            statuses: {
              ...Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count])),
              ...(r.errors ? { errors: r.errors } : {}),
              ...(r.timeouts ? { timeouts: r.timeouts } : {}),
            },
          }),
    ),
  );
}

export interface OpenLoopResult {
  requests: number;
  ok: number;
  not_ok: number;
  /** The first refusal's status and body, to say what happened. */
  first_failure: string | null;
  achieved_rps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Time to the first body byte (what a streaming client sees first). */
  ttfb_p50_ms: number | null;
  ttfb_p99_ms: number | null;
  /** p50 and p99 of the requests due in each second of the window: where the tail sits in time. */
  by_second: { p50_ms: number | null; p99_ms: number | null }[];
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);

/**
 * Open-loop load: request i is issued at start + i/rate whatever the earlier ones are doing, and
 * its latency runs from that scheduled moment (so a generator or a target that falls behind is
 * measured, not hidden: no coordinated omission).
 */
export async function openLoop(target: Target, rate: number, seconds: number): Promise<OpenLoopResult> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: 512, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.round(rate * seconds);
  const totals: number[] = [];
  const seconds_: number[][] = Array.from({ length: Math.ceil(seconds) }, () => []);
  const firsts: number[] = [];
  let ok = 0;
  let failure: string | null = null;
  const start = performance.now();
  const running: Promise<void>[] = [];
  const one = async (due: number) => {
    // Issued early (within the last millisecond of its wait): timed from when it was sent.
    due = Math.min(due, performance.now());
    try {
      const res = await pool.request({ path: url.pathname, method: 'POST', headers: target.headers, body: target.body });
      let first = 0;
      let text = '';
      for await (const chunk of res.body) {
        if (!first) first = performance.now();
        if (res.statusCode !== 200 && text.length < 300) text += chunk.toString();
      }
      const end = performance.now();
      if (res.statusCode === 200) {
        ok++;
        totals.push(end - due);
        seconds_[Math.min(seconds_.length - 1, Math.floor((due - start) / 1000))].push(end - due);
        firsts.push((first || end) - due);
      } else failure ??= `${res.statusCode} ${text.slice(0, 200)}`;
    } catch (err) {
      failure ??= (err as Error).message;
    }
  };
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    running.push(one(due));
  }
  await Promise.all(running);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  totals.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  return {
    requests: total,
    ok,
    not_ok: total - ok,
    first_failure: failure,
    achieved_rps: Math.round(ok / elapsed),
    p50_ms: round(quantile(totals, 0.5)),
    p99_ms: round(quantile(totals, 0.99)),
    ttfb_p50_ms: round(quantile(firsts, 0.5)),
    ttfb_p99_ms: round(quantile(firsts, 0.99)),
    by_second: seconds_.map((s) => {
      s.sort((a, b) => a - b);
      return { p50_ms: round(quantile(s, 0.5)), p99_ms: round(quantile(s, 0.99)) };
    }),
  };
}

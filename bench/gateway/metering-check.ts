/** After a Tollgate target: every answered request charged, each usage event exactly once. */
import type { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

export async function chargedOnce(db: Client, tenantId: string, answered: number, cutOff: number) {
  const counts = async () =>
    (
      await db.query(
        `SELECT count(*) FILTER (WHERE state <> 'pending')::int AS events,
                count(*) FILTER (WHERE state = 'pending')::int AS pending,
                count(charged_at)::int AS charged,
                (SELECT count(*)::int FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge') AS ledger_charges,
                (SELECT count(DISTINCT usage_event_id)::int FROM ledger_entries WHERE tenant_id = $1 AND kind = 'charge') AS distinct_events,
                (SELECT balance = (SELECT sum(amount) FROM ledger_entries WHERE tenant_id = $1) FROM tenants WHERE id = $1) AS balance_is_ledger
           FROM usage_events WHERE tenant_id = $1`,
        [tenantId],
      )
    ).rows[0];
  const start = Date.now();
  let c = await counts();
  while ((c.charged < c.events || c.pending > 0) && Date.now() - start < 120_000) {
    await sleep(250);
    c = await counts();
  }
  const lag = (
    await db.query(
      `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY x) AS p99
         FROM (SELECT extract(epoch FROM l.created_at - e.created_at) * 1000 AS x
                 FROM usage_events e JOIN ledger_entries l ON l.usage_event_id = e.id WHERE e.tenant_id = $1) s`,
      [tenantId],
    )
  ).rows[0];
  // A closed-loop window that ends cuts off the requests in flight: the gateway may have answered
  // (and charged) them without the client counting them; at most `cutOff` such.
  const extra = c.events - answered;
  return {
    answered,
    usage_events: c.events,
    left_pending: c.pending,
    charged_events: c.charged,
    ledger_charges: c.ledger_charges,
    charged_but_cut_off: extra,
    balance_is_ledger: c.balance_is_ledger,
    drain_ms: Date.now() - start,
    charge_lag_ms: { p50: Math.round(Number(lag.p50)), p99: Math.round(Number(lag.p99)) },
    every_answered_charged_once:
      c.pending === 0 && c.charged === c.events && c.ledger_charges === c.events && c.distinct_events === c.events && extra >= 0 && extra <= cutOff && c.balance_is_ledger === true,
  };
}

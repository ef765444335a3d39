import { PrismaService } from './prisma/prisma.service';

/** Admin API calls of the demo, by fetch, as a script would make them. */
export function adminClient(base: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

const PROMPTS = [
  'Summarise our refund policy in two sentences.',
  'What is the capital of Australia?',
  'Write a haiku about metered billing.',
  'Explain prefix caching to a new engineer.',
  'Translate "good morning" into French, German and Japanese.',
  'Which is larger, 2^20 or 10^6?',
  'Draft a friendly reminder that an invoice is due.',
];

export const HISTORY_DAYS = 6;
const DAY_MS = 86_400_000;

/**
 * A few days of usage for the demo tenant through the real gateway: real requests, answered and
 * recorded as any other. Their usage events are moved back `d` days (when the request started and
 * when it was recorded) before any worker charges them, so the ledger's charges, the hourly
 * rollups and the reports all see the same back-dated day. Returns the number of requests made.
 */
export async function writeDemoHistory(base: string, apiKey: string, models: string[], prisma: PrismaService): Promise<number> {
  let made = 0;
  for (let daysAgo = HISTORY_DAYS; daysAgo >= 1; daysAgo--) {
    const ids: string[] = [];
    const count = 3 + ((daysAgo * 7) % 5);
    for (let i = 0; i < count; i++) {
      const body = {
        model: models[(daysAgo + i) % models.length],
        input: `${PROMPTS[(daysAgo * 3 + i) % PROMPTS.length]} (day -${daysAgo}, #${i + 1})`,
        ...(i % 3 === 2 ? { thinking: { type: 'enabled' } } : {}),
      };
      const res = await fetch(`${base}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      if (res.status !== 200) throw new Error(`demo request: ${res.status} ${JSON.stringify(json)}`);
      ids.push(json.id);
    }
    const interval = `${daysAgo * DAY_MS} milliseconds`;
    const moved = await prisma.$executeRaw`
      UPDATE usage_events SET requested_at = requested_at - ${interval}::interval, created_at = created_at - ${interval}::interval
       WHERE response_id = ANY(${ids}::text[]) AND charged_at IS NULL`;
    if (moved !== ids.length) throw new Error(`demo history: ${ids.length - moved} request(s) were charged before they could be back-dated`);
    made += ids.length;
  }
  return made;
}

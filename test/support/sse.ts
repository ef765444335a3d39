export interface SseEvent {
  event: string;
  data: any;
}

/** The events of a server-sent event stream's text (`event:` + `data:` frames; comments skipped). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const frame of text.split('\n\n')) {
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (!data.length) continue;
    const raw = data.join('\n');
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      /* e.g. [DONE] */
    }
    events.push({ event, data: parsed });
  }
  return events;
}

/**
 * POSTs a streaming request and reads the whole stream; `onChunk` sees the text so far after each
 * chunk (to act mid-stream). Fails if the stream has not ended within `timeoutMs`.
 */
export async function readStream(
  url: string,
  token: string,
  body: unknown,
  options: { timeoutMs?: number; onChunk?: (textSoFar: string) => Promise<void> | void } = {},
): Promise<{ status: number; text: string; events: SseEvent[] }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    await options.onChunk?.(text);
  }
  return { status: res.status, text, events: parseSse(text) };
}

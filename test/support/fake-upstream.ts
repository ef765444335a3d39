import { createServer, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server';

/**
 * A fake OpenAI-compatible upstream (POST /v1/responses, plain and SSE) on 127.0.0.1:0, for
 * testing the "openai" provider. It records every request and answers as `set()` configures.
 */

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  input_tokens_details?: { cached_tokens: number };
  output_tokens_details?: { reasoning_tokens: number };
  total_tokens?: number;
}

export interface FakeBehaviour {
  /** The answer text (null: no message item). */
  text: string | null;
  /** Reasoning summary text (null: no reasoning item). */
  reasoning: string | null;
  /** Reported usage; null leaves `usage` out of the response. */
  usage: FakeUsage | null;
  /** `incomplete` answers status incomplete, reason max_output_tokens. */
  status: 'completed' | 'incomplete';
  /** HTTP status; non-2xx answers `errorBody`. */
  httpStatus: number;
  errorBody: unknown;
  /** Wait before sending the response headers (ms). */
  delayMs: number;
  /** Streaming: the text (and the reasoning) are sent in this many deltas each. */
  deltas: number;
  /** Streaming: wait between events (ms). */
  deltaDelayMs: number;
  /** Streaming: end with `data: [DONE]`. */
  sendDone: boolean;
  /** Streaming: after the deltas, send `event: error` + response.failed instead of completing. */
  streamError: string | null;
  /** Streaming: close the connection after the deltas, with no terminal event. */
  truncate: boolean;
  /** Streaming: the terminal event's response has `output: []` (some upstreams send it so). */
  omitOutputOnCompleted: boolean;
  /**
   * The output items, exactly (replaces `text` and `reasoning`): function calls, custom tool calls,
   * messages with refusals or annotations... Streamed with each kind's OpenAI events.
   */
  items: any[] | null;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: any;
  /** True when the client closed the connection before the answer was finished. */
  closedEarly: boolean;
}

export interface FakeUpstream {
  /** Base URL to configure as base_url, e.g. `http://127.0.0.1:PORT/v1`. */
  url: string;
  requests: RecordedRequest[];
  /** Replaces the behaviour (unset fields take the defaults). */
  set(behaviour: Partial<FakeBehaviour>): void;
  close(): Promise<void>;
}

export const FAKE_DEFAULTS: FakeBehaviour = {
  text: 'Hello from the fake upstream.',
  reasoning: null,
  usage: {
    input_tokens: 21,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 7,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 28,
  },
  status: 'completed',
  httpStatus: 200,
  errorBody: { error: { message: 'The server had an error.', type: 'server_error', param: null, code: null } },
  delayMs: 0,
  deltas: 3,
  deltaDelayMs: 0,
  sendDone: false,
  streamError: null,
  truncate: false,
  omitOutputOnCompleted: false,
  items: null,
};

/** A function call item for `items`. */
export const fakeFunctionCall = (name: string, args: unknown, callId = 'call_fake1') => ({
  type: 'function_call',
  id: `fc_${callId}`,
  call_id: callId,
  name,
  arguments: JSON.stringify(args),
  status: 'completed',
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `text` cut into `n` pieces (fewer when it is shorter). */
function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function responseObject(b: FakeBehaviour, model: string, id: string) {
  const output: any[] = b.items ? [...b.items] : [];
  if (b.reasoning !== null && !b.items) {
    output.push({ type: 'reasoning', id: `rs_${id}`, summary: [{ type: 'summary_text', text: b.reasoning }] });
  }
  if (b.text !== null && !b.items) {
    output.push({
      type: 'message',
      id: `msg_${id}`,
      role: 'assistant',
      status: b.status,
      content: [{ type: 'output_text', text: b.text, annotations: [] }],
    });
  }
  return {
    id: `resp_${id}`,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: b.status,
    model,
    error: null,
    incomplete_details: b.status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    output,
    ...(b.usage ? { usage: b.usage } : {}),
  };
}

type Send = (type: string, data: Record<string, unknown>, pause?: boolean) => Promise<void>;

/** One output item's OpenAI stream events: added, its kind's deltas and dones, then done. */
async function streamItem(send: Send, item: any, output_index: number, deltas: number) {
  const at = { item_id: item.id, output_index };
  const empty =
    item.type === 'message'
      ? { ...item, status: 'in_progress', content: [] }
      : item.type === 'function_call'
        ? { ...item, status: 'in_progress', arguments: '' }
        : item.type === 'custom_tool_call'
          ? { ...item, input: '' }
          : item;
  await send('response.output_item.added', { output_index, item: empty }, false);
  if (item.type === 'function_call') {
    for (const delta of split(item.arguments, deltas)) await send('response.function_call_arguments.delta', { ...at, delta });
    await send('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments }, false);
  } else if (item.type === 'custom_tool_call') {
    for (const delta of split(item.input, deltas)) await send('response.custom_tool_call_input.delta', { ...at, delta });
    await send('response.custom_tool_call_input.done', { ...at, input: item.input }, false);
  } else if (item.type === 'message') {
    for (const [content_index, part] of item.content.entries()) {
      const where = { ...at, content_index };
      if (part.type === 'refusal') {
        await send('response.content_part.added', { ...where, part: { type: 'refusal', refusal: '' } }, false);
        for (const delta of split(part.refusal, deltas)) await send('response.refusal.delta', { ...where, delta });
        await send('response.refusal.done', { ...where, refusal: part.refusal }, false);
      } else {
        await send('response.content_part.added', { ...where, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }, false);
        for (const delta of split(part.text, deltas)) await send('response.output_text.delta', { ...where, delta, logprobs: [] });
        for (const [annotation_index, annotation] of (part.annotations ?? []).entries()) {
          await send('response.output_text.annotation.added', { ...where, annotation_index, annotation }, false);
        }
        await send('response.output_text.done', { ...where, text: part.text, logprobs: [] }, false);
      }
      await send('response.content_part.done', { ...where, part }, false);
    }
  }
  await send('response.output_item.done', { output_index, item }, false);
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  let behaviour: FakeBehaviour = { ...FAKE_DEFAULTS };
  const requests: RecordedRequest[] = [];
  let counter = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: any = undefined;
    try {
      body = JSON.parse(rawBody);
    } catch {
      /* keep raw */
    }
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody, body, closedEarly: false };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.closedEarly = true;
    });
    const b = behaviour;
    const id = `fake${++counter}`;

    if (req.method !== 'POST' || req.url !== '/v1/responses') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error' } }));
      return;
    }
    if (b.delayMs > 0) await sleep(b.delayMs);
    if (res.destroyed) return;
    if (b.httpStatus < 200 || b.httpStatus >= 300) {
      res.writeHead(b.httpStatus, { 'content-type': 'application/json' }).end(JSON.stringify(b.errorBody));
      return;
    }
    const model = typeof body?.model === 'string' ? body.model : 'unknown';
    const response = responseObject(b, model, id);
    if (body?.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let seq = 0;
    const send = async (type: string, data: Record<string, unknown>, pause = true) => {
      if (res.destroyed) return;
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
      if (pause && b.deltaDelayMs > 0) await sleep(b.deltaDelayMs);
    };
    const inProgress = { ...response, status: 'in_progress', output: [], usage: null, incomplete_details: null };
    await send('response.created', { response: inProgress }, false);
    await send('response.in_progress', { response: inProgress }, false);
    res.write(': keep-alive comment\n\n');
    let index = 0;
    if (b.items) {
      for (const [i, item] of b.items.entries()) await streamItem(send, item, i, b.deltas);
    }
    if (b.reasoning !== null && !b.items) {
      const item = response.output[index];
      await send('response.output_item.added', { output_index: index, item: { ...item, summary: [] } }, false);
      await send('response.reasoning_summary_part.added', { item_id: item.id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } }, false);
      for (const delta of split(b.reasoning, b.deltas)) {
        await send('response.reasoning_summary_text.delta', { item_id: item.id, output_index: index, summary_index: 0, delta });
      }
      await send('response.reasoning_summary_text.done', { item_id: item.id, output_index: index, summary_index: 0, text: b.reasoning }, false);
      await send('response.output_item.done', { output_index: index, item }, false);
      index++;
    }
    if (b.text !== null && !b.items) {
      const item = response.output[index];
      await send('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', content: [] } }, false);
      await send('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }, false);
      for (const delta of split(b.text, b.deltas)) {
        await send('response.output_text.delta', { item_id: item.id, output_index: index, content_index: 0, delta, logprobs: [] });
      }
      await send('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text: b.text }, false);
      await send('response.output_item.done', { output_index: index, item }, false);
    }
    if (res.destroyed) return;
    if (b.truncate) {
      res.end();
      return;
    }
    if (b.streamError !== null) {
      const error = { type: 'server_error', code: 'server_error', message: b.streamError, param: null };
      await send('error', { error, code: error.code, message: error.message, param: null }, false);
      await send('response.failed', { response: { ...response, status: 'failed', error: { code: 'server_error', message: b.streamError } } }, false);
    } else {
      const terminal = b.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
      await send(terminal, { response: b.omitOutputOnCompleted ? { ...response, output: [] } : response }, false);
    }
    if (b.sendDone && !res.destroyed) res.write('data: [DONE]\n\n');
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    requests,
    set(next) {
      behaviour = { ...FAKE_DEFAULTS, ...next };
    },
    close,
  };
}

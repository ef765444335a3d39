import { createServer, IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback } from './loopback-server';

/**
 * An OpenAI-compatible upstream (POST /v1/responses, plain and SSE) on 127.0.0.1:0 that decides
 * each answer from the request, as a model does, so that client libraries can run whole tool loops
 * through Tollgate: it calls a function tool until the conversation holds a tool result, answers
 * JSON when asked for structured output, and otherwise echoes the latest tool result or user text.
 */

export interface ModelUpstreamOptions {
  /** Arguments to call each function tool with (by tool name). */
  toolArguments: Record<string, unknown>;
  /** The JSON answered when `text.format` is `json_schema` or `json_object`. */
  structured: unknown;
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: any;
}

export interface ModelUpstream {
  /** Base URL for the providers file, `http://127.0.0.1:PORT/v1`. */
  url: string;
  requests: ReceivedRequest[];
  set(options: Partial<ModelUpstreamOptions>): void;
  close(): Promise<void>;
}

type Answer = { kind: 'call'; name: string; arguments: string } | { kind: 'text'; text: string };

const USAGE = { input_tokens: 40, input_tokens_details: { cached_tokens: 0 }, output_tokens: 12, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 52 };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: any) => part?.text ?? '').join('');
  return '';
}

export function decide(body: any, options: ModelUpstreamOptions): Answer {
  const input: any[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : (body.input ?? []);
  const lastUser = input.map((item) => item.role === 'user' && (item.type ?? 'message') === 'message').lastIndexOf(true);
  const toolResult = input.slice(lastUser + 1).reverse().find((item) => item.type === 'function_call_output');
  const format = body.text?.format?.type;
  if (format === 'json_schema' || format === 'json_object') return { kind: 'text', text: JSON.stringify(options.structured) };
  const functions = (body.tools ?? []).filter((tool: any) => tool.type === 'function');
  const choice = body.tool_choice;
  const named = typeof choice === 'object' && choice?.name;
  if (functions.length && !toolResult && choice !== 'none') {
    const name = named || functions[0].name;
    return { kind: 'call', name, arguments: JSON.stringify(options.toolArguments[name] ?? {}) };
  }
  if (toolResult) return { kind: 'text', text: `The tool answered: ${textOf(toolResult.output)}` };
  return { kind: 'text', text: `You said: ${textOf(input[lastUser]?.content)}` };
}

function outputItem(answer: Answer, id: string): any {
  if (answer.kind === 'call') {
    return { type: 'function_call', id: `fc_${id}`, call_id: `call_${id}`, name: answer.name, arguments: answer.arguments, status: 'completed' };
  }
  return {
    type: 'message',
    id: `msg_${id}`,
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: answer.text, annotations: [], logprobs: [] }],
  };
}

function halves(text: string): string[] {
  const cut = Math.ceil(text.length / 2);
  return [text.slice(0, cut), text.slice(cut)].filter(Boolean);
}

/** The OpenAI stream events of one answer, with sequence numbers from 0. */
function streamEvents(response: any, answer: Answer): any[] {
  const item = response.output[0];
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null };
  const events: any[] = [
    { type: 'response.created', response: inProgress },
    { type: 'response.in_progress', response: inProgress },
  ];
  if (answer.kind === 'call') {
    events.push({ type: 'response.output_item.added', output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    for (const delta of halves(answer.arguments)) {
      events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index: 0, delta });
    }
    events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: 0, name: item.name, arguments: answer.arguments });
  } else {
    events.push({ type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    events.push({ type: 'response.content_part.added', item_id: item.id, output_index: 0, content_index: 0, part });
    for (const delta of halves(answer.text)) {
      events.push({ type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta, logprobs: [] });
    }
    events.push({ type: 'response.output_text.done', item_id: item.id, output_index: 0, content_index: 0, text: answer.text, logprobs: [] });
    events.push({ type: 'response.content_part.done', item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] });
  }
  events.push({ type: 'response.output_item.done', output_index: 0, item });
  events.push({ type: 'response.completed', response });
  return events.map((event, sequence_number) => ({ ...event, sequence_number }));
}

export async function startModelUpstream(initial: Partial<ModelUpstreamOptions> = {}): Promise<ModelUpstream> {
  let options: ModelUpstreamOptions = { toolArguments: {}, structured: {}, ...initial };
  const requests: ReceivedRequest[] = [];
  let counter = 0;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/responses') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"Not found","type":"invalid_request_error"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    requests.push({ headers: req.headers, body });
    const id = `up${++counter}`;
    const answer = decide(body, options);
    const response = {
      id: `resp_${id}`,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status: 'completed',
      model: body.model,
      error: null,
      incomplete_details: null,
      output: [outputItem(answer, id)],
      usage: USAGE,
      // Echoed as OpenAI does; clients read the format back to parse a streamed JSON answer.
      text: body.text ?? { format: { type: 'text' } },
      tools: body.tools ?? [],
      tool_choice: body.tool_choice ?? 'auto',
      parallel_tool_calls: body.parallel_tool_calls ?? true,
    };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of streamEvents(response, answer)) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    res.end();
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    requests,
    set(next) {
      options = { ...options, ...next };
    },
    close,
  };
}

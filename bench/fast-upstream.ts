/**
 * A fast fake OpenAI-compatible upstream for `npm run bench`: POST …/responses answers one fixed
 * Response at once, or with `"stream": true` a Responses event stream of STREAM_TOKENS text deltas
 * (written as fast as the socket takes them). Runs in its own process; prints its port on stdout.
 */
import { createServer, type ServerResponse } from 'node:http';

export const STREAM_TOKENS = 200;

const usage = (input: number, output: number) => ({
  input_tokens: input,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: input + output,
});
const message = (text: string) => ({ type: 'message', id: 'msg_bench', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] });
const response = (input: number, output: number, text: string) => ({
  id: 'resp_bench',
  object: 'response',
  created_at: 0,
  status: 'completed',
  model: 'bench-upstream',
  output: [message(text)],
  usage: usage(input, output),
});

/** A rough token count of the prompt as an upstream reports it (about 4 bytes a token). */
const inputTokens = (bytes: number) => Math.max(1, Math.ceil(bytes / 4));

function answer(res: ServerResponse, bytes: number) {
  const body = JSON.stringify(response(inputTokens(bytes), 8, 'Hello from the bench upstream.'));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const frame = (event: object) => `event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`;
const DELTA = ' tok';

function stream(res: ServerResponse, bytes: number) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const item = { type: 'message', id: 'msg_bench', status: 'in_progress', role: 'assistant', content: [] };
  const part = { type: 'output_text', text: '', annotations: [] };
  let seq = 0;
  const head = [
    { type: 'response.created', sequence_number: seq++, response: { ...response(0, 0, ''), status: 'in_progress', output: [], usage: null } },
    { type: 'response.output_item.added', sequence_number: seq++, output_index: 0, item },
    { type: 'response.content_part.added', sequence_number: seq++, item_id: 'msg_bench', output_index: 0, content_index: 0, part },
  ];
  res.write(head.map(frame).join(''));
  let sent = 0;
  const next = () => {
    while (sent < STREAM_TOKENS) {
      sent++;
      const ok = res.write(frame({ type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_bench', output_index: 0, content_index: 0, delta: DELTA, logprobs: [] }));
      if (!ok) return void res.once('drain', next);
    }
    const text = DELTA.repeat(STREAM_TOKENS);
    const tail = [
      { type: 'response.output_text.done', sequence_number: seq++, item_id: 'msg_bench', output_index: 0, content_index: 0, text, logprobs: [] },
      { type: 'response.content_part.done', sequence_number: seq++, item_id: 'msg_bench', output_index: 0, content_index: 0, part: { ...part, text } },
      { type: 'response.output_item.done', sequence_number: seq++, output_index: 0, item: message(text) },
      { type: 'response.completed', sequence_number: seq++, response: response(inputTokens(bytes), STREAM_TOKENS, text) },
    ];
    res.end(tail.map(frame).join(''));
  };
  next();
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    // Only the flag matters; a cheap look instead of parsing every body.
    if (/"stream"\s*:\s*true/.test(raw.toString('latin1'))) stream(res, raw.length);
    else answer(res, raw.length);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address ? address.port : 0);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

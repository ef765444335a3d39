/**
 * A fast fake OpenAI-compatible upstream for `npm run bench`: POST …/responses answers one fixed
 * Response at once. Runs in its own process; prints its port on stdout.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({
  id: 'resp_bench',
  object: 'response',
  created_at: 0,
  status: 'completed',
  model: 'bench-upstream',
  output: [{ type: 'message', id: 'msg_bench', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello from the bench upstream.', annotations: [] }] }],
  usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 8, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 20 },
});
const length = String(Buffer.byteLength(body));

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address ? address.port : 0);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

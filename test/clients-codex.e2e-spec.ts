import OpenAI from 'openai';
import { ClientsFixture, expectValidAgainst, recordingFetch, startClientsFixture, TARGETS } from './support/clients';

// The request bodies OpenAI's Codex CLI sends (built by hand: no Codex binary): streamed,
// store false, encrypted reasoning included, function tools, the whole conversation resent each
// turn with the earlier output items (reasoning, function_call) and the tool's output.

const SHELL_ARGS = { command: ['ls', '-la'], workdir: '/tmp/project' };

const shellTool = {
  type: 'function',
  name: 'shell',
  description: 'Runs a shell command and returns its output.',
  strict: false,
  parameters: {
    type: 'object',
    properties: {
      command: { type: 'array', items: { type: 'string' }, description: 'The command to execute' },
      workdir: { type: 'string', description: 'The working directory to execute the command in' },
      timeout_ms: { type: 'number', description: 'The timeout for the command in milliseconds' },
    },
    required: ['command'],
    additionalProperties: false,
  },
};

const updatePlanTool = {
  type: 'function',
  name: 'update_plan',
  description: 'Updates the task plan.',
  strict: false,
  parameters: {
    type: 'object',
    properties: {
      explanation: { type: 'string' },
      plan: {
        type: 'array',
        items: {
          type: 'object',
          properties: { step: { type: 'string' }, status: { type: 'string', enum: ['pending', 'in_progress', 'completed'] } },
          required: ['step', 'status'],
          additionalProperties: false,
        },
      },
    },
    required: ['plan'],
    additionalProperties: false,
  },
};

/** An earlier turn's reasoning, as Codex keeps it for store: false loops. */
const earlierReasoning = {
  type: 'reasoning',
  id: 'rs_0123456789abcdef0123456789abcdef',
  summary: [{ type: 'summary_text', text: 'The user wants to see the files.' }],
  encrypted_content: 'gAAAAABo-opaque-encrypted-reasoning-state-from-an-earlier-turn==',
};

function codexBody(model: string, input: unknown[]) {
  return {
    model,
    instructions: 'You are Codex, a coding agent running in a terminal. Use the shell tool to inspect the project.',
    input,
    tools: [shellTool, updatePlanTool],
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning: { effort: 'medium', summary: 'auto' },
    store: false,
    stream: true,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: '0199a3f2-7c1e-7d43-9a55-3b0e6f2c8d11',
  };
}

const userTurn = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

describe.each(TARGETS)('Codex-style streamed bodies on the $name model', ({ name, model }) => {
  let f: ClientsFixture;

  beforeAll(async () => {
    f = await startClientsFixture({ toolArguments: { shell: SHELL_ARGS } });
  });
  afterAll(() => f?.close());

  /** Streams one turn; returns its events and the output items Codex would keep. */
  async function turn(openai: OpenAI, body: object) {
    const stream = (await openai.responses.create(body as any)) as unknown as AsyncIterable<any>;
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
    return { events, items: done, completed: events.at(-1) };
  }

  it('runs a two-turn shell tool loop with store false and encrypted reasoning', async () => {
    const { key, tenantId } = await f.tenant();
    const openai = new OpenAI({ apiKey: key, baseURL: f.baseURL, maxRetries: 0, fetch: recordingFetch().fetch });
    const history: any[] = [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions>workspace-write</permissions>' }] },
      userTurn('<environment_context><cwd>/tmp/project</cwd></environment_context>'),
      userTurn('What is in this directory?'),
    ];
    const upstreamBefore = f.upstream.requests.length;

    const first = await turn(openai, codexBody(model, history));
    expect(first.events.map((e) => e.sequence_number)).toEqual(first.events.map((_, i) => i));
    expect(first.completed.type).toBe('response.completed');
    const call = first.items.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ name: 'shell', call_id: expect.any(String) });
    expectValidAgainst(shellTool.parameters, call.arguments);
    const deltas = first.events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta);
    expect(deltas.join('')).toBe(call.arguments);
    expect(first.events.find((e) => e.type === 'response.function_call_arguments.done')?.arguments).toBe(call.arguments);

    // Codex resends everything: earlier reasoning, this turn's output items, the command's output.
    history.splice(2, 0, earlierReasoning);
    const { id: _id, status: _status, ...callItem } = call;
    history.push(...first.items.filter((item) => item.type === 'reasoning'), callItem, {
      type: 'function_call_output',
      call_id: call.call_id,
      output: 'total 8\n-rw-r--r-- 1 dev dev 120 README.md\n-rw-r--r-- 1 dev dev 512 main.ts',
    });
    const secondBody = codexBody(model, history);
    const second = await turn(openai, secondBody);
    expect(second.completed.type).toBe('response.completed');
    expect(second.items.filter((item) => item.type === 'function_call')).toHaveLength(0);
    const message = second.items.find((item) => item.type === 'message');
    expect(message.content.map((part: any) => part.text).join('').length).toBeGreaterThan(0);
    expect(second.completed.response.usage.output_tokens).toBeGreaterThan(0);
    await f.expectCharged(tenantId, 2);

    if (name === 'upstream') {
      const received = f.upstream.requests.slice(upstreamBefore).map((r) => r.body);
      expect(received).toHaveLength(2);
      const sent: any = secondBody;
      for (const field of ['tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'store', 'stream', 'include', 'prompt_cache_key']) {
        expect({ field, value: received[1][field] }).toEqual({ field, value: sent[field] });
      }
      expect(received[1].model).toBe('vendor-model');
      for (const item of [earlierReasoning, callItem, history.at(-1)]) expect(received[1].input).toContainEqual(item);
      expect(JSON.stringify(received[1])).toContain(sent.instructions);
    }
  });
});

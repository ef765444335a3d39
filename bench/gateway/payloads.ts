/** The request bodies benched; the same body goes to every target. */
export interface Payload {
  name: string;
  label: string;
  body: (model: string) => string;
  streamed: boolean;
}

// "The quick brown fox jumps over the lazy dog. " is 10 tokens in o200k_base: 200 of them, 2,000.
const PROMPT_2K = 'The quick brown fox jumps over the lazy dog. '.repeat(200);

export const PAYLOADS: Payload[] = [
  { name: 'hello', label: '`input: "Hello!"`', streamed: false, body: (model) => JSON.stringify({ model, input: 'Hello!' }) },
  { name: 'prompt2k', label: '2,000-token prompt', streamed: false, body: (model) => JSON.stringify({ model, input: PROMPT_2K }) },
  {
    name: 'stream200',
    label: 'streamed answer, 200 tokens',
    streamed: true,
    body: (model) => JSON.stringify({ model, input: 'Hello!', stream: true, max_output_tokens: 256 }),
  },
];

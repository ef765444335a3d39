import { completeOutputItem, completeRelayedFields, completeTextPart } from './output-parts';

describe('output parts completed to the schema', () => {
  it('adds annotations and logprobs to an output_text part that lacks them, keeping what it has', () => {
    expect(completeTextPart({ type: 'output_text', text: 'hi' })).toEqual({ type: 'output_text', text: 'hi', annotations: [], logprobs: [] });
    const annotated = { type: 'output_text', text: 'hi', annotations: [{ type: 'url_citation', url: 'u' }], logprobs: [{ token: 'hi' }] };
    expect(completeTextPart(annotated)).toEqual(annotated);
    expect(completeTextPart({ type: 'refusal', refusal: 'no' })).toEqual({ type: 'refusal', refusal: 'no' });
  });

  it('completes a message item and leaves other items alone', () => {
    expect(completeOutputItem({ type: 'message', content: [{ type: 'output_text', text: 'a' }] })).toEqual({
      type: 'message',
      content: [{ type: 'output_text', text: 'a', annotations: [], logprobs: [] }],
    });
    const call = { type: 'function_call', name: 'f', arguments: '{}' };
    expect(completeOutputItem(call)).toBe(call);
  });

  it('completes relayed events: a part, an item, a text-done, a terminal response', () => {
    expect(completeRelayedFields('response.content_part.added', { part: { type: 'output_text', text: '' } }).part).toEqual({ type: 'output_text', text: '', annotations: [], logprobs: [] });
    expect(completeRelayedFields('response.output_text.done', { text: 'x' })).toEqual({ text: 'x', logprobs: [] });
    const done = completeRelayedFields('response.output_item.done', { item: { type: 'message', content: [{ type: 'output_text', text: 'x' }] } });
    expect((done.item as any).content[0].logprobs).toEqual([]);
    const failed = completeRelayedFields('response.failed', { response: { output: [{ type: 'message', content: [{ type: 'output_text', text: 'x' }] }] } });
    expect((failed.response as any).output[0].content[0].annotations).toEqual([]);
  });
});

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An output text part with the fields OpenAI's schema requires (`annotations`, `logprobs`), which
 * some upstreams leave out; whatever the part has is kept as it is.
 */
export function completeTextPart<T>(part: T): T {
  if (!isObject(part) || part.type !== 'output_text') return part;
  return { annotations: [], logprobs: [], ...part } as T;
}

/** An output item whose message parts are completed as completeTextPart does; other items unchanged. */
export function completeOutputItem<T>(item: T): T {
  if (!isObject(item) || item.type !== 'message' || !Array.isArray(item.content)) return item;
  return { ...item, content: item.content.map(completeTextPart) } as T;
}

/** A relayed stream event's fields, with its part, item or text-done completed the same way. */
export function completeRelayedFields(type: string, fields: Json): Json {
  if ('part' in fields) return { ...fields, part: completeTextPart(fields.part) };
  if ('item' in fields) return { ...fields, item: completeOutputItem(fields.item) };
  if (type === 'response.output_text.done' && !('logprobs' in fields)) return { ...fields, logprobs: [] };
  if (isObject(fields.response) && Array.isArray(fields.response.output)) {
    return { ...fields, response: { ...fields.response, output: fields.response.output.map(completeOutputItem) } };
  }
  return fields;
}

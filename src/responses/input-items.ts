import { invalidValue } from '../common/errors';
import { newId } from '../common/ids';
import type { PromptMessage, Role } from '../providers/provider';

/** A stored input item: always a message with text parts, and an id for input_items paging. */
export interface InputMessageItem {
  type: 'message';
  id: string;
  role: Role;
  content: Array<{ type: 'input_text' | 'output_text' | 'refusal'; text: string }>;
}

/** A stored output item (what the model produced). */
export type OutputItem =
  | {
      type: 'message';
      id: string;
      status: 'completed' | 'incomplete';
      role: 'assistant';
      content: Array<{ type: 'output_text'; text: string; annotations: unknown[]; logprobs?: unknown[] }>;
    }
  | { type: 'reasoning'; id: string; summary: Array<{ type: 'summary_text'; text: string }> };

const ROLES: readonly Role[] = ['user', 'system', 'developer', 'assistant'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates and normalises `input` (or its alias `messages`) into message items. Throws a 400 whose
 * `param` is the exact path of the first bad value, e.g. `input[1].content[0].text`.
 */
export function normalizeInput(input: unknown, messages: unknown): InputMessageItem[] {
  if (input !== undefined && input !== null && messages !== undefined && messages !== null) {
    throw invalidValue('messages', "Send either 'input' or its alias 'messages', not both.");
  }
  const param = input !== undefined && input !== null ? 'input' : 'messages';
  const value = param === 'input' ? input : messages;
  if (value === undefined || value === null) throw invalidValue('input', "Missing required parameter: 'input'.");
  if (typeof value === 'string') {
    if (!value.length) throw invalidValue(param, `'${param}' must not be empty.`);
    return [{ type: 'message', id: newId('msg'), role: 'user', content: [{ type: 'input_text', text: value }] }];
  }
  if (!Array.isArray(value)) throw invalidValue(param, `'${param}' must be a string or an array of input items.`);
  if (!value.length) throw invalidValue(param, `'${param}' must not be an empty array.`);
  const items: InputMessageItem[] = [];
  value.forEach((item, i) => {
    const item_ = normalizeItem(item, `${param}[${i}]`);
    if (item_) items.push(item_);
  });
  if (!items.length) throw invalidValue(param, `'${param}' has no message to answer.`);
  return items;
}

function normalizeItem(item: unknown, path: string): InputMessageItem | null {
  if (!isObject(item)) throw invalidValue(path, `'${path}' must be an object.`);
  const type = item.type ?? 'message';
  if (type === 'reasoning') return null; // replayed reasoning is accepted and not part of the prompt
  if (type !== 'message') {
    throw invalidValue(`${path}.type`, `Input items of type '${String(type)}' are not supported; send 'message' items.`);
  }
  const role = item.role;
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
    throw invalidValue(`${path}.role`, `'${path}.role' must be one of ${ROLES.map((r) => `'${r}'`).join(', ')}.`);
  }
  const content = normalizeContent(item.content, role as Role, `${path}.content`);
  return { type: 'message', id: typeof item.id === 'string' && item.id ? item.id : newId('msg'), role: role as Role, content };
}

function normalizeContent(content: unknown, role: Role, path: string): InputMessageItem['content'] {
  const textType = role === 'assistant' ? 'output_text' : 'input_text';
  if (typeof content === 'string') return [{ type: textType, text: content }];
  if (!Array.isArray(content)) throw invalidValue(path, `'${path}' must be a string or an array of content parts.`);
  if (!content.length) throw invalidValue(path, `'${path}' must not be empty.`);
  return content.map((part, j) => {
    const at = `${path}[${j}]`;
    if (!isObject(part)) throw invalidValue(at, `'${at}' must be an object.`);
    const allowed = role === 'assistant' ? ['output_text', 'refusal'] : ['input_text'];
    if (!allowed.includes(part.type as string)) {
      const unsupported = ['input_image', 'input_file', 'input_audio'].includes(part.type as string);
      throw invalidValue(
        `${at}.type`,
        unsupported
          ? `Content of type '${String(part.type)}' is not supported by this gateway's models.`
          : `Invalid value: '${String(part.type)}'. Supported values are: ${allowed.map((a) => `'${a}'`).join(' and ')}.`,
      );
    }
    const field = part.type === 'refusal' ? 'refusal' : 'text';
    const text = part[field];
    if (typeof text !== 'string') throw invalidValue(`${at}.${field}`, `'${at}.${field}' must be a string.`);
    return { type: part.type as 'input_text' | 'output_text' | 'refusal', text };
  });
}

/**
 * A stored input item as OpenAI's input_items list shows it: an assistant message is an output
 * message (with status, and output_text with annotations and logprobs; a refusal part as
 * `refusal`), other messages are input messages.
 */
export function toItemResource(item: InputMessageItem) {
  if (item.type !== 'message') return item;
  if (item.role !== 'assistant') return { ...item, status: 'completed' as const };
  return {
    ...item,
    status: 'completed' as const,
    content: item.content.map((part) =>
      part.type === 'refusal' ? { type: 'refusal' as const, refusal: part.text } : { type: part.type, text: part.text, annotations: [], logprobs: [] },
    ),
  };
}

/** The text a model sees for a message item. */
export const itemText = (item: { content: Array<{ text: string }> }) => item.content.map((c) => c.text).join('\n');

/** One earlier turn of a conversation, as stored. */
export interface Turn {
  input: InputMessageItem[];
  output: OutputItem[];
}

/**
 * The prompt in order: this request's instructions (previous turns' instructions are not carried
 * over, as OpenAI documents), each earlier turn's input then its answer text (reasoning is not
 * replayed), then this request's input.
 */
export function buildPrompt(instructions: string | null | undefined, history: Turn[], input: InputMessageItem[]) {
  const messages: PromptMessage[] = [];
  if (instructions) messages.push({ role: 'system', text: instructions });
  for (const turn of history) {
    for (const item of turn.input) messages.push({ role: item.role, text: itemText(item) });
    for (const item of turn.output) {
      if (item.type === 'message') messages.push({ role: 'assistant', text: itemText(item) });
    }
  }
  const newInputStart = messages.length;
  for (const item of input) messages.push({ role: item.role, text: itemText(item) });
  return { messages, newInputStart };
}

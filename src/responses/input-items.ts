import { invalidValue } from '../common/errors';
import { newId } from '../common/ids';
import type { PromptMessage, Role } from '../providers/provider';

/** A stored input message: text parts only, and an id for input_items paging. */
export interface InputMessageItem {
  type: 'message';
  id: string;
  role: Role;
  content: Array<{ type: 'input_text' | 'output_text' | 'refusal'; text: string }>;
}

/** Any other input item (a tool call or its result, reasoning, ...), kept exactly as the client sent it. */
export type PassThroughItem = Record<string, unknown> & { type: string };

export type InputItem = InputMessageItem | PassThroughItem;

export type FunctionCallItem = {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
};

export type CustomToolCallItem = { type: 'custom_tool_call'; id: string; call_id: string; name: string; input: string };

export type OutputMessageItem = {
  type: 'message';
  id: string;
  status: 'completed' | 'incomplete';
  role: 'assistant';
  content: Array<{ type: 'output_text'; text: string; annotations: unknown[]; logprobs?: unknown[] }>;
};

export type ReasoningItem = { type: 'reasoning'; id: string; summary: Array<{ type: 'summary_text'; text: string }> };

/**
 * A stored output item (what the model produced). Upstreams' items are kept as they sent them, so
 * readers must expect other types (web_search_call, ...) and extra fields.
 */
export type OutputItem = OutputMessageItem | ReasoningItem | FunctionCallItem | CustomToolCallItem;

export const isMessageItem = (item: { type: string }): item is InputMessageItem => item.type === 'message';

/** Item types accepted in `input` besides messages; they are forwarded to upstreams as sent. */
const ITEM_TYPES = new Set([
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'computer_call',
  'computer_call_output',
  'web_search_call',
  'file_search_call',
  'image_generation_call',
  'code_interpreter_call',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
  'reasoning',
  'item_reference',
  'compaction',
]);

/** The string fields each item type must carry. */
const REQUIRED_STRINGS: Record<string, string[]> = {
  function_call: ['call_id', 'name', 'arguments'],
  function_call_output: ['call_id'],
  custom_tool_call: ['call_id', 'name', 'input'],
  custom_tool_call_output: ['call_id'],
  local_shell_call: ['call_id'],
  item_reference: ['id'],
};

const TOOL_OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output', 'shell_call_output', 'apply_patch_call_output', 'computer_call_output']);

const ROLES: readonly Role[] = ['user', 'system', 'developer', 'assistant'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates and normalises `input` (or its alias `messages`) into message items. Throws a 400 whose
 * `param` is the exact path of the first bad value, e.g. `input[1].content[0].text`.
 */
export function normalizeInput(input: unknown, messages: unknown): InputItem[] {
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
  const items = value.map((item, i) => normalizeItem(item, `${param}[${i}]`));
  if (items.every((item) => item.type === 'reasoning')) throw invalidValue(param, `'${param}' has no message to answer.`);
  return items;
}

export function normalizeItem(item: unknown, path: string): InputItem {
  if (!isObject(item)) throw invalidValue(path, `'${path}' must be an object.`);
  const type = item.type ?? 'message';
  if (type !== 'message') return passThroughItem(item, String(type), path);
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

function passThroughItem(item: Record<string, unknown>, type: string, path: string): PassThroughItem {
  if (!ITEM_TYPES.has(type)) {
    throw invalidValue(`${path}.type`, `Invalid value: '${type}'. Input items of this type are not supported.`);
  }
  for (const field of REQUIRED_STRINGS[type] ?? []) {
    if (typeof item[field] !== 'string') throw invalidValue(`${path}.${field}`, `'${path}.${field}' must be a string.`);
  }
  if (TOOL_OUTPUT_TYPES.has(type) && typeof item.output !== 'string' && !Array.isArray(item.output) && !isObject(item.output)) {
    throw invalidValue(`${path}.output`, `'${path}.output' must be a string or an array of content parts.`);
  }
  return { ...item, type };
}

/** The text of a tool's output: a string, or the text parts of an array (anything else as JSON). */
function toolOutputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    return output.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : JSON.stringify(part))).join('\n');
  }
  return JSON.stringify(output ?? null);
}

/**
 * What the model sees for an item, flattened to a prompt message: a tool call is the assistant's
 * `name(input)`, a tool's result a `tool` message. Reasoning and references are not part of it.
 */
export function promptMessageOf(item: { type: string } & Record<string, unknown>): PromptMessage | null {
  switch (item.type) {
    case 'message': {
      const message = item as unknown as InputMessageItem;
      return { role: message.role, text: itemText(message) };
    }
    case 'function_call':
      return { role: 'assistant', text: `${String(item.name)}(${String(item.arguments)})` };
    case 'custom_tool_call':
      return { role: 'assistant', text: `${String(item.name)}(${String(item.input)})` };
    case 'local_shell_call':
      return { role: 'assistant', text: JSON.stringify(item.action ?? null) };
    default:
      return TOOL_OUTPUT_TYPES.has(item.type) ? { role: 'tool', text: toolOutputText(item.output) } : null;
  }
}

/** True for an item carrying a tool's result. */
export const isToolOutput = (item: { type: string }) => TOOL_OUTPUT_TYPES.has(item.type);

/** The text a model sees for a message item. */
export const itemText = (item: { content: Array<{ text: string }> }) => item.content.map((c) => c.text).join('\n');

/** One earlier turn of a conversation, as stored. */
export interface Turn {
  input: InputItem[];
  output: OutputItem[];
}

type AnyItem = { type: string } & Record<string, unknown>;

/** A client's item as an upstream gets it: messages as {role, content}, other items as sent. */
function upstreamInputItem(item: AnyItem): unknown | null {
  if (isMessageItem(item)) return { role: item.role, content: itemText(item) };
  if (item.type === 'reasoning' && typeof item.encrypted_content !== 'string') return null; // nothing an upstream without our store can use
  return item;
}

/** An earlier answer's item as an upstream gets it back: without the ids and status only our store knows. */
function upstreamHistoryItem(item: AnyItem): unknown | null {
  if (item.type === 'message') return { role: 'assistant', content: itemText(item as unknown as InputMessageItem) };
  if (item.type === 'reasoning') return typeof item.encrypted_content === 'string' ? item : null;
  const { id: _id, status: _status, ...rest } = item;
  return rest;
}

/**
 * The prompt in order: this request's instructions (previous turns' instructions are not carried
 * over, as OpenAI documents), each earlier turn's input then its answer (tool calls included;
 * reasoning is not replayed), then this request's input. `messages` is what the model reads;
 * `items` the same conversation as Responses input items, for upstreams.
 */
export function buildPrompt(instructions: string | null | undefined, history: Turn[], input: InputItem[]) {
  const messages: PromptMessage[] = [];
  const items: unknown[] = [];
  const add = (item: AnyItem, upstream: unknown | null) => {
    const message = promptMessageOf(item);
    if (message) messages.push(message);
    if (upstream !== null) items.push(upstream);
  };
  if (instructions) {
    messages.push({ role: 'system', text: instructions });
    items.push({ role: 'system', content: instructions });
  }
  for (const turn of history) {
    for (const item of turn.input as AnyItem[]) add(item, upstreamInputItem(item));
    for (const item of turn.output as unknown as AnyItem[]) add(item, upstreamHistoryItem(item));
  }
  const newInputStart = messages.length;
  for (const item of input as AnyItem[]) add(item, upstreamInputItem(item));
  return { messages, newInputStart, items };
}

import { invalidValue } from '../common/errors';
import { normalizeItem } from '../responses/input-items';

/**
 * Chat Completions tool traffic in the Responses API's terms, both ways: chat `tools`,
 * `tool_choice` and `response_format` as their Responses fields; assistant `tool_calls` and
 * `role: "tool"` messages as function_call / function_call_output items; and function_call items
 * back as `tool_calls`.
 */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text of chat content: a string, or its text parts joined. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/** One chat message as Responses input items (each checked, so errors name the chat path). */
function messageItems(m: unknown, i: number): unknown[] {
  const at = `messages[${i}]`;
  if (!isObject(m)) return [m];
  if (m.role === 'tool') {
    if (typeof m.tool_call_id !== 'string') throw invalidValue(`${at}.tool_call_id`, `'${at}.tool_call_id' must be a string.`);
    return [normalizeItem({ type: 'function_call_output', call_id: m.tool_call_id, output: contentText(m.content) }, at)];
  }
  const textType = m.role === 'assistant' ? 'output_text' : 'input_text';
  const content = Array.isArray(m.content) ? m.content.map((p) => (isObject(p) && p.type === 'text' ? { ...p, type: textType } : p)) : m.content;
  if (m.role !== 'assistant' || m.tool_calls === undefined || m.tool_calls === null) {
    const { name: _name, ...rest } = m;
    return [{ ...rest, content }];
  }
  if (!Array.isArray(m.tool_calls)) throw invalidValue(`${at}.tool_calls`, `'${at}.tool_calls' must be an array.`);
  const items: unknown[] = [];
  if (contentText(content)) items.push(normalizeItem({ role: 'assistant', content }, at));
  m.tool_calls.forEach((call, j) => items.push(toolCallItem(call, `${at}.tool_calls[${j}]`)));
  return items;
}

function toolCallItem(call: unknown, at: string): unknown {
  if (!isObject(call) || typeof call.id !== 'string') throw invalidValue(`${at}.id`, `'${at}.id' must be a string.`);
  if (call.type === 'custom' && isObject(call.custom)) {
    return normalizeItem({ type: 'custom_tool_call', call_id: call.id, name: call.custom.name, input: call.custom.input }, at);
  }
  const fn = isObject(call.function) ? call.function : {};
  if (typeof fn.name !== 'string') throw invalidValue(`${at}.function.name`, `'${at}.function.name' must be a string.`);
  if (typeof fn.arguments !== 'string') throw invalidValue(`${at}.function.arguments`, `'${at}.function.arguments' must be a string.`);
  return normalizeItem({ type: 'function_call', call_id: call.id, name: fn.name, arguments: fn.arguments }, at);
}

/** Chat messages as Responses input items. */
export function chatInputItems(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  return messages.flatMap(messageItems);
}

/** Chat tools (`{type: "function", function: {...}}`) as Responses tools (`{type: "function", name, ...}`). */
export function chatTools(tools: unknown[] | null | undefined): unknown[] | undefined {
  if (!tools) return undefined;
  return tools.map((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw invalidValue(at, `'${at}' must be an object.`);
    if (tool.type === 'function') {
      if (!isObject(tool.function)) throw invalidValue(`${at}.function`, `'${at}.function' must be an object.`);
      return { type: 'function', ...tool.function };
    }
    if (tool.type === 'custom') {
      if (!isObject(tool.custom)) throw invalidValue(`${at}.custom`, `'${at}.custom' must be an object.`);
      return { type: 'custom', ...tool.custom };
    }
    throw invalidValue(`${at}.type`, `Invalid value: '${String(tool.type)}'. Supported values are: 'function' and 'custom'.`);
  });
}

/** Chat tool_choice as the Responses one. */
export function chatToolChoice(choice: unknown): unknown {
  if (!isObject(choice)) return choice ?? undefined;
  if (choice.type === 'function' && isObject(choice.function)) return { type: 'function', name: choice.function.name };
  if (choice.type === 'custom' && isObject(choice.custom)) return { type: 'custom', name: choice.custom.name };
  if (choice.type === 'allowed_tools' && isObject(choice.allowed_tools)) {
    const { mode, tools } = choice.allowed_tools;
    return { type: 'allowed_tools', mode, tools: Array.isArray(tools) ? tools.map((t) => (isObject(t) && isObject(t.function) ? { type: 'function', name: t.function.name } : t)) : tools };
  }
  return choice;
}

/** response_format (and verbosity) as the Responses `text`. */
export function chatText(format: Record<string, unknown> | null | undefined, verbosity: string | null | undefined) {
  const text: Record<string, unknown> = {};
  if (format) {
    if (format.type === 'json_schema') {
      if (!isObject(format.json_schema)) throw invalidValue('response_format.json_schema', "'response_format.json_schema' must be an object.");
      text.format = { type: 'json_schema', ...format.json_schema };
    } else if (format.type === 'text' || format.type === 'json_object') text.format = { type: format.type };
    else throw invalidValue('response_format.type', `Invalid value: '${String(format.type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.`);
  }
  if (verbosity) text.verbosity = verbosity;
  return Object.keys(text).length ? text : undefined;
}

type Item = Record<string, unknown> & { type: string };

/** The tool calls of a response's output, as chat `tool_calls`. */
type ChatToolCall =
  | { id: unknown; type: 'function'; function: { name: unknown; arguments: unknown } }
  | { id: unknown; type: 'custom'; custom: { name: unknown; input: unknown } };

export function chatToolCalls(output: readonly Item[]): ChatToolCall[] {
  return output.flatMap((item): ChatToolCall[] => {
    if (item.type === 'function_call') return [{ id: item.call_id, type: 'function' as const, function: { name: item.name, arguments: item.arguments } }];
    if (item.type === 'custom_tool_call') return [{ id: item.call_id, type: 'custom' as const, custom: { name: item.name, input: item.input } }];
    return [];
  });
}

/** The refusal text of a response's output messages, or null. */
export function chatRefusal(output: readonly Item[]): string | null {
  const parts = output
    .filter((item) => item.type === 'message' && Array.isArray(item.content))
    .flatMap((item) => (item.content as Item[]).filter((p) => p.type === 'refusal').map((p) => String(p.refusal)));
  return parts.length ? parts.join('') : null;
}

import { invalidValue } from '../common/errors';
import type { TextFormat, ToolDefinition } from '../providers/provider';
import type { CreateResponseDto } from './dto/create-response.dto';
import { InputItem, normalizeItem } from './input-items';
import type { ResponseStore } from './response-store';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Tool types that need a name (they are called by it). */
const NAMED_TOOLS = new Set(['function', 'custom']);

/**
 * `tools`: every tool type is accepted (upstreams decide what they support); function and custom
 * tools need a `name`, a function's `parameters` must be an object. 400 naming the exact path.
 */
export function toolsOf(tools: unknown[] | null | undefined): ToolDefinition[] {
  if (!tools) return [];
  return tools.map((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw invalidValue(at, `'${at}' must be an object.`);
    if (typeof tool.type !== 'string' || !tool.type) throw invalidValue(`${at}.type`, `'${at}.type' must be a string.`);
    if (NAMED_TOOLS.has(tool.type)) {
      if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(tool.name)) {
        throw invalidValue(`${at}.name`, `'${at}.name' must be 1 to 128 letters, digits, '_', '.' or '-'.`);
      }
    }
    if (tool.type === 'function' && tool.parameters != null && !isObject(tool.parameters)) {
      throw invalidValue(`${at}.parameters`, `'${at}.parameters' must be a JSON Schema object.`);
    }
    return tool as ToolDefinition;
  });
}

/** `tool_choice`: none / auto / required, a named tool that is in `tools`, allowed_tools, or a hosted tool type. */
export function toolChoiceOf(choice: unknown, tools: ToolDefinition[]): unknown {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') {
    if (!['none', 'auto', 'required'].includes(choice)) {
      throw invalidValue('tool_choice', `Invalid value: '${choice}'. Supported values are: 'none', 'auto' and 'required'.`);
    }
    return choice;
  }
  if (!isObject(choice) || typeof choice.type !== 'string') throw invalidValue('tool_choice', "'tool_choice' must be a string or an object with a 'type'.");
  if (NAMED_TOOLS.has(choice.type)) {
    if (typeof choice.name !== 'string') throw invalidValue('tool_choice.name', "'tool_choice.name' must be a string.");
    if (!tools.some((t) => t.type === choice.type && t.name === choice.name)) {
      throw invalidValue('tool_choice', `Tool choice '${choice.name}' not found in 'tools' parameter.`);
    }
  }
  if (choice.type === 'allowed_tools' && !Array.isArray(choice.tools)) throw invalidValue('tool_choice.tools', "'tool_choice.tools' must be an array.");
  return choice;
}

/** `text.format`: text, json_object, or json_schema with a name and a schema object. */
export function textFormatOf(text: Record<string, unknown> | null | undefined): TextFormat | null {
  const format = text?.format;
  if (format === undefined || format === null) return null;
  if (!isObject(format)) throw invalidValue('text.format', "'text.format' must be an object.");
  switch (format.type) {
    case 'text':
    case 'json_object':
      return { type: format.type };
    case 'json_schema':
      if (typeof format.name !== 'string' || !format.name) throw invalidValue('text.format.name', "'text.format.name' must be a non-empty string.");
      if (!isObject(format.schema)) throw invalidValue('text.format.schema', "'text.format.schema' must be a JSON Schema object.");
      return format as TextFormat;
    default:
      throw invalidValue('text.format.type', `Invalid value: '${String(format.type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.`);
  }
}

/** Fields an upstream gets exactly as the client sent them (only those the client sent). */
const PASS_THROUGH_FIELDS = [
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_tool_calls',
  'text',
  'reasoning',
  'include',
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'service_tier',
  'user',
  'truncation',
  'top_logprobs',
] as const;

export function passThroughOf(dto: CreateResponseDto): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of PASS_THROUGH_FIELDS) {
    const value = dto[field];
    if (value !== undefined && value !== null) out[field] = value;
  }
  return out;
}

/**
 * Replaces each `item_reference` by the tenant's own stored item with that id (one query for all).
 * An id the tenant has no item for, another tenant's included, is a 400 naming its path.
 */
export async function resolveItemReferences(store: ResponseStore, tenantId: string, items: InputItem[], param: string): Promise<InputItem[]> {
  const ids = items.filter((item) => item.type === 'item_reference').map((item) => String(item.id));
  if (!ids.length) return items;
  const found = await store.findItems(tenantId, [...new Set(ids)]);
  return items.map((item, i) => {
    if (item.type !== 'item_reference') return item;
    const stored = found.get(String(item.id));
    if (!stored) throw invalidValue(`${param}[${i}].id`, `Item with id '${String(item.id)}' not found.`);
    return normalizeItem(stored, `${param}[${i}]`);
  });
}

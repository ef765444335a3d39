import { invalidValue } from '../../common/errors';
import { conforms, schemaProblem } from '../json-schema';
import type { GenerateRequest, PromptMessage, ToolDefinition } from '../provider';
import { countTokens, decodePieces, encodeTokens, MESSAGE_OVERHEAD_TOKENS } from '../tokenizer';
import { schemaInstance } from './schema-instance';

/**
 * What the simulated model answers, decided from the request alone (deterministic):
 * - a tool call when function/custom tools are offered, tool_choice allows one and the latest user
 *   turn has no tool result yet ("required" or a named tool always calls; "none" never does);
 * - else JSON valid against text.format's json_schema, or a JSON object for json_object;
 * - else plain text.
 */
export type AnswerPlan =
  | { kind: 'text' }
  | { kind: 'json_object' }
  | { kind: 'json'; text: string }
  | { kind: 'call'; tool: 'function' | 'custom'; name: string; input: string; index: number };

const ACTED_ON = new Set(['function', 'custom']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function planAnswer(request: GenerateRequest): AnswerPlan {
  const call = plannedCall(request);
  if (call) return call;
  const format = request.textFormat;
  if (format?.type === 'json_schema') return { kind: 'json', text: JSON.stringify(schemaInstance(format.schema, promptWord(request.messages))) };
  if (format?.type === 'json_object') return { kind: 'json_object' };
  return { kind: 'text' };
}

/**
 * Refuses (400 naming the field) a tool or format schema that is not a JSON Schema, or whose
 * answer the simulated model could not make valid; called before anything is reserved.
 */
export function validatePlan(request: GenerateRequest): void {
  (request.tools ?? []).forEach((tool, i) => {
    if (tool.type === 'function' && isObject(tool.parameters)) {
      const problem = schemaProblem(tool.parameters);
      if (problem) throw invalidValue(`tools[${i}].parameters`, `Invalid JSON Schema in tools[${i}].parameters: ${problem}`);
    }
  });
  const format = request.textFormat;
  if (format?.type === 'json_schema') {
    const problem = schemaProblem(format.schema);
    if (problem) throw invalidValue('text.format.schema', `Invalid JSON Schema in text.format.schema: ${problem}`);
  }
  const plan = planAnswer(request);
  if (plan.kind === 'call' && plan.tool === 'function') {
    const parameters = request.tools![plan.index].parameters;
    if (isObject(parameters) && !conforms(parameters, JSON.parse(plan.input))) {
      throw invalidValue(`tools[${plan.index}].parameters`, `The simulated model cannot produce arguments valid against tools[${plan.index}].parameters.`);
    }
  }
  if (plan.kind === 'json' && format?.type === 'json_schema' && !conforms(format.schema, JSON.parse(plan.text))) {
    throw invalidValue('text.format.schema', 'The simulated model cannot produce JSON valid against text.format.schema.');
  }
}

function plannedCall(request: GenerateRequest): AnswerPlan | null {
  const offered = (request.tools ?? []).map((tool, index) => ({ tool, index })).filter(({ tool }) => ACTED_ON.has(tool.type));
  if (!offered.length) return null;
  const choice = request.toolChoice ?? 'auto';
  let candidates = offered;
  let mode: 'auto' | 'required';
  if (choice === 'none') return null;
  if (choice === 'auto' || choice === 'required') mode = choice;
  else if (isObject(choice) && ACTED_ON.has(String(choice.type)) && typeof choice.name === 'string') {
    candidates = offered.filter(({ tool }) => tool.type === choice.type && tool.name === choice.name);
    mode = 'required';
  } else if (isObject(choice) && choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    const allowed = choice.tools.filter(isObject);
    candidates = offered.filter(({ tool }) => allowed.some((a) => a.type === tool.type && a.name === tool.name));
    mode = choice.mode === 'required' ? 'required' : 'auto';
  } else return null; // a hosted tool (web_search, ...) chosen: the simulated model has none
  if (!candidates.length) return null;
  if (mode === 'auto' && answeredByTool(request.messages)) return null;
  const { tool, index } = bestMatch(candidates, request.messages);
  const name = String(tool.name);
  if (tool.type === 'custom') return { kind: 'call', tool: 'custom', name, input: latestUserText(request.messages) || name, index };
  const parameters = isObject(tool.parameters) ? tool.parameters : { type: 'object', properties: {} };
  return { kind: 'call', tool: 'function', name, input: JSON.stringify(schemaInstance(parameters, promptWord(request.messages))), index };
}

/** True when a tool result follows the latest user message. */
function answeredByTool(messages: readonly PromptMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'tool') return true;
    if (messages[i].role === 'user') return false;
  }
  return false;
}

function latestUserText(messages: readonly PromptMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].text;
  return '';
}

const wordsOf = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** The last word of the latest user message (e.g. "Paris" in "What is the weather in Paris?"). */
export function promptWord(messages: readonly PromptMessage[]): string {
  const words = latestUserText(messages).match(/[\p{L}\p{N}][\p{L}\p{N}_'-]*/gu) ?? [];
  return words[words.length - 1] ?? 'value';
}

/** The tool whose name and description share most words with the latest user message; the first on a tie. */
function bestMatch<T extends { tool: ToolDefinition }>(candidates: T[], messages: readonly PromptMessage[]): T {
  const asked = new Set(wordsOf(latestUserText(messages)).filter((w) => w.length >= 3));
  let best = candidates[0];
  let bestScore = -1;
  for (const candidate of candidates) {
    const name = String(candidate.tool.name ?? '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ');
    const words = new Set(wordsOf(`${name} ${typeof candidate.tool.description === 'string' ? candidate.tool.description : ''}`));
    const score = [...words].filter((w) => asked.has(w)).length;
    if (score > bestScore) [best, bestScore] = [candidate, score];
  }
  return best;
}

/** `text` cut into whole-token pieces (the stream's deltas); a character split across tokens stays whole. */
export function tokenPieces(text: string): string[] {
  const pieces = [...decodePieces(encodeTokens(text))].filter((p) => p.length > 0);
  return pieces.join('') === text ? pieces : [text];
}

/**
 * What the model reads besides the messages: each function and custom tool definition, and a
 * json_schema text format, costs the tokens of its JSON plus the per-message overhead.
 */
export function definitionTokens(request: GenerateRequest): number {
  const definitions: unknown[] = (request.tools ?? []).filter((tool) => ACTED_ON.has(tool.type));
  if (request.textFormat?.type === 'json_schema') definitions.push(request.textFormat);
  return definitions.reduce<number>((sum, d) => sum + countTokens(JSON.stringify(d)) + MESSAGE_OVERHEAD_TOKENS, 0);
}

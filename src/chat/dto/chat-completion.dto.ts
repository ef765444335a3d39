import { Type } from 'class-transformer';
import { Allow, IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Max, Min, ValidateBy, ValidateNested } from 'class-validator';
import { IsOptionalNumberIn, IsOptionalTokenLimit } from '../../responses/dto/sampling';
import { ExtraBodyDto, ThinkingDto } from '../../responses/dto/vendor.dto';

/** `stop`: a string or up to 4 strings. */
const IsStopSequences = () =>
  ValidateBy({
    name: 'isStopSequences',
    validator: {
      validate: (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length <= 4 && v.every((s) => typeof s === 'string')),
      defaultMessage: () => 'stop must be a string or an array of up to 4 strings',
    },
  });

class StreamOptionsDto {
  @IsOptional()
  @IsBoolean({ message: 'stream_options.include_usage must be a boolean' })
  include_usage?: boolean;

  @IsOptional()
  @IsBoolean()
  include_obfuscation?: boolean;
}

/** POST /v1/chat/completions. `messages` is checked item by item (exact `param` paths) in chat-format.ts. */
export class ChatCompletionDto {
  @IsString({ message: 'model must be a string' })
  @IsNotEmpty({ message: 'model must not be empty' })
  model!: string;

  @Allow()
  messages?: unknown;

  @IsOptional()
  @IsBoolean({ message: 'stream must be a boolean' })
  stream?: boolean | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto | null;

  @IsOptionalTokenLimit('max_tokens')
  max_tokens?: number | null;

  @IsOptionalTokenLimit('max_completion_tokens')
  max_completion_tokens?: number | null;

  @IsOptionalNumberIn('temperature', 0, 2)
  temperature?: number | null;

  @IsOptionalNumberIn('top_p', 0, 1)
  top_p?: number | null;

  @IsOptional()
  @IsInt({ message: 'n must be 1' })
  @Min(1, { message: 'n must be 1' })
  @Max(1, { message: 'n must be 1: one choice per request' })
  n?: number | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ThinkingDto)
  thinking?: ThinkingDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ExtraBodyDto)
  extra_body?: ExtraBodyDto | null;

  @IsOptional()
  @IsIn(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'], { message: 'reasoning_effort must be one of none, minimal, low, medium, high, xhigh, max' })
  reasoning_effort?: string | null;

  // Accepted for SDK compatibility (type-checked; no effect on the simulated model).
  @IsOptional() @IsString({ message: 'user must be a string' }) user?: string | null;
  @IsOptional() @IsArray({ message: 'tools must be an array' }) tools?: unknown[] | null;
  @Allow() tool_choice?: unknown;
  @IsOptional() @IsBoolean() parallel_tool_calls?: boolean | null;
  @IsOptional() @IsInt({ message: 'seed must be an integer' }) seed?: number | null;
  @IsOptional() @IsNumber({}, { message: 'presence_penalty must be a number' }) @Min(-2) @Max(2) presence_penalty?: number | null;
  @IsOptional() @IsNumber({}, { message: 'frequency_penalty must be a number' }) @Min(-2) @Max(2) frequency_penalty?: number | null;
  @IsOptional() @IsObject({ message: 'response_format must be an object' }) response_format?: Record<string, unknown> | null;
  @IsOptional() @IsBoolean({ message: 'logprobs must be a boolean' }) logprobs?: boolean | null;
  @IsOptional() @IsBoolean() store?: boolean | null;
  @IsOptional() @IsObject() metadata?: Record<string, string> | null;
  @IsOptional() @IsString() service_tier?: string | null;
  // Chat fields the Responses API has no counterpart for: accepted, not forwarded upstream.
  @IsOptional() @IsStopSequences() stop?: string | string[] | null;
  @IsOptional() @IsObject({ message: 'logit_bias must be an object' }) logit_bias?: Record<string, number> | null;
  @IsOptional() @IsArray({ message: "modalities must be an array: ['text']" }) @IsIn(['text'], { each: true, message: "modalities must be ['text']: only text output is supported" }) modalities?: string[] | null;
  @IsOptional() @IsInt({ message: 'top_logprobs must be an integer' }) @Min(0) @Max(20) top_logprobs?: number | null;
  @IsOptional() @IsString({ message: 'prompt_cache_key must be a string' }) prompt_cache_key?: string | null;
  @IsOptional() @IsString({ message: 'safety_identifier must be a string' }) safety_identifier?: string | null;
  @IsOptional() @IsIn(['low', 'medium', 'high'], { message: 'verbosity must be one of low, medium, high' }) verbosity?: string | null;
}

import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNumberIn, IsOptionalTokenLimit } from './sampling';
import { CachingDto, ExtraBodyDto, ThinkingDto } from './vendor.dto';

/** OpenAI's metadata rule: at most 16 string pairs, keys <= 64 characters, values <= 512. */
const IsMetadata = () =>
  ValidateBy({
    name: 'isMetadata',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length <= 16 &&
        Object.entries(value).every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 512),
      defaultMessage: () => 'metadata must be an object of at most 16 string values (keys up to 64 characters, values up to 512)',
    },
  });

class ReasoningDto {
  @IsOptional()
  @IsIn(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'], { message: 'reasoning.effort must be one of none, minimal, low, medium, high, xhigh, max' })
  effort?: string;

  @IsOptional()
  @IsIn(['auto', 'concise', 'detailed'], { message: 'reasoning.summary must be one of auto, concise, detailed' })
  summary?: string;

  /** Older SDKs send generate_summary. */
  @IsOptional()
  @IsString()
  generate_summary?: string;
}

/**
 * POST /v1/responses. `input`/`messages` are checked item by item in input-items.ts, which can
 * name the exact offending path (input[2].content[0].text); everything else is checked here.
 */
export class CreateResponseDto {
  @IsString({ message: 'model must be a string' })
  @IsNotEmpty({ message: 'model must not be empty' })
  model!: string;

  @Allow()
  input?: unknown;

  /** The seed's alias of `input`. */
  @Allow()
  messages?: unknown;

  @IsOptional()
  @IsString({ message: 'instructions must be a string' })
  instructions?: string | null;

  @IsOptionalNumberIn('temperature', 0, 2)
  temperature?: number | null;

  @IsOptionalNumberIn('top_p', 0, 1)
  top_p?: number | null;

  @IsOptionalTokenLimit('max_output_tokens')
  max_output_tokens?: number | null;

  @IsOptional()
  @IsBoolean({ message: 'stream must be a boolean' })
  stream?: boolean | null;

  @IsOptional()
  @IsString({ message: 'previous_response_id must be a string' })
  @IsNotEmpty({ message: 'previous_response_id must not be empty' })
  previous_response_id?: string | null;

  @IsOptional()
  @IsBoolean({ message: 'store must be a boolean' })
  store?: boolean | null;

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string> | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => CachingDto)
  caching?: CachingDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ThinkingDto)
  thinking?: ThinkingDto | null;

  @IsOptional()
  @IsInt({ message: 'expire_at must be an integer (Unix seconds)' })
  @Min(0)
  expire_at?: number | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ExtraBodyDto)
  extra_body?: ExtraBodyDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ReasoningDto)
  reasoning?: ReasoningDto | null;

  // Checked for type here; tools, tool_choice and text.format item by item in tool-fields.ts.
  @IsOptional() @IsArray({ message: 'tools must be an array' }) tools?: unknown[] | null;
  @IsOptional() @IsInt({ message: 'max_tool_calls must be an integer' }) @Min(1, { message: 'max_tool_calls must be at least 1' }) max_tool_calls?: number | null;
  @IsOptional() @IsIn(['in-memory', '24h'], { message: "prompt_cache_retention must be 'in-memory' or '24h'" }) prompt_cache_retention?: string | null;
  @Allow() tool_choice?: unknown;
  @IsOptional() @IsBoolean({ message: 'parallel_tool_calls must be a boolean' }) parallel_tool_calls?: boolean | null;
  @IsOptional() @IsObject({ message: 'text must be an object' }) text?: Record<string, unknown> | null;
  @IsOptional() @IsString({ message: 'user must be a string' }) @MaxLength(256) user?: string | null;
  @IsOptional() @IsIn(['auto', 'disabled'], { message: "truncation must be 'auto' or 'disabled'" }) truncation?: string | null;
  @IsOptional() @IsArray({ message: 'include must be an array' }) @IsString({ each: true }) include?: string[] | null;
  @IsOptional() @IsString({ message: 'service_tier must be a string' }) service_tier?: string | null;
  @IsOptional() @IsObject({ message: 'stream_options must be an object' }) stream_options?: Record<string, unknown> | null;
  @IsOptional() @IsString({ message: 'prompt_cache_key must be a string' }) prompt_cache_key?: string | null;
  @IsOptional() @IsString({ message: 'safety_identifier must be a string' }) safety_identifier?: string | null;
  @IsOptional() @IsBoolean({ message: 'background must be a boolean' }) background?: boolean | null;
  @IsOptional() @IsInt({ message: 'top_logprobs must be an integer' }) @Min(0) @Max(20) top_logprobs?: number | null;
}

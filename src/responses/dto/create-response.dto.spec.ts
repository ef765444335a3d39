import { ArgumentMetadata } from '@nestjs/common';
import type { ApiError } from '../../common/api-error';
import { DomainError } from '../../common/errors';
import { toApiError } from '../../common/openai-error.filter';
import { apiValidationPipe } from '../../common/validation';
import { CreateResponseDto } from './create-response.dto';

const pipe = apiValidationPipe();
const meta: ArgumentMetadata = { type: 'body', metatype: CreateResponseDto };
const validate = (body: Record<string, unknown>) => pipe.transform({ model: 'm', input: 'x', ...body }, meta);

async function errorOf(body: Record<string, unknown>): Promise<ApiError> {
  try {
    await validate(body);
  } catch (err) {
    if (err instanceof DomainError) return toApiError(err);
    throw err;
  }
  throw new Error('accepted');
}

describe('CreateResponseDto validation', () => {
  it('accepts a full, valid request and keeps its values', async () => {
    const dto = await validate({
      instructions: 'hi',
      temperature: 0,
      top_p: 1,
      max_output_tokens: 16,
      stream: false,
      previous_response_id: 'resp_1',
      store: true,
      metadata: { k: 'v' },
      caching: { type: 'enabled', prefix: false },
      thinking: { type: 'auto' },
      extra_body: { caching: { type: 'disabled' }, thinking: { type: 'enabled' }, expire_at: 1 },
      reasoning: { effort: 'low', summary: 'auto' },
      tools: [],
      parallel_tool_calls: true,
      text: { format: { type: 'text' } },
      user: 'u',
      truncation: 'auto',
      include: ['reasoning.encrypted_content'],
    });
    expect(dto).toBeInstanceOf(CreateResponseDto);
    expect(dto.temperature).toBe(0);
    expect(dto.extra_body.thinking.type).toBe('enabled');
  });

  it('accepts nulls for optional fields, as SDKs send them', async () => {
    await expect(validate({ instructions: null, temperature: null, max_output_tokens: null, metadata: null })).resolves.toBeDefined();
  });

  it.each([
    [{ model: 5 }, 'model'],
    [{ model: '' }, 'model'],
    [{ temperature: 2.01 }, 'temperature'],
    [{ temperature: -0.1 }, 'temperature'],
    [{ temperature: '1' }, 'temperature'],
    [{ top_p: -1 }, 'top_p'],
    [{ max_output_tokens: 0 }, 'max_output_tokens'],
    [{ max_output_tokens: '16' }, 'max_output_tokens'],
    [{ max_output_tokens: 1_000_001 }, 'max_output_tokens'],
    [{ stream: 1 }, 'stream'],
    [{ store: 'true' }, 'store'],
    [{ instructions: 3 }, 'instructions'],
    [{ previous_response_id: '' }, 'previous_response_id'],
    [{ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    [{ metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
    [{ metadata: { k: 'v'.repeat(513) } }, 'metadata'],
    [{ caching: { type: 'maybe' } }, 'caching.type'],
    [{ caching: { prefix: 'yes' } }, 'caching.prefix'],
    [{ thinking: {} }, 'thinking.type'],
    [{ extra_body: { caching: { type: 1 } } }, 'extra_body.caching.type'],
    [{ extra_body: { expire_at: 'soon' } }, 'extra_body.expire_at'],
    [{ reasoning: { effort: 'huge' } }, 'reasoning.effort'],
    [{ tools: {} }, 'tools'],
    [{ truncation: 'sometimes' }, 'truncation'],
    [{ unknown_field: 1 }, 'unknown_field'],
    [{ caching: { type: 'enabled', extra: 1 } }, 'caching.extra'],
  ])('refuses %p naming %s', async (body, param) => {
    const err = await errorOf(body);
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.type).toBe('invalid_request_error');
    expect(err.code).toBe(param.includes('unknown') || param.endsWith('extra') ? 'unknown_parameter' : 'invalid_value');
  });
});

import type { ArgumentMetadata } from '@nestjs/common';
import { DomainError } from '../../common/errors';
import { toApiError } from '../../common/openai-error.filter';
import { apiValidationPipe } from '../../common/validation';
import { CreateApiKeyDto } from './api-key.dto';
import { PutModelDto } from './model.dto';
import { CreateTenantDto, CreditDto, LedgerQueryDto, UpdateTenantDto } from './tenant.dto';
import { isIsoTimestamp } from './validators';

const pipe = apiValidationPipe();
const run = (metatype: ArgumentMetadata['metatype'], value: unknown, type: ArgumentMetadata['type'] = 'body') =>
  pipe.transform(value, { type, metatype });

async function rejection(metatype: ArgumentMetadata['metatype'], value: unknown, type: ArgumentMetadata['type'] = 'body') {
  try {
    await run(metatype, value, type);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return toApiError(err);
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe('CreateTenantDto', () => {
  it.each([
    { name: 'Acme' },
    { name: 'Acme', credits: '10.00' },
    { name: 'n'.repeat(200), credits: '0.000000000000000001' },
    { name: 'Zero', credits: '0' },
    { name: 'Zero', credits: '0.000' },
  ])('accepts %j', async (body) => {
    await expect(run(CreateTenantDto, body)).resolves.toEqual(body);
  });

  it.each<[unknown, string]>([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: ' \t' }, 'name'],
    [{ name: 5 }, 'name'],
    [{ name: 'n'.repeat(201) }, 'name'],
    [{ name: 'tab\there' }, 'name'],
    [{ name: 'new\nline' }, 'name'],
    [{ name: 'bell\u0007' }, 'name'],
    [{ name: 'c1\u0085' }, 'name'],
    [{ name: 'bidi\u202Eevil' }, 'name'],
    [{ name: 'sep\u2028' }, 'name'],
    [{ name: 'a', credits: 10 }, 'credits'],
    [{ name: 'a', credits: '-1' }, 'credits'],
    [{ name: 'a', credits: '-0.000000000000000001' }, 'credits'],
    [{ name: 'a', credits: '1e2' }, 'credits'],
  ])('refuses %j with param %s', async (body, param) => {
    const err = await rejection(CreateTenantDto, body);
    expect(err.status).toBe(400);
    expect(err.toBody().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param });
  });

  it('names an unknown field', async () => {
    const err = await rejection(CreateTenantDto, { name: 'a', balance: '1' });
    expect(err.toBody().error).toMatchObject({ code: 'unknown_parameter', param: 'balance' });
  });
});

describe('CreditDto', () => {
  it('accepts an amount with an optional reference', async () => {
    await expect(run(CreditDto, { amount: '5.00', reference: 'inv-1' })).resolves.toEqual({ amount: '5.00', reference: 'inv-1' });
  });

  it.each<[unknown, string]>([
    [{ amount: '-5' }, 'amount'],
    [{ amount: '0' }, 'amount'],
    [{ amount: 5 }, 'amount'],
    [{ amount: '' }, 'amount'],
    [{ amount: '1', reference: '' }, 'reference'],
    [{ amount: '1', reference: 1 }, 'reference'],
    [{ amount: '1', reference: 'r'.repeat(201) }, 'reference'],
  ])('refuses %j with param %s', async (body, param) => {
    expect((await rejection(CreditDto, body)).param).toBe(param);
  });

  it("puts the field name in quotes in the message", async () => {
    expect((await rejection(CreditDto, { amount: '-1' })).message).toMatch(/^'amount' must be a decimal string greater than 0/);
  });
});

describe('UpdateTenantDto', () => {
  it('accepts active and suspended only', async () => {
    await expect(run(UpdateTenantDto, { status: 'suspended' })).resolves.toEqual({ status: 'suspended' });
    expect((await rejection(UpdateTenantDto, { status: 'closed' })).param).toBe('status');
  });
});

describe('LedgerQueryDto', () => {
  it('accepts strings as they come from a query string', async () => {
    const query = { from: '2025-01-01T00:00:00Z', to: '2025-02-01', limit: '1000', after: 'x' };
    await expect(run(LedgerQueryDto, query, 'query')).resolves.toEqual(query);
  });

  it.each<[unknown, string]>([
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: '-1' }, 'limit'],
    [{ limit: '10abc' }, 'limit'],
    [{ from: 'monday' }, 'from'],
    [{ to: '2025-02-30T00:00:00Z' }, 'to'],
    [{ cursor: 'x' }, 'cursor'],
  ])('refuses %j with param %s', async (query, param) => {
    expect((await rejection(LedgerQueryDto, query, 'query')).param).toBe(param);
  });
});

describe('CreateApiKeyDto', () => {
  it('accepts no body at all', async () => {
    await expect(run(CreateApiKeyDto, undefined)).resolves.toEqual({});
  });

  it('refuses a non-string name', async () => {
    expect((await rejection(CreateApiKeyDto, { name: ['a'] })).param).toBe('name');
  });

  it.each(['', ' ', 'ci\r\n', 'del\u007f', 'k'.repeat(201)])('refuses the name %j', async (name) => {
    expect((await rejection(CreateApiKeyDto, { name })).param).toBe('name');
  });

  it('accepts a printable unicode name', async () => {
    await expect(run(CreateApiKeyDto, { name: 'CI — Zürich 👩‍💻' })).resolves.toEqual({ name: 'CI — Zürich 👩‍💻' });
  });
});

describe('PutModelDto', () => {
  const good = { provider: 'simulated', input_price: '0.25', output_price: '2.00' };

  it.each([good, { ...good, cached_input_price: '0', upstream_model: 'gpt-x', effective_from: '2025-01-01T00:00:00.000Z' }, { ...good, upstream_model: null }])(
    'accepts %j',
    async (body) => {
      await expect(run(PutModelDto, body)).resolves.toEqual(body);
    },
  );

  it.each<[unknown, string]>([
    [{ ...good, provider: undefined }, 'provider'],
    [{ ...good, provider: '' }, 'provider'],
    [{ ...good, input_price: '-0.25' }, 'input_price'],
    [{ ...good, input_price: '0.0000000001' }, 'input_price'],
    [{ ...good, input_price: '.5' }, 'input_price'],
    [{ ...good, output_price: 2 }, 'output_price'],
    [{ ...good, output_price: undefined }, 'output_price'],
    [{ ...good, cached_input_price: 'ten percent' }, 'cached_input_price'],
    [{ ...good, effective_from: 'tomorrow' }, 'effective_from'],
    [{ ...good, effective_from: '2025-W01' }, 'effective_from'],
    [{ ...good, upstream_model: '' }, 'upstream_model'],
  ])('refuses %j with param %s', async (body, param) => {
    expect((await rejection(PutModelDto, JSON.parse(JSON.stringify(body)))).param).toBe(param);
  });
});

describe('isIsoTimestamp', () => {
  it.each(['2025-01-01', '2025-01-01T00:00:00Z', '2025-06-30T23:59:59.999+02:00'])('accepts %s', (v) => expect(isIsoTimestamp(v)).toBe(true));
  it.each(['', 'now', '2025-02-29T00:00:00Z', '2025-W01-1', 1700000000000, null])('refuses %p', (v) => expect(isIsoTimestamp(v)).toBe(false));
});

import { DomainError, ErrorCode } from './domain-error';
import { toApiError } from './openai-error.filter';

describe('toApiError for domain errors', () => {
  // What clients have always received for each code: status, error type, OpenAI code, fixed headers.
  const expected: Record<ErrorCode, [number, string, string, Record<string, string>?]> = {
    [ErrorCode.InvalidValue]: [400, 'invalid_request_error', 'invalid_value'],
    [ErrorCode.UnknownParameter]: [400, 'invalid_request_error', 'unknown_parameter'],
    [ErrorCode.PreviousResponseNotFound]: [400, 'invalid_request_error', 'previous_response_not_found'],
    [ErrorCode.InvalidApiKey]: [401, 'invalid_request_error', 'invalid_api_key'],
    [ErrorCode.NotFound]: [404, 'invalid_request_error', 'not_found'],
    [ErrorCode.ModelNotFound]: [404, 'invalid_request_error', 'model_not_found'],
    [ErrorCode.ModelNotPriced]: [400, 'invalid_request_error', 'model_not_priced'],
    [ErrorCode.ModelNotAllowed]: [403, 'invalid_request_error', 'model_not_allowed'],
    [ErrorCode.BudgetExceeded]: [429, 'insufficient_quota', 'budget_exceeded', { 'x-should-retry': 'false' }],
    [ErrorCode.Conflict]: [409, 'invalid_request_error', 'conflict'],
    [ErrorCode.InvoiceNotReady]: [409, 'invalid_request_error', 'invoice_not_ready'],
    [ErrorCode.InsufficientQuota]: [429, 'insufficient_quota', 'insufficient_quota', { 'x-should-retry': 'false' }],
    [ErrorCode.RateLimited]: [429, 'rate_limit_exceeded', 'rate_limit_exceeded'],
    [ErrorCode.UpstreamError]: [502, 'server_error', 'upstream_error'],
    [ErrorCode.ServiceUnavailable]: [503, 'server_error', 'service_unavailable'],
    [ErrorCode.UpstreamTimeout]: [504, 'server_error', 'upstream_timeout'],
  };

  it.each(Object.values(ErrorCode))('maps %s to its status, type and code', (code) => {
    const [status, type, wireCode, headers = {}] = expected[code];
    const wire = toApiError(new DomainError(code, 'What happened.', { param: 'field' }));
    expect({ status: wire.status, headers: wire.headers }).toEqual({ status, headers });
    expect(wire.toBody()).toEqual({ error: { message: 'What happened.', type, param: 'field', code: wireCode } });
  });

  it('has no param unless one is given', () => {
    expect(toApiError(new DomainError(ErrorCode.NotFound, 'gone')).toBody().error.param).toBeNull();
  });

  it('sends the rate limit state, then retry-after, in that order', () => {
    const rateLimit = { 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0' };
    const wire = toApiError(new DomainError(ErrorCode.RateLimited, 'slow down', { rateLimit, retryAfterSeconds: 7 }));
    expect(Object.entries(wire.headers)).toEqual([...Object.entries(rateLimit), ['retry-after', '7']]);
  });
});

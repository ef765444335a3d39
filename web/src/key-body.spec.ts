import { keyBody } from './key-body';

describe('keyBody: what the key form sends', () => {
  it('sends only the fields the user filled', () => {
    expect(keyBody({ name: 'ci', rpm_limit: '', tpm_limit: '  ', budget_limit: '', allowed_models: '' }, false)).toEqual({ name: 'ci' });
  });

  it('whole numbers for rate limits, the typed text otherwise (the API names the field)', () => {
    expect(keyBody({ rpm_limit: '60', tpm_limit: '1.5' }, false)).toEqual({ rpm_limit: 60, tpm_limit: '1.5' });
  });

  it('budget as the exact string; allowed models as a list', () => {
    expect(keyBody({ budget_limit: '0.000000000000000001', budget_period: 'week', allowed_models: 'a, b ,,c' }, false)).toEqual({
      budget_limit: '0.000000000000000001',
      budget_period: 'week',
      allowed_models: ['a', 'b', 'c'],
    });
  });

  it('"none" removes a value when editing, and is sent as typed when creating', () => {
    expect(keyBody({ rpm_limit: 'none', budget_limit: 'None' }, true)).toEqual({ rpm_limit: null, budget_limit: null });
    expect(keyBody({ rpm_limit: 'none' }, false)).toEqual({ rpm_limit: 'none' });
  });
});

import { toApiError } from './openai-error.filter';
import { findJsonDefect, isStorableString, MAX_JSON_DEPTH } from './json-body';

const nest = (levels: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 1; i < levels; i++) v = { a: v };
  return { a: v };
};

describe('findJsonDefect', () => {
  it('accepts ordinary bodies, unicode and empty containers', () => {
    expect(findJsonDefect({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'héllo 👩‍💻 東京' }] }], n: 1, b: true, z: null, e: [], o: {} })).toBeNull();
    expect(findJsonDefect('plain')).toBeNull();
    expect(findJsonDefect(42)).toBeNull();
  });

  it.each<[unknown, string]>([
    [{ input: 'a\u0000b' }, 'input'],
    [{ input: [{ content: [{ text: 'ok' }, { text: 'x\ud800' }] }] }, 'input[0].content[1].text'],
    [{ metadata: { note: '\udc00' } }, 'metadata.note'],
    [{ metadata: { ['k\u0000']: 'v' } }, 'metadata.k\u0000'],
    [{ list: ['ok', ['ok', '\u0000']] }, 'list[1][1]'],
  ])('names the bad string in %j: %s', (body, param) => {
    const err = findJsonDefect(body);
    expect(err && toApiError(err).toBody().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param });
  });

  it('reports the first defect in document order', () => {
    expect(findJsonDefect({ a: 'ok', b: '\u0000', c: '\ud800' })?.param).toBe('b');
    expect(findJsonDefect({ ['\u0000']: 1, b: '\u0000' })?.param).toBe('\u0000');
  });

  it('names a body that is itself a bad string with no field', () => {
    expect(findJsonDefect('\u0000')?.param).toBeNull();
  });

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and refuses one more, naming where`, () => {
    expect(findJsonDefect(nest(MAX_JSON_DEPTH))).toBeNull();
    const err = findJsonDefect(nest(MAX_JSON_DEPTH + 1));
    expect(err && toApiError(err).status).toBe(400);
    expect(err?.param).toBe(Array(MAX_JSON_DEPTH).fill('a').join('.'));
  });

  it('walks a million levels without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(1_000_000) + ']'.repeat(1_000_000));
    expect(findJsonDefect(deep)?.message).toMatch(/nested too deeply/);
  });

  it('keeps well-formed surrogate pairs and refuses lone halves', () => {
    expect(isStorableString('😀')).toBe(true);
    expect(isStorableString('\ud83d')).toBe(false);
    expect(isStorableString('\ude00x')).toBe(false);
  });
});

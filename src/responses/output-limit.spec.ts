import * as tokenizer from '../providers/tokenizer';
import { OutputLimit } from './output-limit';

jest.mock('../providers/tokenizer', () => {
  const actual = jest.requireActual<typeof tokenizer>('../providers/tokenizer');
  return { ...actual, countTokens: jest.fn(actual.countTokens) };
});

const produced = (text: string) => ({ reasoningText: '', text, callText: '' });

/** Feeds the deltas until the limit says the bound is passed; the deltas taken (all of them when never). */
function cutAfter(limit: OutputLimit, deltas: string[]): number {
  let text = '';
  for (const [i, d] of deltas.entries()) {
    text += d;
    if (limit.exceededBy(d, produced(text))) return i + 1;
  }
  return deltas.length;
}

describe('OutputLimit', () => {
  beforeEach(() => jest.mocked(tokenizer.countTokens).mockClear());

  it('never counts tokens while the bytes produced stay within the bound', () => {
    const words = Array.from({ length: 50 }, () => ' word');
    expect(cutAfter(new OutputLimit(1000), words)).toBe(50);
    expect(tokenizer.countTokens).not.toHaveBeenCalled();
  });

  it('cuts at the first delta whose whole output passes the bound, exactly', () => {
    const deltas = Array.from({ length: 200 }, (_, i) => ` token${i % 7}`);
    for (const bound of [1, 5, 40, 123]) {
      let text = '';
      const expected = deltas.findIndex((d) => tokenizer.countTokens((text += d)) > bound) + 1;
      expect(cutAfter(new OutputLimit(bound), deltas)).toBe(expected);
    }
  });

  it('counts multi-byte text by its bytes first, never under the tokens', () => {
    const deltas = Array.from({ length: 60 }, () => '日本語のテキスト');
    let text = '';
    const expected = deltas.findIndex((d) => tokenizer.countTokens((text += d)) > 30) + 1;
    expect(cutAfter(new OutputLimit(30), deltas)).toBe(expected);
  });
});

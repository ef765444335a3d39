import { clearMergeCache, countTokens as libraryCount, decode, encode } from 'gpt-tokenizer';
import { scrambled } from '../../test/support/scrambled-text';
import { countingSegments, MAX_PIECE_CHARS } from './token-pieces';
import { countTokens, encodeTokens, hasMoreTokensThan, MAX_TOKEN_BYTES } from './tokenizer';

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const KIB = 1024;

const ORDINARY: Record<string, string> = {
  prose:
    'The ledger is append-only: every charge is a new entry, and the balance always equals their sum. ' +
    "Tenants don't see reservations as charges; they're held, then released when the answer is charged.\n\n" +
    'Rate limits protect capacity, while money is protected by the reservation in Postgres.',
  code: [
    '// ------------------------------------------------------------------------------------------------',
    'export async function reserve(tenantId: string, amount: Decimal): Promise<string> {',
    "  const rows = await this.prisma.$queryRaw`UPDATE tenants SET reserved = reserved + ${amount.toFixed()}`;",
    '  if (rows.length === 0) throw new ApiError(429, "insufficient_quota", { retry: false });',
    '  return rows[0].id; // 0x7fffffff, 3.14159e-10, snake_case_identifier, camelCaseIdentifier',
    '}',
  ].join('\n'),
  cjk:
    '大语言模型网关按照每个请求的实际用量计费，每一次回答都会在账本中写入一条精确的扣费记录。' +
    '東京都の天気は晴れのち曇り、午後から雨が降るでしょう。私たちはゲートウェイを作っています。' +
    '한국어 문장도 올바르게 토큰화되어야 합니다.',
  emoji: 'Deployed 🚀🚀 on Friday 😅 — the team 👩‍💻👨‍💻 celebrated 🎉 with 🍕 and ☕️. Flags: 🇫🇷🇯🇵 Family: 👨‍👩‍👧‍👦',
  thai: 'ภาษาไทยเขียนติดกันโดยไม่มีช่องว่างระหว่างคำ ประโยคยาวๆจึงเป็นชิ้นเดียว',
  whitespace: 'indented\n\t\t\tcode    with   gaps \r\n\r\n    and trailing   ',
};

/**
 * The best of a few runs, in ms: timing noise on a shared machine only ever adds time. The BPE's
 * cache is emptied first each time, or every run after the first would only look the pieces up.
 */
function fastest(run: () => void, times = 3): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    clearMergeCache();
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('countingSegments', () => {
  it.each(Object.entries(ORDINARY))('leaves ordinary %s counted and encoded exactly as the library does', (_, text) => {
    // Repeated so that the text is far longer than one piece and really goes through the scan.
    const long = Array.from({ length: 40 }, () => text).join('\n');
    for (const t of [text, long]) {
      expect(countTokens(t)).toBe(libraryCount(t, PLAIN_TEXT));
      expect(encodeTokens(t)).toEqual(encode(t, PLAIN_TEXT));
    }
  });

  it('cuts only the pieces longer than MAX_PIECE_CHARS, and the segments join back to the text', () => {
    const text = `intro words ${'x'.repeat(1000)} middle ${'😀'.repeat(300)} ${'='.repeat(500)} end`;
    const segments = countingSegments(text);
    expect(segments.join('')).toBe(text);
    for (const s of segments) {
      expect(s).not.toMatch(/[\uD800-\uDFFF]/u); // no lone surrogate: no pair cut in two
      for (const [piece] of s.matchAll(/\S+/g)) expect(piece.length).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    }
    expect(segments[0].startsWith('intro words')).toBe(true);
  });

  it('counts a long run as the sum of its chunks, the same way every time', () => {
    const run = 'a'.repeat(10 * MAX_PIECE_CHARS);
    expect(countTokens(run)).toBe(10 * countTokens('a'.repeat(MAX_PIECE_CHARS)));
    const mixed = `${scrambled(5000, 'abcdefghij')} ${'\n'.repeat(700)}${scrambled(3000, '中文字符测试')}`;
    const first = countTokens(mixed);
    expect(countTokens(mixed)).toBe(first);
    expect(encodeTokens(mixed)).toHaveLength(first);
    expect(decode(encodeTokens(mixed))).toBe(mixed);
  });

  it('counts 1 MiB of one letter (it took minutes before)', () => {
    const text = 'a'.repeat(1024 * KIB);
    expect(countTokens(text)).toBe((text.length / MAX_PIECE_CHARS) * countTokens('a'.repeat(MAX_PIECE_CHARS)));
  });

  // Sizes where the unsplit BPE's quadratic term dominates (a ratio near 4). CJK runs take the
  // same path as letters (one \p{L} piece) at several times the cost under Jest, so letters stand in.
  it.each([
    ['one letter', 32, (n: number) => 'a'.repeat(n)],
    ['letters with no break', 32, (n: number) => scrambled(n, 'abcdefghijklmnopqrstuvwxyz')],
    ['capitals with no break', 32, (n: number) => scrambled(n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')],
    ['punctuation', 32, (n: number) => scrambled(n, '!#$%&*+-=?@^_|~')],
    ['whitespace', 32, (n: number) => scrambled(n, ' \t')],
  ])('grows linearly on %s: four times the text takes about four times the time', (_, kib, make) => {
    const small = make(kib * KIB);
    const large = make(4 * kib * KIB);
    countTokens(small); // warm up the JIT
    const ratio = fastest(() => countTokens(large)) / Math.max(fastest(() => countTokens(small)), 0.05);
    // Linear is 4; the quadratic BPE on one piece was 16 and more. The margin absorbs a loaded machine.
    expect(ratio).toBeLessThan(8);
  });
});

describe('hasMoreTokensThan', () => {
  it('agrees with countTokens', () => {
    for (const text of ['', 'short', 'What is the capital of France and why?', 'word '.repeat(12), 'word '.repeat(13), ' '.repeat(1600)]) {
      expect(hasMoreTokensThan(text, 12)).toBe(countTokens(text) > 12);
    }
  });

  it('rests on MAX_TOKEN_BYTES being the longest token of the encoding', () => {
    let longest = 0;
    for (let token = 0; token < 199_998; token++) {
      let bytes: number;
      try {
        bytes = Buffer.byteLength(decode([token]));
      } catch {
        continue; // unused ids
      }
      longest = Math.max(longest, bytes);
    }
    expect(longest).toBe(MAX_TOKEN_BYTES);
  });
});

describe('countingSegments over long texts (matched in windows)', () => {
  it('counts ordinary text spanning many windows exactly as gpt-tokenizer does', () => {
    const text = Object.values(ORDINARY).join('\n').repeat(200); // far more than one window
    expect(text.length).toBeGreaterThan(64 * KIB);
    expect(countingSegments(text).join('')).toBe(text);
    expect(countTokens(text)).toBe(libraryCount(text, PLAIN_TEXT));
  });

  it('segments an 8 MiB run of one letter without overflowing the stack, in bounded pieces', () => {
    const text = 'a'.repeat(8 * KIB * KIB);
    const segments = countingSegments(text);
    expect(segments.join('')).toBe(text);
    expect(Math.max(...segments.map((s) => s.length))).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    expect(countTokens(text)).toBe(countTokens(text));
  });
});

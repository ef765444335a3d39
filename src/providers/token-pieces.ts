import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/cjs/encodingParams/constants';

/**
 * Longest piece handed to the BPE whole. gpt-tokenizer's BPE is quadratic in a piece's length,
 * so longer pieces (a run of one character, a word with no break, a whitespace or punctuation
 * run) are cut into chunks of this many characters. Ordinary text has no piece this long (a
 * 100-character `-----` banner line in code is among the longest), so its count is unchanged.
 */
export const MAX_PIECE_CHARS = 128;

/**
 * How much text the pre-tokenizer pattern is run over at once. One match spanning megabytes (a
 * run of one letter) overflows the regular expression engine's stack, so the text is matched in
 * windows; a window's last piece may be cut short by the window's end, so it is matched again at
 * the start of the next window. Only a piece longer than a whole window is cut at the window's
 * end, and such a piece is cut into chunks anyway.
 */
const WINDOW_CHARS = 16_384;

/**
 * `text` cut into the segments that are counted (or encoded) one by one and summed. A segment
 * ends either at a piece boundary of the o200k pre-tokenizer, where cutting changes nothing (the
 * pattern has no look-behind, and its one look-ahead, `\s+(?!\S)`, gives the same piece at the end
 * of a segment), or inside a piece longer than MAX_PIECE_CHARS, which is cut into chunks of at
 * most that many characters, never between the two halves of a surrogate pair. Pure, so every
 * thread cuts the same text the same way; linear in time and bounded in stack.
 */
export function countingSegments(text: string): string[] {
  if (text.length <= MAX_PIECE_CHARS) return [text];
  const segments: string[] = [];
  let start = 0; // start of the segment of ordinary pieces not yet emitted
  const emitLongPiece = (at: number, end: number) => {
    if (at > start) segments.push(text.slice(start, at));
    for (let i = at; i < end; ) {
      let cut = Math.min(i + MAX_PIECE_CHARS, end);
      if (cut < end && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      segments.push(text.slice(i, cut));
      i = cut;
    }
    start = end;
  };
  for (let pos = 0; pos < text.length; ) {
    const windowEnd = Math.min(pos + WINDOW_CHARS, text.length);
    const matches = [...text.slice(pos, windowEnd).matchAll(O200K_TOKEN_SPLIT_REGEX)];
    let next = windowEnd;
    for (let k = 0; k < matches.length; k++) {
      const at = pos + matches[k].index;
      const end = at + matches[k][0].length;
      if (k > 0 && k === matches.length - 1 && windowEnd < text.length) {
        next = at; // possibly cut short by the window: match it again in the next one
        break;
      }
      if (end - at > MAX_PIECE_CHARS) emitLongPiece(at, end);
    }
    pos = next;
  }
  if (start < text.length) segments.push(start === 0 ? text : text.slice(start));
  return segments;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

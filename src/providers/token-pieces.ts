import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/cjs/encodingParams/constants';

/**
 * Longest piece handed to the BPE whole. gpt-tokenizer's BPE is quadratic in a piece's length,
 * so longer pieces (a run of one character, a word with no break, a whitespace or punctuation
 * run) are cut into chunks of this many characters. Ordinary text has no piece this long (a
 * 100-character `-----` banner line in code is among the longest), so its count is unchanged.
 */
export const MAX_PIECE_CHARS = 128;

/**
 * `text` cut into the segments that are counted (or encoded) one by one and summed. A segment
 * ends either at a piece boundary of the o200k pre-tokenizer, where cutting changes nothing (the
 * pattern has no look-behind, and its one look-ahead, `\s+(?!\S)`, gives the same piece at the end
 * of a segment), or inside a piece longer than MAX_PIECE_CHARS, which is cut into chunks of at
 * most that many characters, never between the two halves of a surrogate pair. Pure, so every
 * thread cuts the same text the same way.
 */
export function countingSegments(text: string): string[] {
  if (text.length <= MAX_PIECE_CHARS) return [text];
  const segments: string[] = [];
  let start = 0; // start of the segment of ordinary pieces not yet emitted
  for (const match of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
    const piece = match[0];
    if (piece.length <= MAX_PIECE_CHARS) continue;
    const at = match.index;
    if (at > start) segments.push(text.slice(start, at));
    for (let i = at, end = at + piece.length; i < end; ) {
      let cut = Math.min(i + MAX_PIECE_CHARS, end);
      if (cut < end && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      segments.push(text.slice(i, cut));
      i = cut;
    }
    start = at + piece.length;
  }
  if (start < text.length) segments.push(start === 0 ? text : text.slice(start));
  return segments;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

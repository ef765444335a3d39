import { countTokens } from '../providers/tokenizer';

/**
 * Watches a stream's output against its bound. A token is at least one byte, so the bytes
 * produced bound the tokens from above: the tokenizer is not needed (nor loaded) until the bytes
 * pass the bound. From then on each delta is counted on its own, which overestimates a little
 * (tokens can merge across deltas), so the exact count of the whole output is taken only when
 * that estimate passes the bound.
 */
export class OutputLimit {
  private estimate = 0;
  private counting = false;

  constructor(private readonly bound: number) {}

  exceededBy(delta: string, produced: { reasoningText: string; text: string; callText: string }): boolean {
    this.estimate += this.counting ? countTokens(delta) : Buffer.byteLength(delta, 'utf8');
    if (this.estimate <= this.bound) return false;
    this.counting = true;
    this.estimate = countTokens(produced.reasoningText) + countTokens(produced.text) + countTokens(produced.callText);
    return this.estimate > this.bound;
  }
}

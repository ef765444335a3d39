/** Compares two decimal strings exactly ("-1.5" < "0.25"), with no float in between. */
export function compareDecimal(a: string, b: string): number {
  const neg = (s: string) => s.startsWith('-');
  if (neg(a) !== neg(b)) return neg(a) ? -1 : 1;
  const sign = neg(a) ? -1 : 1;
  const [ai, af = ''] = a.replace(/^[-+]/, '').split('.');
  const [bi, bf = ''] = b.replace(/^[-+]/, '').split('.');
  const ia = ai.replace(/^0+(?=\d)/, '');
  const ib = bi.replace(/^0+(?=\d)/, '');
  if (ia.length !== ib.length) return sign * (ia.length < ib.length ? -1 : 1);
  const len = Math.max(af.length, bf.length);
  const fa = ia + af.padEnd(len, '0');
  const fb = ib + bf.padEnd(len, '0');
  return fa === fb ? 0 : sign * (fa < fb ? -1 : 1);
}

/** For charts only: a decimal string as a float (charts may round). */
export const approx = (s: string | null | undefined): number => (s ? Number(s) : 0);

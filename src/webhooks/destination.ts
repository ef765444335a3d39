import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** IPv4 ranges no webhook may reach: this network, private, shared (CGNAT), loopback, link-local, reserved, multicast, broadcast. */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/** IPv6 ranges: unspecified, loopback, unique-local, link-local, site-local, multicast, documentation. */
const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
];

function v4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** The 128-bit value of an IPv6 address (with "::" and a trailing dotted IPv4 part allowed). */
function v6ToBigInt(ip: string): bigint {
  let text = ip.toLowerCase().split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4ToBigInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const groups = tail === null ? headParts : [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

const inRange = (value: bigint, base: bigint, prefix: number, bits: number) => value >> BigInt(bits - prefix) === base >> BigInt(bits - prefix);

const V4_MAPPED = v6ToBigInt('::ffff:0:0');
const NAT64 = v6ToBigInt('64:ff9b::');

/**
 * True when `ip` (an IPv4 or IPv6 literal) is private, loopback, link-local or otherwise not a
 * public unicast address. IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are
 * judged by the IPv4 address they carry.
 */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip.split('%')[0]);
  if (family === 4) {
    const v = v4ToBigInt(ip);
    return v === 0xffffffffn || BLOCKED_V4.some(([base, prefix]) => inRange(v, v4ToBigInt(base), prefix, 32));
  }
  if (family !== 6) return true;
  const v = v6ToBigInt(ip);
  if (inRange(v, V4_MAPPED, 96, 128) || inRange(v, NAT64, 96, 128)) {
    const v4 = v & 0xffffffffn;
    return isPrivateAddress([24n, 16n, 8n, 0n].map((s) => String((v4 >> s) & 0xffn)).join('.'));
  }
  return BLOCKED_V6.some(([base, prefix]) => inRange(v, v6ToBigInt(base), prefix, 128));
}

/** Why a webhook URL is refused, or null when it is acceptable (http or https, with a host, no credentials). */
export function urlProblem(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 2000) return 'url must be an http:// or https:// URL of at most 2000 characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `url must use http or https, not ${url.protocol.replace(':', '')}`;
  if (!url.hostname) return 'url must name a host';
  if (url.username || url.password) return 'url must not carry credentials; the signature authenticates the sender';
  return null;
}

/** The URL's host as an IP literal (brackets of IPv6 removed), or null for a name. */
export function literalHost(url: URL): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? host : null;
}

export type Resolver = (host: string) => Promise<string[]>;

/** The most an admin request waits for a name to resolve. */
const RESOLVE_TIMEOUT_MS = 5000;

export const systemResolver: Resolver = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('DNS timed out'), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([lookup(host, { all: true, verbatim: true }), timeout])).map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Null when the URL's destination is public (every address its name resolves to), else why not.
 * Checked when an endpoint is created; delivery checks each address it connects to again.
 */
export async function destinationProblem(url: URL, resolve: Resolver = systemResolver): Promise<string | null> {
  const literal = literalHost(url);
  const host = literal ?? url.hostname;
  let addresses: string[];
  try {
    addresses = literal ? [literal] : await resolve(host);
  } catch (err) {
    return `url's host '${host}' does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) return `url's host '${host}' is a private, loopback or link-local address (${blocked}); set WEBHOOK_ALLOW_PRIVATE=true to allow it`;
  return addresses.length ? null : `url's host '${host}' does not resolve`;
}

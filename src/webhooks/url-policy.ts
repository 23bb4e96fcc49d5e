import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';

/**
 * Where webhooks may be sent. A webhook URL is chosen by an API client but
 * fetched by the server, so without these rules it would let a client reach
 * the server's own network (SSRF): loopback admin ports, cloud metadata
 * endpoints, private services. Rules are checked on the resolved addresses,
 * at subscribe time and again at delivery time, and the delivery connects to
 * the address that was checked (see `delivery.ts`).
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to every address it has; injectable so tests need no DNS or /etc/hosts. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

import { MAX_WEBHOOK_URL_LENGTH } from '../contract/webhooks.js';

// Special-purpose ranges (IANA IPv4/IPv6 special-purpose registries) that are never a public receiver.
const BLOCKED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const BLOCKED_V6: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  // Forms that embed an IPv4 address (mapped, compatible, translated, NAT64, 6to4, Teredo) are judged by
  // embeddedIPv4 below; the local-use NAT64 prefix may embed it anywhere (RFC 6052), so it is refused whole.
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const v4Rules = BLOCKED_V4.map(([network, prefix, reason]) => {
  const list = new net.BlockList();
  list.addSubnet(network, prefix, 'ipv4');
  return { list, reason };
});
const v6Rules = BLOCKED_V6.map(([network, prefix, reason]) => {
  const list = new net.BlockList();
  list.addSubnet(network, prefix, 'ipv6');
  return { list, reason };
});

function expandIPv6(address: string): number[] {
  // Expands to eight 16-bit groups; an embedded dotted quad becomes the last two.
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
}

function quad(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

export type EmbeddingForm = 'IPv4-mapped' | 'IPv4-compatible' | 'IPv4-translated' | 'NAT64' | '6to4' | 'Teredo';

/**
 * The IPv4 addresses an IPv6 address carries, and the form it carries them
 * in; undefined for an IPv6 address that embeds none. Every such form ends
 * at an IPv4 host, so the policy judges that host, not the IPv6 spelling.
 */
export function embeddedIPv4(address: string): { form: EmbeddingForm; ipv4: string[] } | undefined {
  const g = expandIPv6(address);
  const zero = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  // ::ffff:a.b.c.d (RFC 4291 2.5.5.2)
  if (zero(0, 5) && g[5] === 0xffff) return { form: 'IPv4-mapped', ipv4: [quad(g[6]!, g[7]!)] };
  // ::ffff:0:a.b.c.d (RFC 2765 SIIT)
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return { form: 'IPv4-translated', ipv4: [quad(g[6]!, g[7]!)] };
  // ::a.b.c.d, deprecated (RFC 4291 2.5.5.1); :: and ::1 are matched as unspecified and loopback before.
  if (zero(0, 6)) return { form: 'IPv4-compatible', ipv4: [quad(g[6]!, g[7]!)] };
  // 64:ff9b::a.b.c.d, the well-known NAT64 prefix (RFC 6052)
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return { form: 'NAT64', ipv4: [quad(g[6]!, g[7]!)] };
  // 2002:aabb:ccdd::/48 (RFC 3056)
  if (g[0] === 0x2002) return { form: '6to4', ipv4: [quad(g[1]!, g[2]!)] };
  // 2001:0:server:flags:port:client, the client address and port obfuscated by XOR (RFC 4380 section 4)
  if (g[0] === 0x2001 && g[1] === 0) {
    return { form: 'Teredo', ipv4: [quad(g[2]!, g[3]!), quad(g[6]! ^ 0xffff, g[7]! ^ 0xffff)] };
  }
  return undefined;
}

// These reach their IPv4 host only through the local stack's translation, never as IPv6 destinations on the
// internet: a client has no reason to write them but to smuggle an IPv4 target, so they are refused even when
// the embedded address is public.
const HOST_INTERNAL_FORMS: ReadonlySet<EmbeddingForm> = new Set(['IPv4-mapped', 'IPv4-compatible', 'IPv4-translated']);

/**
 * Why an IP address is not an acceptable webhook target, or undefined when
 * it is a public unicast address. `address` must be a literal (no brackets,
 * no zone id).
 */
export function blockedAddressReason(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 4) {
    if (address === '255.255.255.255') return 'broadcast';
    return v4Rules.find((rule) => rule.list.check(address, 'ipv4'))?.reason;
  }
  if (family === 6) {
    const direct = v6Rules.find((rule) => rule.list.check(address, 'ipv6'))?.reason;
    if (direct) return direct;
    const embedded = embeddedIPv4(address);
    if (!embedded) return undefined;
    for (const ipv4 of embedded.ipv4) {
      const inner = blockedAddressReason(ipv4);
      if (inner) return `${embedded.form} of ${inner}`;
    }
    return HOST_INTERNAL_FORMS.has(embedded.form) ? `${embedded.form} (write the IPv4 address)` : undefined;
  }
  return 'not an IP address';
}

/**
 * Reads a URL host as an IP literal the way the WHATWG URL parser (and so
 * every HTTP client) does: IPv4 in any of its numeric spellings
 * (`0x7f000001`, `2130706433`, `017700000001`, `127.1`) or a bracketed IPv6.
 * Returns the canonical literal, or undefined for a domain name.
 */
export function hostToIpLiteral(host: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}/`).hostname;
  } catch {
    return undefined;
  }
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) ? bare : undefined;
}

const withArticle = (reason: string) => `${/^[aeiouAEIOU]/.test(reason) ? 'an' : 'a'} ${reason}`;

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * The static part of the policy, before any DNS: the URL parses, is https
 * (http only when private targets are allowed), carries no credentials, and
 * its host is not an IP literal or name that can only be local.
 */
export function checkWebhookUrlSyntax(raw: string, allowPrivate: boolean): UrlCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH)
    return { ok: false, reason: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    return { ok: false, reason: 'must use https' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not contain credentials' };
  if (url.hash !== '') return { ok: false, reason: 'must not contain a fragment' };
  if (allowPrivate) return { ok: true, url };
  const literal = hostToIpLiteral(url.hostname);
  if (literal !== undefined) {
    const reason = blockedAddressReason(literal);
    return reason ? { ok: false, reason: `must not target ${withArticle(reason)} address` } : { ok: true, url };
  }
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  // RFC 6761: localhost names are loopback whatever DNS says; single-label names only resolve on a local network.
  if (name === 'localhost' || name.endsWith('.localhost'))
    return { ok: false, reason: 'must not target a loopback address' };
  if (!name.includes('.')) return { ok: false, reason: 'must have a fully qualified host name' };
  return { ok: true, url };
}

export type ResolveCheck =
  | { ok: true; addresses: ResolvedAddress[] }
  | { ok: false; kind: 'unresolved' | 'blocked'; reason: string };

/**
 * Resolves the URL's host and checks every address it resolves to (one bad
 * address is enough to refuse: the client decides which one a connection
 * uses). With private targets allowed the addresses are returned unchecked.
 * A resolver that does not answer within `timeoutMs` counts as no answer.
 */
export async function resolveWebhookTarget(
  url: URL,
  allowPrivate: boolean,
  resolve: HostResolver,
  timeoutMs: number,
): Promise<ResolveCheck> {
  const literal = hostToIpLiteral(url.hostname);
  let addresses: ResolvedAddress[];
  if (literal !== undefined) {
    addresses = [{ address: literal, family: net.isIP(literal) === 6 ? 6 : 4 }];
  } else {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((done) => {
      timer = setTimeout(() => done('timeout'), timeoutMs);
    });
    try {
      const answer = await Promise.race([resolve(url.hostname.replace(/\.$/, '')), deadline]);
      if (answer === 'timeout')
        return { ok: false, kind: 'unresolved', reason: `host did not resolve within ${timeoutMs} ms` };
      addresses = answer;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        kind: 'unresolved',
        reason: `host does not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
      };
    } finally {
      clearTimeout(timer);
    }
    if (addresses.length === 0) return { ok: false, kind: 'unresolved', reason: 'host does not resolve' };
  }
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const reason = blockedAddressReason(address);
      if (reason)
        return { ok: false, kind: 'blocked', reason: `host resolves to ${withArticle(reason)} address (${address})` };
    }
  }
  return { ok: true, addresses };
}

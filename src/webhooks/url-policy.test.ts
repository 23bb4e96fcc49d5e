import { describe, expect, it } from 'vitest';
import {
  blockedAddressReason,
  checkWebhookUrlSyntax,
  embeddedIPv4,
  hostToIpLiteral,
  resolveWebhookTarget,
  type HostResolver,
} from './url-policy.js';

const fakeDns =
  (table: Record<string, string[]>): HostResolver =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('blockedAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.100.100.200', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped of loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped of loopback'],
    ['::ffff:8.8.8.8', 'IPv4-mapped (write the IPv4 address)'],
    ['::127.0.0.1', 'IPv4-compatible of loopback'],
    ['::808:808', 'IPv4-compatible (write the IPv4 address)'],
    // The attack run's misses: IPv4-translated (RFC 2765) spellings of loopback and the metadata endpoint.
    ['::ffff:0:7f00:1', 'IPv4-translated of loopback'],
    ['::ffff:0:127.0.0.1', 'IPv4-translated of loopback'],
    ['::ffff:0:a9fe:a9fe', 'IPv4-translated of link-local (cloud metadata)'],
    ['::ffff:0:808:808', 'IPv4-translated (write the IPv4 address)'],
    ['64:ff9b:1::a9fe:a9fe', 'local-use NAT64'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo of documentation'],
    ['2001:0:7f00:1:0:0:f7f7:f7f7', 'Teredo of loopback'],
    ['2001:0:808:808:0:0:5601:5601', 'Teredo of link-local (cloud metadata)'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of link-local (cloud metadata)'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:c0a8:101::1', '6to4 of private'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '93.184.216.34',
    '2606:4700:4700::1111',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2001:0:808:808:0:0:f7f7:f7f7',
  ])('accepts the public address %s', (address) => {
    expect(blockedAddressReason(address)).toBeUndefined();
  });

  it('refuses what is not an IP address', () => {
    expect(blockedAddressReason('example.com')).toBe('not an IP address');
  });
});

describe('embeddedIPv4', () => {
  // One row per form that carries an IPv4 address, each in more than one spelling.
  it.each([
    ['::ffff:169.254.169.254', 'IPv4-mapped', ['169.254.169.254']],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped', ['169.254.169.254']],
    ['::ffff:0:169.254.169.254', 'IPv4-translated', ['169.254.169.254']],
    ['::ffff:0:a9fe:a9fe', 'IPv4-translated', ['169.254.169.254']],
    ['::10.0.0.1', 'IPv4-compatible', ['10.0.0.1']],
    ['::a00:1', 'IPv4-compatible', ['10.0.0.1']],
    ['64:ff9b::10.0.0.1', 'NAT64', ['10.0.0.1']],
    ['64:ff9b::a00:1', 'NAT64', ['10.0.0.1']],
    ['2002:a00:1::', '6to4', ['10.0.0.1']],
    ['2002:a00:1:1234::5', '6to4', ['10.0.0.1']],
    // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (port and address XORed with ones).
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo', ['65.54.227.120', '192.0.2.45']],
  ])('reads %s as %s of %j', (address, form, ipv4) => {
    expect(embeddedIPv4(address)).toEqual({ form, ipv4 });
  });

  it.each(['2606:4700:4700::1111', '2001:db8::1', 'fe80::1', '64:ff9b:1::1'])('finds none in %s', (address) => {
    expect(embeddedIPv4(address)).toBeUndefined();
  });
});

describe('hostToIpLiteral', () => {
  it.each([
    ['0x7f000001', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['[::1]', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
  ])('reads %s as %s', (host, literal) => {
    expect(hostToIpLiteral(host)).toBe(literal);
  });

  it('leaves domain names alone', () => {
    expect(hostToIpLiteral('hooks.example.com')).toBeUndefined();
  });
});

describe('checkWebhookUrlSyntax', () => {
  it.each([
    'https://0x7f000001/hook',
    'https://2130706433/hook',
    'https://017700000001/hook',
    'https://127.1/hook',
    'https://127.0.0.1:8443/hook',
    'https://[::1]/hook',
    'https://[::]/hook',
    'https://0.0.0.0/hook',
    'https://0/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:a9fe:a9fe]/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/hook',
    'https://100.64.1.1/hook',
    'https://[fd12:3456::1]/hook',
    'https://[fe80::1]/hook',
    'https://localhost/hook',
    'https://LOCALHOST./hook',
    'https://api.localhost/hook',
    'https://intranet/hook',
  ])('refuses %s', (url) => {
    expect(checkWebhookUrlSyntax(url, false).ok).toBe(false);
  });

  it('refuses plain http, other schemes, credentials and junk', () => {
    expect(checkWebhookUrlSyntax('http://hooks.example.com/x', false)).toEqual({ ok: false, reason: 'must use https' });
    expect(checkWebhookUrlSyntax('ftp://hooks.example.com/x', true)).toEqual({ ok: false, reason: 'must use https' });
    expect(checkWebhookUrlSyntax('https://user:pw@hooks.example.com/x', false)).toEqual({
      ok: false,
      reason: 'must not contain credentials',
    });
    expect(checkWebhookUrlSyntax('not a url', false)).toEqual({ ok: false, reason: 'must be an absolute URL' });
    expect(checkWebhookUrlSyntax(`https://hooks.example.com/${'a'.repeat(2100)}`, false).ok).toBe(false);
  });

  it('accepts public https URLs, and private or http ones only when allowed', () => {
    expect(checkWebhookUrlSyntax('https://hooks.example.com/x?y=1', false).ok).toBe(true);
    expect(checkWebhookUrlSyntax('https://8.8.8.8/x', false).ok).toBe(true);
    expect(checkWebhookUrlSyntax('http://127.0.0.1:9999/x', true).ok).toBe(true);
    expect(checkWebhookUrlSyntax('https://localhost/x', true).ok).toBe(true);
  });
});

describe('resolveWebhookTarget', () => {
  const dns = fakeDns({
    'public.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'loopback.example.com': ['127.0.0.1'],
    'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
    'metadata.example.com': ['169.254.169.254'],
    'v6local.example.com': ['::1'],
    'mapped.example.com': ['::ffff:192.168.0.1'],
    'ula.example.com': ['fd00::5'],
    localhost: ['127.0.0.1', '::1'],
  });

  it('accepts a name whose every address is public, and returns them', async () => {
    const result = await resolveWebhookTarget(new URL('https://public.example.com/x'), false, dns, 1000);
    expect(result).toEqual({
      ok: true,
      addresses: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
    });
  });

  it.each(['loopback', 'mixed', 'metadata', 'v6local', 'mapped', 'ula'])('refuses %s.example.com', async (name) => {
    const result = await resolveWebhookTarget(new URL(`https://${name}.example.com/x`), false, dns, 1000);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^host resolves to an? .* address/);
  });

  it('refuses localhost when resolved, and a name that does not resolve', async () => {
    expect((await resolveWebhookTarget(new URL('https://localhost/x'), false, dns, 1000)).ok).toBe(false);
    expect(await resolveWebhookTarget(new URL('https://nowhere.example.com/x'), false, dns, 1000)).toEqual({
      ok: false,
      kind: 'unresolved',
      reason: 'host does not resolve (ENOTFOUND)',
    });
    const hanging: HostResolver = () => new Promise(() => undefined);
    expect(await resolveWebhookTarget(new URL('https://slow.example.com/x'), false, hanging, 50)).toEqual({
      ok: false,
      kind: 'unresolved',
      reason: 'host did not resolve within 50 ms',
    });
  });

  it('checks IP literals without DNS', async () => {
    const noDns: HostResolver = () => Promise.reject(new Error('must not resolve'));
    expect((await resolveWebhookTarget(new URL('https://0x7f000001/x'), false, noDns, 1000)).ok).toBe(false);
    expect(await resolveWebhookTarget(new URL('https://8.8.8.8/x'), false, noDns, 1000)).toEqual({
      ok: true,
      addresses: [{ address: '8.8.8.8', family: 4 }],
    });
  });

  it('returns private addresses when private targets are allowed', async () => {
    expect(await resolveWebhookTarget(new URL('http://localhost:1234/x'), true, dns, 1000)).toEqual({
      ok: true,
      addresses: [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
    });
  });
});

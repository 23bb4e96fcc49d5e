import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Webhook } from '../src/contract/webhooks.js';
import type { HostResolver } from '../src/webhooks/url-policy.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { insertFailedDelivery } from './helpers/webhooks.js';

const fakeDns: HostResolver = async (hostname) => {
  const table: Record<string, string[]> = {
    'hooks.example.com': ['93.184.216.34'],
    'other.example.com': ['93.184.216.35', '2606:2800:220:1:248:1893:25c8:1946'],
    'internal.example.com': ['10.0.0.7'],
    'metadata.example.com': ['169.254.169.254'],
    'half.example.com': ['93.184.216.36', '127.0.0.1'],
    'v6.example.com': ['fd00::1'],
    'translated.example.com': ['93.184.216.34', '::ffff:0:a9fe:a9fe'],
    localhost: ['127.0.0.1'],
  };
  const found = table[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const body = (over: Record<string, unknown> = {}) => ({
  url: 'https://hooks.example.com/customers',
  secret: 'shhh-its-a-secret',
  events: ['customer.created', 'customer.updated'],
  ...over,
});

async function storedSubscriptions(server: TestServer, organizationId: string) {
  return server.store.db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('ref')
    .execute();
}

await describeEachBackend('webhook subscriptions', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {}, { resolve: fakeDns });
  });
  afterAll(async () => server?.close());

  async function setup() {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['webhooks:manage']);
    return { org, token, base: `/organizations/${org.id}/webhooks` };
  }

  it('creates with 201, replaces with 200, lists without the secret', async () => {
    const { org, token, base } = await setup();
    // Events written before the subscription are not delivered to it: its cursor starts at the head of the log.
    await server.createCustomer(org.id);
    await server.createCustomer(org.id);

    const created = await server.request<Webhook>('PUT', `${base}/crm-sync`, { token, body: body() });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      ref: 'crm-sync',
      url: 'https://hooks.example.com/customers',
      events: ['customer.created', 'customer.updated'],
    });
    let rows = await storedSubscriptions(server, org.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      ref: 'crm-sync',
      secret: 'shhh-its-a-secret',
      cursor_sequence: 2,
      attempts: 0,
      lease_owner: null,
    });
    const { id, created_at } = rows[0]!;

    const replaced = await server.request<Webhook>('PUT', `${base}/crm-sync`, {
      token,
      body: body({ url: 'https://other.example.com/v2', secret: 'new-secret', events: ['customer-list.member-added'] }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      ref: 'crm-sync',
      url: 'https://other.example.com/v2',
      events: ['customer-list.member-added'],
    });
    rows = await storedSubscriptions(server, org.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id,
      created_at,
      secret: 'new-secret',
      url: 'https://other.example.com/v2',
      cursor_sequence: 2,
    });
    expect(rows[0]!.updated_at).toBeGreaterThan(created_at);

    const list = await server.request<Webhook[]>('GET', base, { token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { ref: 'crm-sync', url: 'https://other.example.com/v2', events: ['customer-list.member-added'] },
    ]);
    expect(list.text).not.toContain('secret');
    expect(list.headers.get('x-next-page')).toBeNull();
  });

  it('pages the list by ref with X-Next-Page', async () => {
    const { token, base } = await setup();
    for (const ref of ['c', 'a', 'b']) {
      expect((await server.request('PUT', `${base}/${ref}`, { token, body: body() })).status).toBe(201);
    }
    const first = await server.request<Webhook[]>('GET', `${base}?limit=2`, { token });
    expect(first.body.map((w) => w.ref)).toEqual(['a', 'b']);
    const next = first.headers.get('x-next-page');
    expect(next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/organizations\/.+\/webhooks\?limit=2&after=/);
    const second = await server.request<Webhook[]>('GET', next!, { token });
    expect(second.body.map((w) => w.ref)).toEqual(['c']);
    expect(second.headers.get('x-next-page')).toBeNull();
  });

  it('deletes with 204, then 404; the history goes with it', async () => {
    const { org, token, base } = await setup();
    await server.request('PUT', `${base}/gone`, { token, body: body() });
    const { id } = (await storedSubscriptions(server, org.id))[0]!;
    await insertFailedDelivery(server.store, {
      organizationId: org.id,
      subscriptionId: id,
      id: '01JDELIVERY0000000000000000',
      sequence: 1,
      eventId: '01JEVENT000000000000000000',
    });

    const deleted = await server.request('DELETE', `${base}/gone`, { token });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(await storedSubscriptions(server, org.id)).toEqual([]);
    expect(
      await server.store.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id).execute(),
    ).toEqual([]);

    const again = await server.request<{ code: string }>('DELETE', `${base}/gone`, { token });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('not_found');
    expect((await server.request('GET', `${base}/gone/deliveries`, { token })).status).toBe(404);
  });

  it('refuses unknown events, bad bodies and bad refs with 400 and stores nothing', async () => {
    const { org, token, base } = await setup();
    const cases: [string, unknown][] = [
      ['x', body({ events: ['customer.exploded'] })],
      ['x', body({ events: [] })],
      ['x', body({ events: ['customer.created', 'customer.created'] })],
      ['x', body({ events: 'customer.created' })],
      ['x', body({ secret: '' })],
      ['x', body({ extra: true })],
      ['x', { url: 'https://hooks.example.com/', events: ['customer.created'] }],
      ['bad%20ref', body()],
      ['x', body({ url: 'not a url' })],
    ];
    for (const [ref, payload] of cases) {
      const response = await server.request<{ code: string; details?: unknown[] }>('PUT', `${base}/${ref}`, {
        token,
        body: payload,
      });
      expect(response.status, JSON.stringify(payload)).toBe(400);
      expect(response.body.code).toBe('bad_request');
    }
    const unknown = await server.request<{ details: { field: string }[] }>('PUT', `${base}/x`, {
      token,
      body: body({ events: ['customer.exploded'] }),
    });
    expect(unknown.body.details[0]!.field).toBe('events.0');
    expect(await storedSubscriptions(server, org.id)).toEqual([]);
  });

  it.each([
    ['http://hooks.example.com/x', 'must use https'],
    ['https://0x7f000001/x', 'loopback'],
    ['https://2130706433/x', 'loopback'],
    ['https://017700000001/x', 'loopback'],
    ['https://127.1/x', 'loopback'],
    ['https://[::1]/x', 'loopback'],
    ['https://[::ffff:127.0.0.1]/x', 'IPv4-mapped'],
    // IPv4-translated (RFC 2765) and the other IPv6 forms that carry an IPv4 host, judged by that host.
    ['https://[::ffff:0:7f00:1]:8443/', 'IPv4-translated of loopback'],
    ['https://[::ffff:0:127.0.0.1]/', 'IPv4-translated of loopback'],
    ['https://[::ffff:0:a9fe:a9fe]/latest/meta-data/', 'IPv4-translated of link-local'],
    ['https://[64:ff9b::a9fe:a9fe]/latest/meta-data/', 'NAT64 of link-local'],
    ['https://[2002:a9fe:a9fe::1]/', '6to4 of link-local'],
    ['https://[2001:0:808:808::5601:5601]/', 'Teredo of link-local'],
    ['https://[::a00:1]/', 'IPv4-compatible of private'],
    ['https://translated.example.com/x', 'IPv4-translated of link-local (cloud metadata) address (::ffff:0:a9fe:a9fe)'],
    ['https://[::]/x', 'unspecified'],
    ['https://0.0.0.0/x', 'unspecified'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://10.1.2.3/x', 'private'],
    ['https://100.64.0.1/x', 'carrier-grade NAT'],
    ['https://[fd00::1]/x', 'unique local'],
    ['https://localhost/x', 'loopback'],
    ['https://internal.example.com/x', 'private address (10.0.0.7)'],
    ['https://metadata.example.com/x', 'link-local (cloud metadata) address (169.254.169.254)'],
    ['https://half.example.com/x', 'loopback address (127.0.0.1)'],
    ['https://v6.example.com/x', 'unique local address (fd00::1)'],
    ['https://unknown.example.com/x', 'does not resolve'],
    ['https://user:pass@hooks.example.com/x', 'credentials'],
  ])('refuses %s with 400 (%s)', async (url, reason) => {
    const { org, token, base } = await setup();
    const response = await server.request<{
      code: string;
      message: string;
      details: { field: string; message: string }[];
    }>('PUT', `${base}/ssrf`, { token, body: body({ url }) });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('bad_request');
    expect(response.body.details[0]!.field).toBe('url');
    expect(response.body.details[0]!.message).toContain(reason);
    expect(await storedSubscriptions(server, org.id)).toEqual([]);
  });

  it('refuses to replace a subscription with a private URL and keeps the old one', async () => {
    const { org, token, base } = await setup();
    await server.request('PUT', `${base}/keep`, { token, body: body() });
    const response = await server.request('PUT', `${base}/keep`, {
      token,
      body: body({ url: 'https://0x7f000001/', secret: 'other' }),
    });
    expect(response.status).toBe(400);
    expect(await storedSubscriptions(server, org.id)).toMatchObject([
      { url: 'https://hooks.example.com/customers', secret: 'shhh-its-a-secret' },
    ]);
  });

  it('needs the webhooks:manage scope and a granted organization', async () => {
    const { org, base } = await setup();
    const readOnly = await server.createToken([org.id], ['customers:read', 'customers:write']);
    const forbidden = await server.request<{ code: string }>('PUT', `${base}/x`, { token: readOnly, body: body() });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');
    expect((await server.request('GET', base, { token: readOnly })).status).toBe(403);
    expect((await server.request('PUT', `${base}/x`, { token: null, body: body() })).status).toBe(401);

    const other = await server.createOrganization();
    const otherToken = await server.createToken([other.id], ['webhooks:manage']);
    const hidden = await server.request<{ code: string }>('PUT', `${base}/x`, { token: otherToken, body: body() });
    expect(hidden.status).toBe(404);
    expect(hidden.body.code).toBe('not_found');
    expect(await storedSubscriptions(server, org.id)).toEqual([]);
  });

  it('answers 404 for retrying an unknown delivery or on an unknown webhook', async () => {
    const { token, base } = await setup();
    await server.request('PUT', `${base}/r`, { token, body: body() });
    const unknownDelivery = await server.request<{ code: string }>(
      'POST',
      `${base}/r/deliveries/01JNOPE0000000000000000000/retry`,
      { token },
    );
    expect(unknownDelivery.status).toBe(404);
    expect(unknownDelivery.body.code).toBe('not_found');
    expect(
      (await server.request('POST', `${base}/nope/deliveries/01JNOPE0000000000000000000/retry`, { token })).status,
    ).toBe(404);
    const empty = await server.request('GET', `${base}/r/deliveries`, { token });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual([]);
  });
});

describe('webhook subscriptions with WEBHOOKS_ALLOW_PRIVATE_URLS=true', () => {
  it('accepts http and loopback targets for development', async () => {
    const { availableBackends } = await import('./helpers/backends.js');
    const [sqlite] = await availableBackends();
    const server = await startTestServer(sqlite!, { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' }, { resolve: fakeDns });
    try {
      const org = await server.createOrganization();
      const token = await server.createToken([org.id], ['webhooks:manage']);
      const response = await server.request('PUT', `/organizations/${org.id}/webhooks/dev`, {
        token,
        body: body({ url: 'http://localhost:9999/hook' }),
      });
      expect(response.status).toBe(201);
      expect(await storedSubscriptions(server, org.id)).toMatchObject([{ url: 'http://localhost:9999/hook' }]);
    } finally {
      await server.close();
    }
  });
});

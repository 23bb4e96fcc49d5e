import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import type { Organization } from '../src/contract/organizations.js';
import type { WebhookDelivery } from '../src/contract/webhooks.js';
import { encodeCursor, fingerprint } from '../src/domain/paging.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, expectError, expectErrorJson, readAllPages } from './helpers/fixtures.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { insertFailedDelivery, startDispatcher } from './helpers/webhooks.js';
import { startReceiver } from './helpers/webhook-receiver.js';
import {
  LOKE_CUSTOMER_EXAMPLE,
  LOKE_CUSTOMER_STATISTICS_WEBHOOK_EXAMPLE,
  LOKE_CUSTOMER_WEBHOOK_EXAMPLE,
  LOKE_ORGANIZATION_TINY_EXAMPLE,
} from './fixtures/loke-examples.js';
import type { WebhookDispatcher } from '../src/webhooks/dispatcher.js';

interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A request through `node:http` that writes `body` in chunks as a streaming client would, with Content-Length. */
function nodeHttpPost(port: number, path: string, headers: Record<string, string>, body: Buffer) {
  return new Promise<NodeResponse>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // 64 KiB at a time with a pause between, as a client on a real network sends: the server has answered long
    // before the last byte is written.
    const chunk = 64 * 1024;
    const writeFrom = (offset: number) => {
      if (offset >= body.length) {
        request.end();
        return;
      }
      request.write(body.subarray(offset, offset + chunk), (error) => {
        if (!error) setTimeout(() => writeFrom(offset + chunk), 2);
      });
    };
    writeFrom(0);
  });
}

await describeEachBackend('LOKE compatibility: HTTP details a generic client relies on', (backend) => {
  let server: TestServer;
  let orgId: string;
  let write: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    ({ orgId, write } = await createTenant(server));
  });
  afterAll(async () => server?.close());

  const customers = () => `/organizations/${orgId}/customers`;

  describe('If-Match (RFC 9110 §13.1.1, strong comparison)', () => {
    it('answers a weak validator of the current ETag with 412 and changes nothing; the strong tag applies', async () => {
      const created = await server.request<Customer>('POST', customers(), {
        token: write,
        body: { firstName: 'Weak', lastName: 'Tag' },
      });
      const etag = created.headers.get('etag')!;
      const before = await digestStore(server.store);
      for (const ifMatch of [`W/${etag}`, `"other", W/${etag}`]) {
        expectError(
          await server.request('PATCH', `${customers()}/${created.body.id}`, {
            token: write,
            body: { firstName: 'Changed' },
            headers: { 'if-match': ifMatch },
          }),
          412,
          'precondition_failed',
        );
      }
      expect(await digestStore(server.store)).toBe(before);
      const strong = await server.request<Customer>('PATCH', `${customers()}/${created.body.id}`, {
        token: write,
        body: { firstName: 'Changed' },
        headers: { 'if-match': etag },
      });
      expect(strong.status).toBe(200);
      expect(strong.body.firstName).toBe('Changed');
    });
  });

  describe('request content types', () => {
    const body = JSON.stringify({ firstName: 'Typed', lastName: 'Body' });
    it.each([
      ['text/plain;charset=UTF-8', 'what fetch sends for a string body'],
      ['text/plain', 'plain text'],
      ['application/x-www-form-urlencoded', 'a form, on an API route'],
      ['multipart/form-data; boundary=x', 'a multipart form'],
      ['application/xml', 'XML'],
      ['application/octet-stream', 'bytes'],
    ])('answers a %s body (%s) with 415 unsupported_media_type and stores nothing', async (type) => {
      const before = await digestStore(server.store);
      const response = await server.request('POST', customers(), {
        token: write,
        rawBody: body,
        headers: { 'content-type': type },
      });
      expect(expectErrorJson(response, 415).type).toBe('unsupported_media_type');
      expect(await digestStore(server.store)).toBe(before);
    });

    it('answers a body without a content type with 415, and takes application/json with a charset', async () => {
      const missing = await fetch(`${server.baseUrl}${customers()}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${write}` },
        body: new Blob([body]),
      });
      expect(missing.status).toBe(415);
      expect(((await missing.json()) as { type: string }).type).toBe('unsupported_media_type');
      const json = await server.request('POST', customers(), {
        token: write,
        rawBody: body,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(json.status).toBe(201);
    });

    it('still takes the form body of the OAuth token endpoint (RFC 6749)', async () => {
      const response = await server.request('POST', '/token', {
        token: null,
        rawBody: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      // An unknown client is the OAuth error, not a media type error: the form was read.
      expect(response.status).toBe(401);
      expect((response.body as { error: string }).error).toBe('invalid_client');
    });
  });

  describe('a body over the limit', () => {
    it('answers a 2 MB node:http POST with Content-Length with the 413 JSON, 20 runs out of 20', async () => {
      const payload = Buffer.from(JSON.stringify({ firstName: 'x'.repeat(2_000_000 - 40), lastName: 'y' }));
      const before = await digestStore(server.store);
      const outcomes: string[] = [];
      for (let run = 0; run < 20; run++) {
        try {
          const response = await nodeHttpPost(
            server.port,
            customers(),
            { authorization: `Bearer ${write}`, 'content-type': 'application/json' },
            payload,
          );
          const error = JSON.parse(response.text) as { type: string };
          outcomes.push(`${response.status} ${error.type} ${response.headers.connection}`);
        } catch (error) {
          outcomes.push(`failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
      }
      expect(outcomes).toEqual(Array.from({ length: 20 }, () => '413 payload_too_large close'));
      expect(await digestStore(server.store)).toBe(before);
    });

    it('answers an unauthenticated 2 MB POST with its 401 JSON, not a reset', async () => {
      const payload = Buffer.alloc(2_000_000, 'a');
      const response = await nodeHttpPost(server.port, customers(), { 'content-type': 'application/json' }, payload);
      expect(response.status).toBe(401);
      expect((JSON.parse(response.text) as { type: string }).type).toBe('unauthorized');
    });
  });
});

await describeEachBackend('LOKE compatibility: GET /organizations?query=', (backend) => {
  let server: TestServer;
  let token: string;
  const names = [
    'Café Royal',
    'ROYAL Arcade',
    'Loyal Bakery',
    '100% Organic',
    '100 Percent',
    'Under_Score',
    'Underscore',
  ];
  const ids = new Map<string, string>();
  beforeAll(async () => {
    server = await startTestServer(backend);
    for (const name of names) ids.set(name, (await server.createOrganization(name)).id);
    // Granted to nobody: its name matches, yet it never shows.
    await server.createOrganization('Royal Secret');
    token = await server.createToken([...ids.values()], ['customers:read']);
  });
  afterAll(async () => server?.close());

  const search = async (query: string, limit = 2) => {
    const found = await readAllPages<Organization>(
      server,
      `/organizations?query=${encodeURIComponent(query)}&limit=${limit}`,
      token,
    );
    return found.map((org) => org.name);
  };
  const sortedById = (...wanted: string[]) => [...wanted].sort((a, b) => (ids.get(a)! < ids.get(b)! ? -1 : 1));

  it('finds granted organizations by a case-insensitive substring of the name, paged', async () => {
    expect(await search('royal')).toEqual(sortedById('Café Royal', 'ROYAL Arcade'));
    expect(await search('oYaL', 1)).toEqual(sortedById('Café Royal', 'ROYAL Arcade', 'Loyal Bakery'));
    // Only A-Z fold, the same on both backends: other letters compare exactly.
    expect(await search('CAFé')).toEqual(['Café Royal']);
    expect(await search('CAFÉ')).toEqual([]);
    expect(await search('nothing like it')).toEqual([]);
    expect(await search('')).toHaveLength(names.length);
  });

  it('takes % and _ literally', async () => {
    expect(await search('%')).toEqual(['100% Organic']);
    expect(await search('0%')).toEqual(['100% Organic']);
    expect(await search('_')).toEqual(['Under_Score']);
    expect(await search('r_s')).toEqual(['Under_Score']);
  });

  it('keeps the Organization shape', async () => {
    const response = await server.request<Organization[]>('GET', '/organizations?query=arcade', { token });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body[0]!)).toEqual(['created', 'currency', 'id', 'name', 'timezone']);
  });

  it('refuses a query longer than a name can be', async () => {
    expectError(await server.request('GET', `/organizations?query=${'a'.repeat(201)}`, { token }), 400, 'bad_request');
  });
});

await describeEachBackend('LOKE compatibility: cursors continue their listing from after alone', (backend) => {
  let server: TestServer;
  let orgId: string;
  let read: string;
  let hooks: string;
  let organizationsToken: string;
  let customerIds: string[];
  let listId: string;
  beforeAll(async () => {
    server = await startTestServer(backend, { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' });
    const tenant = await createTenant(server);
    ({ orgId, read } = tenant);
    const write = tenant.write;
    hooks = await server.createToken([orgId], ['webhooks:manage']);
    customerIds = [];
    for (let i = 0; i < 7; i++) {
      const customer = await server.createCustomer(
        orgId,
        {
          email: i % 2 === 0 ? 'Shared@Example.com' : `own${i}@example.com`,
          phoneNumber: i < 5 ? '+61411222333' : undefined,
        },
        write,
      );
      customerIds.push(customer.id);
    }
    // Updates in another order than creation, so sort=updated differs from sort=created.
    for (const id of [...customerIds].reverse().slice(0, 4)) {
      await server.request('PATCH', `/organizations/${orgId}/customers/${id}`, {
        token: write,
        body: { lastName: 'Later' },
      });
    }
    for (let i = 0; i < 5; i++) {
      const list = await server.request<{ id: string }>('POST', `/organizations/${orgId}/customer-lists`, {
        token: write,
        body: { name: `List ${i}` },
      });
      expect(list.status, list.text).toBe(201);
      listId = list.body.id;
      await server.request('PUT', `/organizations/${orgId}/customer-lists/${listId}/members/${customerIds[0]}`, {
        token: write,
      });
    }
    for (const id of customerIds) {
      await server.request('PUT', `/organizations/${orgId}/customer-lists/${listId}/members/${id}`, { token: write });
    }
    for (const name of ['North Cafe', 'South Cafe', 'East Bar', 'West Cafe', 'Central Cafe']) {
      const location = await server.request('POST', `/organizations/${orgId}/locations`, {
        token: write,
        body: { name },
      });
      expect(location.status, location.text).toBe(201);
    }
    for (const ref of ['a', 'b', 'c', 'd', 'e']) {
      const hook = await server.request('PUT', `/organizations/${orgId}/webhooks/${ref}`, {
        token: hooks,
        body: { url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-some-length', events: ['customer.created'] },
      });
      expect(hook.status, hook.text).toBe(201);
    }
    const subscription = await server.store.db
      .selectFrom('webhook_subscriptions')
      .select('id')
      .where('organization_id', '=', orgId)
      .where('ref', '=', 'a')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < 5; i++) {
      await insertFailedDelivery(server.store, {
        organizationId: orgId,
        subscriptionId: subscription.id,
        id: `01JDELIVERY000000000000000${i}`,
        sequence: i + 1,
        eventId: `01JEVENT00000000000000000${i}`,
      });
    }
    const more = await Promise.all(
      ['Alpha Co', 'Beta Co', 'Gamma Ltd', 'Delta Co'].map((n) => server.createOrganization(n)),
    );
    organizationsToken = await server.createToken([orgId, ...more.map((o) => o.id)], ['customers:read']);
  });
  afterAll(async () => server?.close());

  type Item = { id?: string; ref?: string };
  const keyOf = (item: Item) => item.id ?? item.ref!;

  /** Pages `path?query`, rebuilding each next URL from the after of X-Next-Page alone. */
  async function pageByAfterAlone(path: string, query: string, token: string) {
    const keys: string[] = [];
    let url = `${path}?${query}`;
    let pages = 0;
    const afters: string[] = [];
    for (;;) {
      const response = await server.request<Item[]>('GET', url, { token });
      expect(response.status, `${url}: ${response.text}`).toBe(200);
      keys.push(...response.body.map(keyOf));
      pages++;
      const next = response.headers.get('x-next-page');
      if (next === null) break;
      const after = new URL(next).searchParams.get('after')!;
      afters.push(after);
      url = `${path}?after=${encodeURIComponent(after)}`;
      expect(pages, 'pages').toBeLessThan(50);
    }
    return { keys, pages, afters };
  }

  const cases = () => [
    { path: `/organizations/${orgId}/customers`, query: 'limit=2', contradict: 'sort=updated', token: read },
    {
      path: `/organizations/${orgId}/customers`,
      query: 'sort=created&limit=3',
      contradict: 'sort=updated',
      token: read,
    },
    {
      path: `/organizations/${orgId}/customers`,
      query: 'sort=updated&limit=2',
      contradict: 'sort=created',
      token: read,
    },
    {
      path: `/organizations/${orgId}/customers`,
      query: 'email=shared%40example.com&limit=1',
      contradict: 'email=own1%40example.com',
      token: read,
    },
    {
      path: `/organizations/${orgId}/customers`,
      query: 'sort=updated&phoneNumber=0411%20222%20333&limit=2',
      contradict: 'phoneNumber=0411222334',
      token: read,
    },
    {
      path: `/organizations/${orgId}/customers/${customerIds[0]}/memberships`,
      query: 'limit=2',
      contradict: 'limit=3',
      token: read,
    },
    { path: '/organizations', query: 'limit=2', contradict: 'query=co', token: organizationsToken },
    { path: '/organizations', query: 'query=CO&limit=1', contradict: 'query=ltd', token: organizationsToken },
    { path: `/organizations/${orgId}/customer-lists`, query: 'limit=2', contradict: 'limit=1', token: read },
    {
      path: `/organizations/${orgId}/customer-lists/${listId}/members`,
      query: 'limit=3',
      contradict: 'limit=2',
      token: read,
    },
    { path: `/organizations/${orgId}/events`, query: 'limit=4', contradict: 'limit=5', token: read },
    { path: `/organizations/${orgId}/events`, query: 'afterSequence=3&limit=4', contradict: 'limit=5', token: read },
    { path: `/organizations/${orgId}/locations`, query: 'query=cafe&limit=2', contradict: 'query=bar', token: read },
    { path: `/organizations/${orgId}/webhooks`, query: 'limit=2', contradict: 'limit=4', token: hooks },
    { path: `/organizations/${orgId}/webhooks/a/deliveries`, query: 'limit=2', contradict: 'limit=1', token: hooks },
  ];

  it('visits every item exactly once, in the listing order, on every paged endpoint', async () => {
    for (const { path, query, token } of cases()) {
      const whole = query.replace(/&?limit=\d+/, '');
      const expected = (await server.request<Item[]>('GET', `${path}?${whole}`, { token })).body.map(keyOf);
      const { keys, pages } = await pageByAfterAlone(path, query, token);
      expect(keys, `${path}?${query}`).toEqual(expected);
      expect(new Set(keys).size, `${path}?${query}`).toBe(keys.length);
      expect(pages, `${path}?${query} spans pages`).toBeGreaterThan(1);
    }
  });

  it('answers a parameter that contradicts the cursor with 400 naming it; one that agrees is fine', async () => {
    for (const { path, query, contradict, token } of cases()) {
      const { afters } = await pageByAfterAlone(path, query, token);
      const after = encodeURIComponent(afters[0]!);
      const response = await server.request('GET', `${path}?${contradict}&after=${after}`, { token });
      expectError(response, 400, 'bad_request');
      expect((response.body as { details: { field: string }[] }).details[0]!.field, `${path}?${contradict}`).toBe(
        contradict.split('=')[0],
      );
      const agreeing = await server.request('GET', `${path}?${query}&after=${after}`, { token });
      expect(agreeing.status, `${path}?${query}`).toBe(200);
    }
  });

  it('keeps the whole query in X-Next-Page, with the cursor in after', async () => {
    const first = await server.request('GET', `/organizations/${orgId}/customers?sort=updated&limit=2`, {
      token: read,
    });
    const next = new URL(first.headers.get('x-next-page')!);
    expect(next.searchParams.get('sort')).toBe('updated');
    expect(next.searchParams.get('limit')).toBe('2');
    const second = await server.request('GET', `${next.pathname}?after=${next.searchParams.get('after')}`, {
      token: read,
    });
    const following = new URL(second.headers.get('x-next-page')!);
    expect(following.searchParams.get('sort')).toBe('updated');
    expect(following.searchParams.get('limit')).toBe('2');
  });

  it('still takes a cursor of the previous version beside the parameters it was made with', async () => {
    // What the previous version put in after: the bare keyset cursor, fingerprinted with the query.
    const all = (await server.request<Customer[]>('GET', `/organizations/${orgId}/customers`, { token: read })).body;
    const third = all[2]!;
    const stored = await server.store.db
      .selectFrom('customers')
      .select('created_at')
      .where('organization_id', '=', orgId)
      .where('id', '=', third.id)
      .executeTakeFirstOrThrow();
    const old = encodeCursor(fingerprint('customers', orgId, 'created', 'none', ''), [
      Number(stored.created_at),
      third.id,
    ]);
    const response = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?limit=2&after=${old}`, {
      token: read,
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.map((c) => c.id)).toEqual(all.slice(3, 5).map((c) => c.id));
    // Made for sort=updated, it cannot be continued from after alone: a clear 400, not another listing.
    const updated = encodeCursor(fingerprint('customers', orgId, 'updated', 'none', ''), [Date.now(), third.id]);
    expectError(
      await server.request('GET', `/organizations/${orgId}/customers?after=${updated}`, { token: read }),
      400,
      'bad_request',
    );
  });
});

/** The paths of the objects in `value` whose keys are not in alphabetical order (`skip`: paths not checked). */
function unsortedObjects(value: unknown, path = '$', skip: (path: string) => boolean = () => false): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => unsortedObjects(item, `${path}[${i}]`, skip));
  if (value === null || typeof value !== 'object') return [];
  const keys = Object.keys(value);
  const here = !skip(path) && keys.join() !== [...keys].sort().join() ? [`${path}: ${keys.join(',')}`] : [];
  return [
    ...here,
    ...keys.flatMap((key) => unsortedObjects((value as Record<string, unknown>)[key], `${path}.${key}`, skip)),
  ];
}

// The seed's example customer (GET /organizations/{organizationId}/customers/{customerId}), byte for byte.
const SEED_CUSTOMER =
  '{"createdAt":"2021-10-20T14:51:16Z","dob":"2021-10-20","email":"john@example.com","firstName":"John",' +
  '"gender":"MALE","hasAgreedToMarketing":true,"id":"01FCCGYZA9JPQ97HBSTKW0KT7P","lastName":"Smith",' +
  '"phoneNumber":"+61411222333","statistics":{"lastPointsEarnedAt":"2021-08-23T02:06:24.000Z",' +
  '"lastPointsRedeemedAt":"2021-03-17T04:27:06.000Z","lastSpentAt":"2021-08-23T02:06:23.000Z","pointsBalance":3125,' +
  '"totalPointsEarned":4523,"totalPointsRedeemed":1398,"totalSpend":3687},"updatedAt":"2021-10-21T18:34:45Z"}';

await describeEachBackend('LOKE compatibility: JSON key order', (backend) => {
  let server: TestServer;
  let orgId: string;
  let read: string;
  let write: string;
  let customer: Customer;
  let listId: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    ({ orgId, read, write } = await createTenant(server));
    customer = await server.createCustomer(
      orgId,
      {
        firstName: 'John',
        lastName: 'Smith',
        email: 'john@example.com',
        dob: '2021-10-20',
        gender: 'MALE',
        hasAgreedToMarketing: true,
        phoneNumber: '+61411222333',
      },
      write,
    );
    const base = `/organizations/${orgId}/customers/${customer.id}`;
    for (const [path, body] of [
      [`${base}/spend/s1`, { amount: 3687 }],
      [`${base}/points/p1`, { amount: 4523 }],
      [`${base}/points/p2`, { amount: -1398 }],
    ] as const) {
      const response = await server.request('PUT', path, { token: write, body });
      expect(response.status, response.text).toBeLessThan(300);
    }
    const list = await server.request<{ id: string }>('POST', `/organizations/${orgId}/customer-lists`, {
      token: write,
      body: { name: 'VIP' },
    });
    listId = list.body.id;
    await server.request('PUT', `/organizations/${orgId}/customer-lists/${listId}/members/${customer.id}`, {
      token: write,
    });
    await server.request('POST', `/organizations/${orgId}/locations`, {
      token: write,
      body: { name: 'Richmond', region: 'VIC', country: 'AU', postalCode: '3121' },
    });
  });
  afterAll(async () => server?.close());

  it('sends a customer byte for byte in the order of the seed example', async () => {
    const response = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${customer.id}`, {
      token: read,
    });
    expect(response.status).toBe(200);
    // Our values in place of the seed's, every key where the seed has it.
    const seed = JSON.parse(SEED_CUSTOMER) as Customer;
    const ours = response.body;
    const expected = SEED_CUSTOMER.replace(seed.id, ours.id)
      .replace(seed.createdAt!, ours.createdAt!)
      .replace(seed.updatedAt!, ours.updatedAt!)
      .replace(seed.statistics!.lastPointsEarnedAt!, String(ours.statistics!.lastPointsEarnedAt))
      .replace(seed.statistics!.lastPointsRedeemedAt!, String(ours.statistics!.lastPointsRedeemedAt))
      .replace(seed.statistics!.lastSpentAt!, String(ours.statistics!.lastSpentAt));
    expect(response.text).toBe(expected);
  });

  it('lists keys alphabetically in every LOKE-shaped body, lists included', async () => {
    const base = `/organizations/${orgId}`;
    const paths = [
      `${base}/customers`,
      `${base}/customers?sort=updated`,
      `${base}/customers/${customer.id}`,
      `${base}/customers/${customer.id}/memberships`,
      `${base}/customer-lists`,
      `${base}/customer-lists/${listId}`,
      `${base}/customer-lists/${listId}/members`,
      `${base}/locations`,
      '/organizations',
      base,
    ];
    for (const path of paths) {
      const response = await server.request('GET', path, { token: read });
      expect(response.status, path).toBe(200);
      expect(unsortedObjects(JSON.parse(response.text)), path).toEqual([]);
    }
    const created = await server.request('POST', `${base}/customers`, {
      token: write,
      body: { lastName: 'Zed', firstName: 'Amy', email: 'amy@example.com' },
    });
    expect(unsortedObjects(JSON.parse(created.text)), 'POST').toEqual([]);
    const patched = await server.request('PATCH', `${base}/customers/${customer.id}`, {
      token: write,
      body: { lastName: 'Smith' },
    });
    expect(unsortedObjects(JSON.parse(patched.text)), 'PATCH').toEqual([]);
  });

  it('orders the bodies inside feed items alphabetically too (the items keep event first, as webhooks send)', async () => {
    const response = await server.request('GET', `/organizations/${orgId}/events`, { token: read });
    expect(response.status).toBe(200);
    const items = JSON.parse(response.text) as unknown[];
    expect(items.length).toBeGreaterThan(3);
    // The item itself ({event, <body>, organization, id, sequence, occurredAt}) follows LOKE's payload order.
    expect(unsortedObjects(items, '$', (path) => /^\$\[\d+\]$/.test(path))).toEqual([]);
  });
});

/** What a receiver written after LOKE's webhook guide saw. */
interface GuideDelivery {
  raw: string;
  data: Record<string, unknown>;
  signatureValid: boolean;
}

/**
 * A receiver written as LOKE's webhook guide (developers.loke.global/docs/guides/webhooks) shows: the HMAC is fed
 * the body chunk by chunk as UTF-8 text and compared with `crypto.timingSafeEqual`. The guide's condition is
 * inverted (it answers 400 "Invalid signature" when the signature *matches*); here it is corrected, and a length
 * check keeps timingSafeEqual from throwing on a malformed header.
 */
async function startGuideReceiver(secret: string) {
  const deliveries: GuideDelivery[] = [];
  const server = http.createServer((req, res) => {
    const signature = String(req.headers['x-event-signature'] ?? '').slice('sha256='.length);
    const hmac = crypto.createHmac('sha256', secret);
    req.setEncoding('utf8');
    let body = '';
    req.on('data', (chunk: string) => {
      hmac.update(chunk);
      body += chunk;
    });
    req.on('end', () => {
      const given = Buffer.from(signature, 'hex');
      const expected = hmac.digest();
      const valid = given.length === expected.length && crypto.timingSafeEqual(given, expected);
      deliveries.push({ raw: body, data: JSON.parse(body) as Record<string, unknown>, signatureValid: valid });
      if (!valid) {
        res.writeHead(400).end('Invalid signature');
        return;
      }
      res.write('ok');
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/loke-webhook`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The keys of `example` that `actual` has, in the example's order. */
const exampleOrder = (example: object, actual: object) => Object.keys(example).filter((key) => key in actual);

await describeEachBackend('LOKE compatibility: webhook payloads, signature and retries', (backend) => {
  const SECRET = 'loke-guide-secret';
  const RETRY_BASE_MS = 50;
  const WAIT = { timeout: 20_000, interval: 20 };
  let server: TestServer;
  let dispatcher: WebhookDispatcher;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend, {
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS),
      WEBHOOK_MAX_ATTEMPTS: '5',
    });
    dispatcher = startDispatcher(server.store, server.config, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await dispatcher?.stop();
    for (const close of closers) await close();
    await server?.close();
  });

  async function subscribe(url: string, events: string[], secret = SECRET) {
    const { org, orgId, write } = await createTenant(server);
    const hooks = await server.createToken([orgId], ['webhooks:manage']);
    const put = await server.request('PUT', `/organizations/${orgId}/webhooks/crm`, {
      token: hooks,
      body: { url, secret, events },
    });
    expect(put.status, put.text).toBe(201);
    return { org, orgId, write, hooks };
  }

  async function deliveries(orgId: string, token: string): Promise<WebhookDelivery[]> {
    const response = await server.request<WebhookDelivery[]>('GET', `/organizations/${orgId}/webhooks/crm/deliveries`, {
      token,
    });
    expect(response.status).toBe(200);
    return response.body.slice().reverse();
  }

  describe('payloads as LOKE documents them (docs/webhooks/customer)', () => {
    it('delivers customer.created, customer.updated and customer.updated-statistics in the examples’ keys and order, signed as the guide verifies', async () => {
      const receiver = await startGuideReceiver(SECRET);
      closers.push(receiver.close);
      const { org, orgId, write } = await subscribe(receiver.url, [
        'customer.created',
        'customer.updated',
        'customer.updated-statistics',
      ]);
      const created = await server.createCustomer(
        orgId,
        {
          firstName: 'Zoë',
          lastName: 'Smith',
          email: 'zoe@example.com',
          phoneNumber: '+61411222333',
          dob: '1990-02-03',
          gender: 'FEMALE',
          hasAgreedToMarketing: true,
        },
        write,
      );
      const patched = await server.request<Customer>('PATCH', `/organizations/${orgId}/customers/${created.id}`, {
        token: write,
        body: { lastName: 'Smythe' },
      });
      expect(patched.status).toBe(200);
      const points = await server.request('PUT', `/organizations/${orgId}/customers/${created.id}/points/order-1`, {
        token: write,
        body: { amount: 120 },
      });
      expect(points.status).toBe(204);
      const current = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${created.id}`, {
        token: write,
      });

      await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(3), WAIT);
      expect(receiver.deliveries.map((d) => d.signatureValid)).toEqual([true, true, true]);
      const [onCreate, onUpdate, onStatistics] = receiver.deliveries.map((d) => d.data);
      const organization = { id: orgId, name: org.name };

      for (const [delivered, event, customer] of [
        [onCreate!, 'customer.created', created],
        [onUpdate!, 'customer.updated', patched.body],
      ] as const) {
        expect(Object.keys(delivered)).toEqual(Object.keys(LOKE_CUSTOMER_WEBHOOK_EXAMPLE));
        expect(delivered).toEqual({ event, customer, organization });
        // The Customer inside has the seed's keys in the seed's order, statistics included.
        const inner = delivered.customer as Customer;
        expect(Object.keys(inner)).toEqual(Object.keys(LOKE_CUSTOMER_EXAMPLE));
        expect(Object.keys(inner.statistics!)).toEqual(
          exampleOrder(LOKE_CUSTOMER_EXAMPLE.statistics, inner.statistics!),
        );
      }

      expect(Object.keys(onStatistics!)).toEqual(Object.keys(LOKE_CUSTOMER_STATISTICS_WEBHOOK_EXAMPLE));
      expect(onStatistics).toEqual({
        event: 'customer.updated-statistics',
        statistics: current.body.statistics,
        customer: {
          email: 'zoe@example.com',
          firstName: 'Zoë',
          id: created.id,
          lastName: 'Smythe',
          phoneNumber: '+61411222333',
        },
        organization,
      });
      expect(Object.keys(onStatistics!.customer as object)).toEqual(
        Object.keys(LOKE_CUSTOMER_STATISTICS_WEBHOOK_EXAMPLE.customer),
      );
      const statistics = onStatistics!.statistics as object;
      expect(Object.keys(statistics)).toEqual(exampleOrder(LOKE_CUSTOMER_EXAMPLE.statistics, statistics));

      // The committed OpenAPI document's webhooks describe these bodies with the same keys in the same order.
      const document = JSON.parse(fs.readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8')) as {
        webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: { $ref: string } }> } } }>;
        components: { schemas: Record<string, { properties: object; required: string[] }> };
      };
      for (const { data } of receiver.deliveries) {
        const ref = document.webhooks[data.event as string]!.post.requestBody.content['application/json']!.schema.$ref;
        const schema = document.components.schemas[ref.replace('#/components/schemas/', '')]!;
        expect(Object.keys(data)).toEqual(Object.keys(schema.properties));
        expect(schema.required).toEqual(Object.keys(data));
      }

      // The organization object is LOKE's OrganizationTiny everywhere: same keys, same order, same types.
      for (const delivered of receiver.deliveries) {
        const tiny = delivered.data.organization as Record<string, unknown>;
        expect(Object.keys(tiny)).toEqual(Object.keys(LOKE_ORGANIZATION_TINY_EXAMPLE));
        for (const key of Object.keys(LOKE_ORGANIZATION_TINY_EXAMPLE)) expect(typeof tiny[key]).toBe('string');
        // The raw body is compact JSON in exactly the order checked above.
        expect(delivered.raw).toBe(JSON.stringify(delivered.data));
      }
    });
  });

  describe('failure semantics (docs/guides/webhooks: a failure is no response or a status >= 500)', () => {
    it('gives a receiver that answers 400 exactly one attempt per event, records it rejected, and moves on', async () => {
      // The guide's receiver with the wrong secret: it answers 400 "Invalid signature" to everything.
      const receiver = await startGuideReceiver('not-the-subscription-secret');
      closers.push(receiver.close);
      const { orgId, write, hooks } = await subscribe(receiver.url, ['customer.created']);
      await server.createCustomer(orgId, {}, write);
      await server.createCustomer(orgId, {}, write);

      await vi.waitFor(async () => expect(await deliveries(orgId, hooks)).toHaveLength(2), WAIT);
      // Long past the first retry's due time (RETRY_BASE_MS): nothing more was sent.
      await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 8));
      expect(receiver.deliveries.map((d) => d.signatureValid)).toEqual([false, false]);
      expect(
        (await deliveries(orgId, hooks)).map((d) => [d.eventSequence, d.attempt, d.status, d.responseStatus]),
      ).toEqual([
        [1, 1, 'rejected', 400],
        [2, 1, 'rejected', 400],
      ]);
    });

    it('retries a receiver that answers 503 with backoff until it takes the event', async () => {
      let unavailable = 2;
      const receiver = await startReceiver((request) =>
        request.headers['x-event-sequence'] === '1' && unavailable-- > 0 ? 503 : 200,
      );
      closers.push(() => receiver.close());
      const { orgId, write, hooks } = await subscribe(`${receiver.url}/busy`, ['customer.created']);
      await server.createCustomer(orgId, {}, write);
      await server.createCustomer(orgId, {}, write);

      await vi.waitFor(async () => expect(await deliveries(orgId, hooks)).toHaveLength(4), WAIT);
      const attempts = await deliveries(orgId, hooks);
      expect(attempts.map((d) => [d.eventSequence, d.attempt, d.status, d.responseStatus])).toEqual([
        [1, 1, 'retrying', 503],
        [1, 2, 'retrying', 503],
        [1, 3, 'succeeded', 200],
        [2, 1, 'succeeded', 200],
      ]);
      // 10 s, 20 s, 40 s ... scaled: base, then twice the base.
      expect(Date.parse(attempts[0]!.nextAttemptAt!) - Date.parse(attempts[0]!.attemptedAt)).toBe(RETRY_BASE_MS);
      expect(Date.parse(attempts[1]!.nextAttemptAt!) - Date.parse(attempts[1]!.attemptedAt)).toBe(RETRY_BASE_MS * 2);
      expect(receiver.requests.map((r) => r.headers['x-event-sequence'])).toEqual(['1', '1', '1', '2']);
    });
  });
});

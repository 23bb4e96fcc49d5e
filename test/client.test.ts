import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CustomersApiError,
  CustomersClient,
  isRetryable,
  parseRetryAfter,
  type FetchLike,
  type RetryEvent,
} from '../src/client/index.js';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { raiseOrganizationClock } from '../src/store/repositories/organization-repository.js';
import { insertCustomersDirectly, insertMemberships } from './helpers/bulk.js';
import { flakeRepeats } from './helpers/repeats.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Passes requests through to the real server, counting them, after first answering with the given canned responses. */
function scriptedFetch(script: (() => Response | Promise<never>)[]) {
  const calls: { method: string; url: string }[] = [];
  const fetchImpl: FetchLike = async (url, init) => {
    calls.push({ method: init.method ?? 'GET', url });
    const next = script.shift();
    if (next) return next();
    return fetch(url, init);
  };
  return { fetch: fetchImpl, calls };
}

const errorResponse = (status: number, code: string, retryAfter?: string) =>
  new Response(JSON.stringify({ code, message: code, instance: '01JDEMO0000000000000000000' }), {
    status,
    headers: { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) },
  });

describe('client package', () => {
  it('is exported as customers-api/client with types, and imports nothing at runtime but its own files', async () => {
    const specifier = 'customers-api/client';
    const exported = (await import(specifier)) as { CustomersClient: unknown; CustomersApiError: unknown };
    expect(typeof exported.CustomersClient).toBe('function');
    expect(typeof exported.CustomersApiError).toBe('function');
    const dir = new URL('../dist/client/', import.meta.url);
    expect(fs.existsSync(new URL('index.d.ts', dir))).toBe(true);
    // Every module the entry point loads, followed through its imports: only sibling files, no packages, no node: modules.
    const seen = new Set<string>();
    const queue = ['index.js'];
    while (queue.length > 0) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = fs.readFileSync(new URL(file, dir), 'utf8');
      const imports = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map(
        (m) => m[1]!,
      );
      expect(
        imports.every((i) => i.startsWith('./')),
        `${file} imports ${imports.join(', ')}`,
      ).toBe(true);
      expect(source).not.toMatch(/\bimport\(|require\(/);
      queue.push(...imports.map((i) => i.slice(2)));
    }
    expect([...seen].sort()).toEqual(['errors.js', 'index.js', 'paging.js', 'transport.js']);
  });
});

describe('client helpers', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5);
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), now)).toBe(0);
  });

  it('retries only requests that cannot apply twice', () => {
    expect(isRetryable({ method: 'GET' })).toBe(true);
    expect(isRetryable({ method: 'PUT' })).toBe(true);
    expect(isRetryable({ method: 'DELETE' })).toBe(true);
    expect(isRetryable({ method: 'POST' })).toBe(false);
    expect(isRetryable({ method: 'POST', headers: { 'Idempotency-Key': 'k' } })).toBe(true);
    expect(isRetryable({ method: 'PATCH', headers: { 'If-Match': '"x"' } })).toBe(false);
  });
});

await describeEachBackend('client SDK', (backend) => {
  let server: TestServer;
  let orgId: string;
  let readToken: string;
  let writeToken: string;
  let client: CustomersClient;
  let writer: CustomersClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    orgId = (await server.createOrganization('SDK Org')).id;
    readToken = await server.createToken([orgId], ['customers:read']);
    writeToken = await server.createToken([orgId], ['customers:read', 'customers:write']);
    client = new CustomersClient({ baseUrl: server.baseUrl, token: readToken });
    writer = new CustomersClient({ baseUrl: `${server.baseUrl}/`, token: writeToken });
  });
  afterAll(async () => server?.close());

  it('lists and gets organizations', async () => {
    const other = await server.createOrganization('Second');
    const both = new CustomersClient({
      baseUrl: server.baseUrl,
      token: await server.createToken([orgId, other.id], ['customers:read']),
    });
    const organizations = await both.organizations.list({ limit: 1 }).toArray();
    expect(organizations.map((o) => o.id).sort()).toEqual([orgId, other.id].sort());
    const pages = [];
    for await (const page of both.organizations.list({ limit: 1 }).pages()) pages.push(page.items.length);
    expect(pages).toEqual([1, 1]);
    expect(await client.organizations.get(orgId)).toEqual(organizations.find((o) => o.id === orgId));
  });

  it('creates, gets and updates customers, as the server stores them', async () => {
    const created = await writer.customers.create(orgId, {
      firstName: 'Ann',
      lastName: 'Lee',
      email: 'Ann@Example.com',
      phoneNumber: '0411 222 333',
    });
    expect(created).toMatchObject({
      firstName: 'Ann',
      lastName: 'Lee',
      email: 'Ann@Example.com',
      phoneNumber: '+61411222333',
    });
    expect(created.id).toMatch(ULID);
    expect(await client.customers.get(orgId, created.id)).toEqual(created);

    const updated = await writer.customers.update(orgId, created.id, { lastName: 'Leigh', phoneNumber: null });
    expect(updated.lastName).toBe('Leigh');
    expect(updated.phoneNumber).toBeUndefined();
    const stored = await server.services.customers.getCustomer(orgId, created.id);
    expect(stored).toEqual(updated);

    const withTag = await client.customers.getWithETag(orgId, created.id);
    expect(withTag.customer).toEqual(updated);

    const found = await client.customers.list(orgId, { email: 'ann@EXAMPLE.com' }).toArray();
    expect(found.map((c) => c.id)).toEqual([created.id]);
    const byPhone = await client.customers.list(orgId, { phoneNumber: '0411222333' }).toArray();
    const searched = await client.customers.search(orgId, { q: 'ANN@example' }).toArray();
    expect(searched.map((c) => c.id)).toEqual([created.id]);
    const filtered = await client.customers.search(orgId, { q: 'leigh', totalSpendMax: 0 }).toArray();
    expect(filtered.map((c) => c.id)).toEqual([created.id]);
    expect(await client.customers.search(orgId, { q: 'leigh', metadata: { tier: 'x' } }).toArray()).toEqual([]);
    expect(byPhone).toEqual([]);
  });

  it('throws typed errors carrying status, code, instance and details', async () => {
    const missing = await client.customers.get(orgId, '01JNOSUCHCUSTOMER000000000').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CustomersApiError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect((missing as CustomersApiError).instance).toMatch(ULID);

    const invalid = (await writer.customers
      .create(orgId, { firstName: 'A', lastName: 'B', email: 'not-an-email' })
      .catch((e: unknown) => e)) as CustomersApiError;
    expect(invalid).toMatchObject({ status: 400, code: 'bad_request' });
    expect(invalid.details).toEqual([{ field: 'email', message: 'must be a valid email address' }]);

    const forbidden = await client.customers.create(orgId, { firstName: 'A', lastName: 'B' }).catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ status: 403, code: 'forbidden' });

    const anonymous = new CustomersClient({ baseUrl: server.baseUrl, token: 'nope' });
    await expect(anonymous.organizations.get(orgId)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    const count = await server.store.db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('first_name', '=', 'A')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('pages across 2,500 customers, by items and by pages', async () => {
    const org = (await server.createOrganization('Paging')).id;
    const rows = await insertCustomersDirectly(server.store, org, 2500);
    const paging = new CustomersClient({
      baseUrl: server.baseUrl,
      token: await server.createToken([org], ['customers:read']),
    });

    const ids: string[] = [];
    for await (const customer of paging.customers.list(org)) ids.push(customer.id);
    expect(ids).toEqual(rows.map((r) => r.id));

    const sizes: number[] = [];
    for await (const page of paging.customers.list(org, { sort: 'updated' }).pages()) sizes.push(page.items.length);
    expect(sizes).toEqual([1000, 1000, 500]);

    const small: number[] = [];
    for await (const page of paging.customers.list(org, { limit: 700 }).pages()) small.push(page.items.length);
    expect(small).toEqual([700, 700, 700, 400]);
  });

  it('prefetches at most one page ahead and cancels it when the loop stops early', async () => {
    const org = (await server.createOrganization('Prefetch')).id;
    const rows = await insertCustomersDirectly(server.store, org, 50);
    const token = await server.createToken([org], ['customers:read']);
    const requested: string[] = [];
    const aborted: string[] = [];
    let holdSecond = false;
    const counting = new CustomersClient({
      baseUrl: server.baseUrl,
      token,
      fetch: async (input, init) => {
        const url = String(input);
        requested.push(url);
        init?.signal?.addEventListener('abort', () => aborted.push(url));
        // Hold the prefetched page of the early-exit loop below so that it is still in flight when the loop stops.
        if (holdSecond && requested.length === 2) await new Promise((r) => setTimeout(r, 300));
        return fetch(input, init);
      },
    });

    const pages: string[][] = [];
    for await (const page of counting.customers.list(org, { limit: 10 }).pages({ prefetch: true })) {
      pages.push(page.items.map((c) => c.id));
      // A slow consumer: the client may have asked for the next page, never for the one after it.
      await new Promise((r) => setTimeout(r, 30));
      expect(requested.length).toBeLessThanOrEqual(pages.length + 1);
    }
    expect(pages.flat()).toEqual(rows.map((r) => r.id));
    expect(requested).toHaveLength(5);

    requested.length = 0;
    holdSecond = true;
    for await (const page of counting.customers.list(org, { limit: 10 }).pages({ prefetch: true })) {
      expect(page.items).toHaveLength(10);
      break;
    }
    expect(requested).toHaveLength(2);
    expect(aborted).toEqual([requested[1]]);
  });

  it('pages memberships ten at a time', async () => {
    const customer = await server.createCustomer(orgId);
    const listIds = await insertMemberships(server.store, orgId, customer.id, 12);
    const pages: number[] = [];
    for await (const page of client.customers.memberships(orgId, customer.id).pages()) pages.push(page.items.length);
    expect(pages).toEqual([10, 2]);
    const lists = await client.customers.memberships(orgId, customer.id).toArray();
    expect(lists.map((l) => l.id).sort()).toEqual([...listIds].sort());
    expect(lists[0]!.name).toMatch(/^List \d+$/);
  });

  it('retries a GET on 503 and 429, waiting what Retry-After says', async () => {
    const scripted = scriptedFetch([
      () => errorResponse(503, 'unavailable', '1'),
      () => errorResponse(429, 'rate_limited', '2'),
    ]);
    const retries: RetryEvent[] = [];
    const retrying = new CustomersClient({
      baseUrl: server.baseUrl,
      token: readToken,
      fetch: scripted.fetch,
      maxRetryDelayMs: 1000,
      onRetry: (event) => retries.push(event),
    });
    const organization = await retrying.organizations.get(orgId);
    expect(organization.id).toBe(orgId);
    expect(scripted.calls).toHaveLength(3);
    // Retry-After 1 is honoured as 1000 ms; 2 s is capped by maxRetryDelayMs.
    expect(retries.map((r) => [r.attempt, r.delayMs, r.error.status])).toEqual([
      [1, 1000, 503],
      [2, 1000, 429],
    ]);
  });

  it("waits out the server's own rate limit (429 with Retry-After) and succeeds", async () => {
    const limited = await startTestServer(backend, { RATE_LIMIT_PER_MINUTE: '60' });
    try {
      const org = (await limited.createOrganization()).id;
      const retries: RetryEvent[] = [];
      const sdk = new CustomersClient({
        baseUrl: limited.baseUrl,
        token: await limited.createToken([org], ['customers:read']),
        // Wait out the whole Retry-After (up to a minute in a fixed window), not the default 30 s ceiling.
        maxRetryDelayMs: 120_000,
        onRetry: (e) => retries.push(e),
      });
      for (let i = 0; i < 61; i++) expect((await sdk.organizations.get(org)).id).toBe(org);
      expect(retries.length).toBeGreaterThan(0);
      expect(retries[0]!.error).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(retries[0]!.delayMs).toBe(retries[0]!.error.retryAfter! * 1000);
    } finally {
      await limited.close();
    }
    // The limiter counts in fixed one-minute windows, so Retry-After can be nearly the whole minute.
  }, 150_000);

  it('retries network errors with backoff, and gives up after `retries`', async () => {
    const failing = () => Promise.reject(new TypeError('fetch failed'));
    const scripted = scriptedFetch([failing, failing]);
    const retries: RetryEvent[] = [];
    const retrying = new CustomersClient({
      baseUrl: server.baseUrl,
      token: readToken,
      fetch: scripted.fetch,
      retryBaseDelayMs: 10,
      onRetry: (e) => retries.push(e),
    });
    expect((await retrying.organizations.get(orgId)).id).toBe(orgId);
    expect(retries.map((r) => r.error.code)).toEqual(['network_error', 'network_error']);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(5);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(10);
    expect(retries[1]!.delayMs).toBeGreaterThanOrEqual(10);
    expect(retries[1]!.delayMs).toBeLessThanOrEqual(20);

    const down = scriptedFetch([failing, failing, failing]);
    const givingUp = new CustomersClient({
      baseUrl: server.baseUrl,
      token: readToken,
      fetch: down.fetch,
      retries: 2,
      retryBaseDelayMs: 1,
    });
    await expect(givingUp.organizations.get(orgId)).rejects.toMatchObject({ status: 0, code: 'network_error' });
    expect(down.calls).toHaveLength(3);
  });

  it('does not retry a POST without an Idempotency-Key, nor a PATCH; retries a POST with one', async () => {
    const plain = scriptedFetch([() => errorResponse(503, 'unavailable', '0')]);
    const once = new CustomersClient({ baseUrl: server.baseUrl, token: writeToken, fetch: plain.fetch });
    await expect(once.customers.create(orgId, { firstName: 'Once', lastName: 'Only' })).rejects.toMatchObject({
      status: 503,
      code: 'unavailable',
      retryAfter: 0,
    });
    expect(plain.calls).toHaveLength(1);

    const target = await server.createCustomer(orgId);
    const patch = scriptedFetch([() => errorResponse(503, 'unavailable', '0')]);
    await expect(
      new CustomersClient({ baseUrl: server.baseUrl, token: writeToken, fetch: patch.fetch }).customers.update(
        orgId,
        target.id,
        { firstName: 'X' },
      ),
    ).rejects.toMatchObject({ status: 503 });
    expect(patch.calls).toHaveLength(1);
    expect((await server.services.customers.getCustomer(orgId, target.id)).firstName).toBe(target.firstName);

    const keyed = scriptedFetch([() => errorResponse(503, 'unavailable', '0')]);
    const created = await new CustomersClient({
      baseUrl: server.baseUrl,
      token: writeToken,
      fetch: keyed.fetch,
    }).customers.create(orgId, { firstName: 'Keyed', lastName: 'Post' }, { idempotencyKey: 'sdk-test-key-1' });
    expect(keyed.calls.map((c) => c.method)).toEqual(['POST', 'POST']);
    expect(await server.services.customers.getCustomer(orgId, created.id)).toEqual(created);
  });

  it('times out a hung request and honours an AbortSignal', async () => {
    const hang: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const slow = new CustomersClient({
      baseUrl: server.baseUrl,
      token: readToken,
      fetch: hang,
      timeoutMs: 20,
      retries: 0,
    });
    await expect(slow.organizations.get(orgId)).rejects.toMatchObject({ status: 0, code: 'timeout' });

    const controller = new AbortController();
    const pending = new CustomersClient({ baseUrl: server.baseUrl, token: readToken, fetch: hang }).customers.get(
      orgId,
      'x',
      { signal: controller.signal },
    );
    controller.abort(new Error('stopped by the caller'));
    await expect(pending).rejects.toThrow('stopped by the caller');

    const already = AbortSignal.abort(new Error('already aborted'));
    await expect(client.organizations.get(orgId, { signal: already })).rejects.toThrow('already aborted');
  });

  // How many pages the second run reads depends on how many customers share the watermark's (one-second) updatedAt,
  // so each layout pins the organization's commit clock a minute ahead of real time: every write after that gets
  // the previous write's clock + 1 ms, and the layout no longer depends on when the second boundary happens to fall.
  it.each([
    { layout: 'all fresh customers in the watermark second', firstFreshMs: 1, pages: 4, updatesDuringRun: 3 },
    { layout: 'fresh customers straddling a second boundary', firstFreshMs: -10, pages: 2, updatesDuringRun: 2 },
  ])(
    'syncs by updatedAt without missing updates made while it runs ($layout)',
    { repeats: flakeRepeats() },
    async ({ firstFreshMs, pages, updatesDuringRun }) => {
      const org = (await server.createOrganization('Sync')).id;
      const syncToken = await server.createToken([org], ['customers:read', 'customers:write']);
      // Old customers (2021) behind a handful of fresh ones: a run must stop paging once it passes the watermark.
      await insertCustomersDirectly(server.store, org, 200, { prefix: 'old' });
      const second0 = Math.ceil((Date.now() + 60_000) / 1000) * 1000;
      await raiseOrganizationClock(server.store.db, server.store, org, second0 + firstFreshMs - 1);
      const fresh: Customer[] = [];
      for (let i = 0; i < 12; i++) fresh.push(await server.createCustomer(org, { firstName: `Fresh${i}` }, syncToken));
      expect(Date.parse(fresh[0]!.createdAt!)).toBe(Math.floor((second0 + firstFreshMs) / 1000) * 1000);

      const first = await new CustomersClient({ baseUrl: server.baseUrl, token: syncToken }).sync.updatedSince(
        org,
        null,
      );
      expect(first.customers).toHaveLength(212);
      expect(new Set(first.customers.map((c) => c.id)).size).toBe(212);
      expect(first.watermark).toBe(first.customers[0]!.updatedAt);

      // Updated between runs: must be in the next run.
      const update = (id: string, lastName: string) =>
        server.request('PATCH', `/organizations/${org}/customers/${id}`, { token: syncToken, body: { lastName } });
      expect((await update(fresh[0]!.id, 'BeforeRun')).status).toBe(200);

      // Updated while the next run pages (after each page it receives): must be in the run after it. Only the
      // updates actually made count: a run that passes the watermark early makes fewer requests.
      const duringRun = [fresh[3]!.id, fresh[5]!.id, fresh[1]!.id];
      const calls: string[] = [];
      const made: { id: string; lastName: string }[] = [];
      const interleaving: FetchLike = async (url, init) => {
        calls.push(url);
        const response = await fetch(url, init);
        const id = duringRun[calls.length - 1];
        if (id !== undefined) {
          const lastName = `During${calls.length}`;
          expect((await update(id, lastName)).status).toBe(200);
          made.push({ id, lastName });
        }
        return response;
      };
      const second = await new CustomersClient({
        baseUrl: server.baseUrl,
        token: syncToken,
        fetch: interleaving,
      }).sync.updatedSince(org, first.watermark, { pageSize: 3 });
      const secondIds = second.customers.map((c) => c.id);
      expect(secondIds).toContain(fresh[0]!.id);
      expect(second.customers.find((c) => c.id === fresh[0]!.id)!.lastName).toBe('BeforeRun');
      expect(new Set(secondIds).size).toBe(secondIds.length);
      expect(secondIds.some((id) => id.length === 0)).toBe(false);
      // It stopped paging at the watermark instead of reading all 212 customers.
      expect(calls).toHaveLength(pages);
      expect(made).toHaveLength(updatesDuringRun);
      expect(second.customers.every((c) => Date.parse(c.updatedAt!) >= Date.parse(first.watermark!))).toBe(true);

      const third = await new CustomersClient({ baseUrl: server.baseUrl, token: syncToken }).sync.updatedSince(
        org,
        second.watermark,
      );
      for (const [i, { id, lastName }] of made.entries()) {
        const latest = third.customers.find((c) => c.id === id);
        expect(latest, `update ${i + 1} made during the second run`).toBeDefined();
        expect(latest!.lastName).toBe(lastName);
      }
      expect(third.customers.some((c) => c.firstName.startsWith('old'))).toBe(false);

      // Nothing changed since: the watermark stays, and only the watermark's own second can come back.
      const fourth = await new CustomersClient({ baseUrl: server.baseUrl, token: syncToken }).sync.updatedSince(
        org,
        third.watermark,
      );
      expect(fourth.watermark).toBe(third.watermark);
      expect(fourth.customers.every((c) => c.updatedAt === third.watermark)).toBe(true);

      // A Date watermark with milliseconds still includes customers updated earlier in that second.
      const precise = new Date(Date.parse(third.watermark!) + 999);
      const fifth = await new CustomersClient({ baseUrl: server.baseUrl, token: syncToken }).sync.updatedSince(
        org,
        precise,
      );
      expect(fifth.customers.map((c) => c.id).sort()).toEqual(fourth.customers.map((c) => c.id).sort());
      expect(fifth.customers.length).toBeGreaterThan(0);
    },
  );
  it('covers the write extensions: If-Match, Idempotency-Key and erasure', async () => {
    const created = await writer.customers.create(
      orgId,
      { firstName: 'Idem', lastName: 'Potent' },
      { idempotencyKey: 'sdk-same-key' },
    );
    const replay = await writer.customers.create(
      orgId,
      { firstName: 'Idem', lastName: 'Potent' },
      { idempotencyKey: 'sdk-same-key' },
    );
    expect(replay).toEqual(created);
    expect(
      await client.customers
        .list(orgId)
        .toArray()
        .then((all) => all.filter((c) => c.lastName === 'Potent')),
    ).toHaveLength(1);

    const { etag } = await writer.customers.getWithETag(orgId, created.id);
    expect(etag).toMatch(/^(W\/)?".+"$/);
    const changed = await writer.customers.update(orgId, created.id, { firstName: 'Ida' }, { ifMatch: etag });
    expect(changed.firstName).toBe('Ida');
    const stale = (await writer.customers
      .update(orgId, created.id, { firstName: 'Stale' }, { ifMatch: etag })
      .catch((e: unknown) => e)) as CustomersApiError;
    expect(stale).toMatchObject({ status: 412, code: 'precondition_failed', attempts: 1 });
    expect((await client.customers.get(orgId, created.id)).firstName).toBe('Ida');

    await writer.customers.delete(orgId, created.id);
    await expect(client.customers.get(orgId, created.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('manages customer lists and their members', async () => {
    const customer = await server.createCustomer(orgId, { email: 'member@example.com' });
    const list = await writer.customerLists.create(orgId, { name: 'SDK list' });
    expect(list).toMatchObject({ name: 'SDK list', memberCount: 0 });
    expect(await client.customerLists.get(orgId, list.id)).toEqual(list);
    expect((await writer.customerLists.update(orgId, list.id, { name: 'Renamed' })).name).toBe('Renamed');
    await writer.customerLists.addMember(orgId, list.id, customer.id);
    await writer.customerLists.addMember(orgId, list.id, customer.id);
    const members = await client.customerLists.members(orgId, list.id).toArray();
    expect(members).toEqual([
      expect.objectContaining({ id: customer.id, email: 'member@example.com', firstName: customer.firstName }),
    ]);
    expect((await client.customerLists.get(orgId, list.id)).memberCount).toBe(1);
    expect(await client.customers.memberships(orgId, customer.id).toArray()).toEqual([
      { id: list.id, name: 'Renamed' },
    ]);
    expect((await client.customerLists.list(orgId).toArray()).map((l) => l.id)).toContain(list.id);
    await writer.customerLists.removeMember(orgId, list.id, customer.id);
    expect(await client.customerLists.members(orgId, list.id).toArray()).toEqual([]);
    await writer.customerLists.delete(orgId, list.id);
    await expect(client.customerLists.get(orgId, list.id)).rejects.toMatchObject({ status: 404 });
  });

  it('adjusts points and records spend, with typed conflicts', async () => {
    const customer = await server.createCustomer(orgId);
    await writer.points.adjust(orgId, customer.id, 'order-1', { amount: 120, notes: 'first order' });
    await writer.points.adjust(orgId, customer.id, 'order-2', { amount: -20 });
    const duplicate = await writer.points.adjust(orgId, customer.id, 'order-1', { amount: 5 }).catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ status: 409, code: 'duplicate_point_record' });
    await writer.spend.record(orgId, customer.id, 'order-1', { amount: 4599, occurredAt: '2024-05-06T07:08:09.000Z' });
    let statistics = (await client.customers.get(orgId, customer.id)).statistics!;
    expect(statistics).toMatchObject({
      pointsBalance: 100,
      totalPointsEarned: 120,
      totalPointsRedeemed: 20,
      totalSpend: 4599,
      lastSpentAt: '2024-05-06T07:08:09.000Z',
    });
    await writer.points.reverse(orgId, customer.id, 'order-2');
    await writer.spend.reverse(orgId, customer.id, 'order-1');
    statistics = (await client.customers.get(orgId, customer.id)).statistics!;
    expect(statistics).toMatchObject({ pointsBalance: 120, totalSpend: 0 });
  });

  it('lists the event feed and follows it as new events commit', async () => {
    const org = (await server.createOrganization('Feed')).id;
    const token = await server.createToken([org], ['customers:read', 'customers:write']);
    const feed = new CustomersClient({ baseUrl: server.baseUrl, token });
    const first = await feed.customers.create(org, { firstName: 'Feed', lastName: 'One' });
    await feed.customers.update(org, first.id, { lastName: 'Two' });
    const listed = await feed.events.list(org, { limit: 1 }).toArray();
    expect(listed.map((e) => [e.sequence, e.event])).toEqual([
      [1, 'customer.created'],
      [2, 'customer.updated'],
    ]);
    expect(await feed.events.list(org, { afterSequence: 1 }).toArray()).toEqual([listed[1]]);

    const controller = new AbortController();
    const seen: { sequence: number; event: string }[] = [];
    const following = (async () => {
      for await (const event of feed.events.follow(org, { after: 1, pollIntervalMs: 20, signal: controller.signal })) {
        seen.push({ sequence: event.sequence, event: event.event });
        if (seen.length === 1) await feed.customers.create(org, { firstName: 'Feed', lastName: 'Three' });
        if (seen.length === 2) controller.abort(new Error('done following'));
      }
    })();
    await expect(following).rejects.toThrow('done following');
    expect(seen).toEqual([
      { sequence: 2, event: 'customer.updated' },
      { sequence: 3, event: 'customer.created' },
    ]);
  });
});

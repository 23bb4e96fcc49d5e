import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface FeedEvent {
  id: string;
  sequence: number;
  occurredAt: string;
  event: string;
  organization: { id: string; name: string };
  [key: string]: unknown;
}

await describeEachBackend('event feed', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  async function setup() {
    const org = await server.createOrganization();
    const read = await server.createToken([org.id], ['customers:read']);
    const write = await server.createToken([org.id], ['customers:read', 'customers:write']);
    return { org, read, write };
  }

  /** Follows X-Next-Page from `path` to the end. */
  async function readAll(path: string, token: string): Promise<FeedEvent[]> {
    const events: FeedEvent[] = [];
    let next: string | null = path;
    while (next) {
      const response: { status: number; headers: Headers; body: FeedEvent[] } = await server.request<FeedEvent[]>(
        'GET',
        next,
        { token },
      );
      expect(response.status).toBe(200);
      events.push(...response.body);
      next = response.headers.get('x-next-page');
    }
    return events;
  }

  it('records customer.created and customer.updated with the LOKE payloads, oldest first', async () => {
    const { org, read, write } = await setup();
    const created = await server.createCustomer(org.id, { firstName: 'Ann', email: 'ann@example.com' }, write);
    const patched = await server.request<Customer>('PATCH', `/organizations/${org.id}/customers/${created.id}`, {
      token: write,
      body: { lastName: 'Lee' },
    });
    expect(patched.status).toBe(200);
    // A PATCH that changes nothing writes no event (and leaves no gap in the sequence).
    const noop = await server.request('PATCH', `/organizations/${org.id}/customers/${created.id}`, {
      token: write,
      body: { lastName: 'Lee' },
    });
    expect(noop.status).toBe(200);

    const response = await server.request<FeedEvent[]>('GET', `/organizations/${org.id}/events`, { token: read });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-next-page')).toBeNull();
    expect(response.body).toEqual([
      {
        id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
        sequence: 1,
        occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        event: 'customer.created',
        customer: created,
        organization: { id: org.id, name: org.name },
      },
      {
        id: expect.any(String),
        sequence: 2,
        occurredAt: expect.any(String),
        event: 'customer.updated',
        customer: patched.body,
        organization: { id: org.id, name: org.name },
      },
    ]);
    expect(Date.parse(response.body[1]!.occurredAt)).toBeGreaterThan(Date.parse(response.body[0]!.occurredAt));
    // LOKE's order: the feed's own fields, then `event`, the body, and the OrganizationTiny last.
    for (const item of response.body) {
      expect(Object.keys(item)).toEqual(['id', 'sequence', 'occurredAt', 'event', 'customer', 'organization']);
      expect(Object.keys(item.organization)).toEqual(['id', 'name']);
    }
    // Stored payload is exactly the webhook body: no id, sequence or occurredAt in it.
    const stored = await server.store.db
      .selectFrom('events')
      .selectAll()
      .where('organization_id', '=', org.id)
      .orderBy('sequence')
      .execute();
    expect(stored.map((row) => JSON.parse(row.payload) as unknown)).toEqual([
      { event: 'customer.created', customer: created, organization: { id: org.id, name: org.name } },
      { event: 'customer.updated', customer: patched.body, organization: { id: org.id, name: org.name } },
    ]);
    expect(stored.map((row) => row.type)).toEqual(['customer.created', 'customer.updated']);
  });

  it('pages by limit with X-Next-Page, resumes from afterSequence, and keeps organizations apart', async () => {
    const { org, read, write } = await setup();
    const other = await setup();
    await server.createCustomer(other.org.id, {}, other.write);
    for (let i = 0; i < 5; i++) await server.createCustomer(org.id, {}, write);

    const first = await server.request<FeedEvent[]>('GET', `/organizations/${org.id}/events?limit=2`, { token: read });
    expect(first.body.map((e) => e.sequence)).toEqual([1, 2]);
    const next = first.headers.get('x-next-page')!;
    expect(new URL(next).searchParams.get('limit')).toBe('2');
    const all = await readAll(`/organizations/${org.id}/events?limit=2`, read);
    expect(all.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(all.every((e) => e.organization.id === org.id && e.organization.name === org.name)).toBe(true);

    const resumed = await readAll(`/organizations/${org.id}/events?afterSequence=3&limit=1`, read);
    expect(resumed.map((e) => e.sequence)).toEqual([4, 5]);
    const atEnd = await server.request<FeedEvent[]>('GET', `/organizations/${org.id}/events?afterSequence=5`, {
      token: read,
    });
    expect(atEnd.status).toBe(200);
    expect(atEnd.body).toEqual([]);
    expect(atEnd.headers.get('x-next-page')).toBeNull();
  });

  describe('errors', () => {
    it('rejects bad cursors, bad afterSequence and bad limits with 400', async () => {
      const { org, read, write } = await setup();
      await server.createCustomer(org.id, {}, write);
      await server.createCustomer(org.id, {}, write);
      const page = await server.request('GET', `/organizations/${org.id}/events?limit=1`, { token: read });
      const cursor = new URL(page.headers.get('x-next-page')!).searchParams.get('after')!;
      for (const query of [
        'after=nonsense',
        `after=${cursor}x`,
        'afterSequence=-1',
        'afterSequence=abc',
        'limit=0',
        'limit=101',
      ]) {
        const response = await server.request<{ code: string }>('GET', `/organizations/${org.id}/events?${query}`, {
          token: read,
        });
        expect(response.status, query).toBe(400);
        expect(response.body.code).toBe('bad_request');
      }
      // A cursor of another organization's feed is refused.
      const other = await setup();
      const foreign = await server.request<{ code: string }>(
        'GET',
        `/organizations/${other.org.id}/events?after=${cursor}`,
        { token: other.read },
      );
      expect(foreign.status).toBe(400);
    });

    it('needs a token (401), the organization (404) and customers:read (403)', async () => {
      const { org } = await setup();
      const noToken = await server.request<{ code: string }>('GET', `/organizations/${org.id}/events`);
      expect([noToken.status, noToken.body.code]).toEqual([401, 'unauthorized']);
      const elsewhere = await setup();
      const otherOrg = await server.request<{ code: string }>('GET', `/organizations/${org.id}/events`, {
        token: elsewhere.read,
      });
      expect([otherOrg.status, otherOrg.body.code]).toEqual([404, 'not_found']);
      const webhooksOnly = await server.createToken([org.id], ['webhooks:manage']);
      const noScope = await server.request<{ code: string }>('GET', `/organizations/${org.id}/events`, {
        token: webhooksOnly,
      });
      expect([noScope.status, noScope.body.code]).toEqual([403, 'forbidden']);
    });
  });

  it('a follower polling during concurrent writes sees every event once, in gapless sequence order', async () => {
    const { org, read, write } = await setup();
    const writers = 40;
    let done = false;
    const seen: FeedEvent[] = [];
    const follower = (async () => {
      let last = 0;
      for (;;) {
        const finished = done;
        const page = await readAll(`/organizations/${org.id}/events?afterSequence=${last}`, read);
        for (const event of page) {
          seen.push(event);
          last = event.sequence;
        }
        if (finished) return;
      }
    })();
    const customers = await Promise.all(
      Array.from({ length: writers }, () => server.createCustomer(org.id, {}, write)),
    );
    await Promise.all(
      customers.map((c) =>
        server.request('PATCH', `/organizations/${org.id}/customers/${c.id}`, {
          token: write,
          body: { firstName: `Renamed ${c.id}` },
        }),
      ),
    );
    done = true;
    await follower;
    expect(seen.map((e) => e.sequence)).toEqual(Array.from({ length: writers * 2 }, (_, i) => i + 1));
    expect(new Set(seen.map((e) => e.id)).size).toBe(writers * 2);
    // Commit order: each customer's update follows its creation, and occurredAt never goes back.
    for (const c of customers) {
      const created = seen.findIndex((e) => e.event === 'customer.created' && (e.customer as Customer).id === c.id);
      const updated = seen.findIndex((e) => e.event === 'customer.updated' && (e.customer as Customer).id === c.id);
      expect(created).toBeGreaterThanOrEqual(0);
      expect(updated).toBeGreaterThan(created);
    }
    const times = seen.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

import { Migrator } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { verifyWebhookSignature } from '../src/client/webhooks.js';
import type { WebhookReplay } from '../src/contract/webhooks.js';
import { parseDatabaseUrl } from '../src/config.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { describeEachBackend, type TestDatabase } from './helpers/backends.js';
import { readAllPages, type FeedEvent } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';
import { startDispatcher } from './helpers/webhooks.js';

const THIS_MIGRATION = '2026-12-02T0630-organization-tiny-payloads';
/** The migration just before this one: the schema the old-shape data was written under. */
const ALL_MIGRATIONS = Object.keys(await migrationProvider.getMigrations()).sort();
const PREVIOUS = ALL_MIGRATIONS[ALL_MIGRATIONS.indexOf(THIS_MIGRATION) - 1]!;
const SECRET = 'migration-secret';
const ORG_A = '01J00000000000000000000AAA';
const ORG_B = '01J00000000000000000000BBB';
// Needs escaping in JSON, so a naive text splice would corrupt the payload.
const NAME_A = 'Café "Quotes" \\ Co';
const NAME_B = 'Second Org';
/** More than the migration's batch (500), so the rewrite crosses batch and organization boundaries. */
const EVENTS_A = 1203;
const CUSTOMER = {
  createdAt: '2021-01-01T00:00:00Z',
  firstName: 'Ann',
  id: '01J000000000000000000CUST1',
  lastName: 'Lee',
  updatedAt: '2021-01-01T00:00:00Z',
};

/** Payloads as the previous version wrote them: the organization a bare id, last. */
function oldPayload(organizationId: string, sequence: number): string {
  if (sequence === 2)
    return JSON.stringify({ event: 'customer.deleted', customer: { id: CUSTOMER.id }, organization: organizationId });
  if (sequence % 3 === 0)
    return JSON.stringify({
      event: 'customer-list.created',
      customerList: { id: `list-${sequence}`, name: 'VIP' },
      organization: organizationId,
    });
  return JSON.stringify({ event: 'customer.created', customer: CUSTOMER, organization: organizationId });
}

const eventId = (organizationId: string, sequence: number) =>
  `01J0000000000000${String(sequence).padStart(6, '0')}${organizationId.slice(-4)}`;

async function writeOldShapeData(store: Store): Promise<void> {
  for (const [id, name, count] of [
    [ORG_A, NAME_A, EVENTS_A],
    [ORG_B, NAME_B, 4],
  ] as const) {
    await store.db
      .insertInto('organizations')
      .values({
        id,
        name,
        currency: 'AUD',
        timezone: 'Australia/Melbourne',
        created_at: Date.UTC(2021, 0, 1),
        clock: Date.UTC(2021, 0, 2),
        event_sequence: count,
      })
      .execute();
    const rows = Array.from({ length: count }, (_, i) => {
      const sequence = i + 1;
      const payload = oldPayload(id, sequence);
      return {
        organization_id: id,
        sequence,
        id: eventId(id, sequence),
        type: (JSON.parse(payload) as { event: string }).event,
        occurred_at: Date.UTC(2021, 0, 2) + sequence,
        payload,
      };
    });
    for (let i = 0; i < rows.length; i += 200)
      await store.db
        .insertInto('events')
        .values(rows.slice(i, i + 200))
        .execute();
  }
}

await describeEachBackend('migration: events carry the OrganizationTiny', (backend) => {
  let database: TestDatabase;
  let server: TestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    database = await backend.createDatabase();
    const store = await openStore(parseDatabaseUrl(database.url));
    try {
      const { error } = await store.withMigrationDb((db) =>
        new Migrator({ db, provider: migrationProvider }).migrateTo(PREVIOUS),
      );
      expect(error).toBeUndefined();
      await writeOldShapeData(store);
      // A subscription done with every event of organization A, with a recorded delivery of sequence 1 to redeliver.
      await store.db
        .insertInto('webhook_subscriptions')
        .values({
          organization_id: ORG_A,
          ref: 'hook',
          id: '01J0000000000000000000S0B1',
          url: `${receiver.url}/hook`,
          secret: SECRET,
          events: JSON.stringify(['customer.created', 'customer.deleted', 'customer-list.created']),
          created_at: Date.UTC(2021, 0, 1),
          updated_at: Date.UTC(2021, 0, 1),
          cursor_sequence: EVENTS_A,
          attempts: 0,
          next_attempt_at: 0,
          lease_owner: null,
          lease_until: null,
        })
        .execute();
      await store.db
        .insertInto('webhook_deliveries')
        .values({
          organization_id: ORG_A,
          id: '01J0000000000000000000DE11',
          subscription_id: '01J0000000000000000000S0B1',
          event_sequence: 1,
          event_id: eventId(ORG_A, 1),
          event_type: 'customer.created',
          attempt: 1,
          status: 'succeeded',
          response_status: 200,
          error: null,
          duration_ms: 3,
          next_attempt_at: null,
          replay: 0,
          // Recent: the dispatcher prunes attempts older than its retention when it starts.
          created_at: Date.now(),
        })
        .execute();
    } finally {
      await store.close();
    }
    // The server migrates the database to the latest version when it starts.
    server = await startTestServer(backend, { DATABASE_URL: database.url, WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    await receiver?.close();
  });

  it('rewrites every stored payload: the feed serves the new shape, in LOKE key order', async () => {
    for (const [id, name, count] of [
      [ORG_A, NAME_A, EVENTS_A],
      [ORG_B, NAME_B, 4],
    ] as const) {
      const token = await server.createToken([id], ['customers:read']);
      const events = await readAllPages<FeedEvent>(server, `/organizations/${id}/events`, token);
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      for (const event of events) {
        const { id: _id, sequence, occurredAt: _at, ...payload } = event;
        const expected = JSON.parse(oldPayload(id, sequence)) as Record<string, unknown>;
        expected.organization = { id, name };
        // Same keys in the same order, every other value unchanged.
        expect(JSON.stringify(payload)).toBe(JSON.stringify(expected));
      }
    }
    // Stored text: exactly what JSON.stringify of the new shape gives, nothing else altered.
    const stored = await server.store.db
      .selectFrom('events')
      .select(['sequence', 'payload'])
      .where('organization_id', '=', ORG_A)
      .where('sequence', 'in', [1, 2, 3, EVENTS_A])
      .orderBy('sequence')
      .execute();
    for (const row of stored) {
      const expected = JSON.parse(oldPayload(ORG_A, Number(row.sequence))) as Record<string, unknown>;
      expected.organization = { id: ORG_A, name: NAME_A };
      expect(row.payload).toBe(JSON.stringify(expected));
    }
  });

  it('a redelivery of an event stored before the migration sends the new shape', async () => {
    const dispatcher = startDispatcher(server.store, server.config, { timeoutMs: 10_000 });
    try {
      const token = await server.createToken([ORG_A], ['webhooks:manage']);
      const retry = await server.request<WebhookReplay>(
        'POST',
        `/organizations/${ORG_A}/webhooks/hook/deliveries/01J0000000000000000000DE11/retry`,
        { token },
      );
      expect(retry.status, retry.text).toBe(202);
      await vi.waitFor(() => expect(receiver.on('/hook')).toHaveLength(1), { timeout: 20_000, interval: 20 });
      const [delivered] = receiver.on('/hook');
      expect(verifyWebhookSignature(delivered!.body, delivered!.headers['x-event-signature'] as string, SECRET)).toBe(
        true,
      );
      expect(delivered!.headers['x-event-sequence']).toBe('1');
      expect(delivered!.headers['x-event-id']).toBe(eventId(ORG_A, 1));
      expect(delivered!.text).toBe(
        JSON.stringify({ event: 'customer.created', customer: CUSTOMER, organization: { id: ORG_A, name: NAME_A } }),
      );
    } finally {
      await dispatcher.stop();
    }
  });

  it('new events are written in the same shape as migrated ones', async () => {
    const customer = await server.createCustomer(ORG_B, { firstName: 'New' });
    const token = await server.createToken([ORG_B], ['customers:read']);
    const events = await readAllPages<FeedEvent>(server, `/organizations/${ORG_B}/events`, token);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ sequence: 5, event: 'customer.created', customer: { id: customer.id } });
    expect(Object.keys(last)).toEqual(['id', 'sequence', 'occurredAt', 'event', 'customer', 'organization']);
    expect(last.organization).toEqual({ id: ORG_B, name: NAME_B });
  });
});

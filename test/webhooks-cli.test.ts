import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { loadConfig } from '../src/config.js';
import { createServices, type Services } from '../src/services.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';

describe('customers-api webhooks', () => {
  let dir: string;
  let env: Record<string, string>;
  let store: Store;
  let services: Services;
  let organizationId: string;
  const deliveryId = '01JCLIDELIVERY000000000000';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-api-cli-'));
    env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'cli.db')}`,
      LOG_LEVEL: 'silent',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
    };
    const config = loadConfig(env);
    store = await openStore(config.database);
    await migrateToLatest(store);
    services = createServices(store, config);
    const org = await services.organizations.createOrganization({ name: 'CLI' });
    organizationId = org.id;
    await services.webhooks.putWebhook(org.id, 'crm', {
      url: 'http://127.0.0.1:9/hook',
      secret: 's',
      events: ['customer.created'],
    });
    const customer = await services.customers.createCustomer(org.id, { firstName: 'A', lastName: 'B' });
    const subscription = await store.db.selectFrom('webhook_subscriptions').selectAll().executeTakeFirstOrThrow();
    const event = await store.db.selectFrom('events').selectAll().executeTakeFirstOrThrow();
    expect(JSON.parse(event.payload).customer.id).toBe(customer.id);
    // The state a dispatcher leaves after the last failed attempt: a failed row and the cursor past the event.
    await store.db
      .insertInto('webhook_deliveries')
      .values({
        organization_id: org.id,
        id: deliveryId,
        subscription_id: subscription.id,
        event_sequence: event.sequence,
        event_id: event.id,
        event_type: event.type,
        attempt: 5,
        status: 'failed',
        response_status: 502,
        error: 'HTTP 502',
        duration_ms: 12,
        next_attempt_at: null,
        replay: 0,
        created_at: Date.now(),
      })
      .execute();
    await store.db.updateTable('webhook_subscriptions').set({ cursor_sequence: event.sequence }).execute();
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(args: string[]) {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const code = await main(args, env);
      return { code, output: log.mock.calls.map((call) => String(call[0])).join('\n') };
    } finally {
      log.mockRestore();
    }
  }

  it('lists subscriptions and delivery attempts', async () => {
    const list = await run(['webhooks', 'list', '--org', organizationId, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.output)).toEqual([
      { ref: 'crm', url: 'http://127.0.0.1:9/hook', events: ['customer.created'] },
    ]);
    const deliveries = await run(['webhooks', 'deliveries', '--org', organizationId, '--ref', 'crm']);
    expect(deliveries.code).toBe(0);
    expect(deliveries.output).toContain(`${deliveryId}`);
    expect(deliveries.output).toContain('attempt 5  failed  502  HTTP 502');
  });

  it('queues a redelivery of a failed attempt', async () => {
    const retry = await run(['webhooks', 'retry', '--org', organizationId, '--ref', 'crm', deliveryId, '--json']);
    expect(retry.code).toBe(0);
    const replay = JSON.parse(retry.output) as { id: string; eventSequence: number; event: string };
    expect(replay).toMatchObject({ eventSequence: 1, event: 'customer.created' });
    const queued = await store.db.selectFrom('webhook_replays').selectAll().execute();
    expect(queued).toMatchObject([{ id: replay.id, organization_id: organizationId, event_sequence: 1, attempts: 0 }]);
  });

  it('rejects missing arguments and unknown deliveries', async () => {
    await expect(run(['webhooks', 'retry', '--org', organizationId, deliveryId])).rejects.toThrow('needs --ref REF');
    await expect(run(['webhooks', 'retry', '--ref', 'crm', deliveryId])).rejects.toThrow('needs --org ORG_ID');
    await expect(
      run(['webhooks', 'retry', '--org', organizationId, '--ref', 'crm', '01JNOTADELIVERY00000000000']),
    ).rejects.toThrow('Delivery not found');
    expect(await store.db.selectFrom('webhook_replays').selectAll().execute()).toHaveLength(1);
  });
});

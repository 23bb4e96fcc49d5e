import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config.js';
import type { CustomerList } from '../src/contract/customer-lists.js';
import type { Customer } from '../src/contract/customers.js';
import { createServices } from '../src/services.js';
import { openStore } from '../src/store/open-store.js';
import { describeEachBackend } from './helpers/backends.js';
import { insertCustomersDirectly } from './helpers/bulk.js';
import type { FeedEvent } from './helpers/fixtures.js';
import { requestJson, startServerProcess, type JsonResponse, type ServerProcess } from './helpers/processes.js';
import { useTwoServerProcesses } from './helpers/two-processes.js';

// Segments across `customers-api serve` processes on one database: a process keeps the organization's segments in
// memory (under the segment version on the organization row), so a segment created, renamed, refiltered or deleted
// by another process must reach its very next write; and a build whose process dies is finished by another.

const call = requestJson;

async function readAll<T>(server: ServerProcess, token: string, path: string): Promise<T[]> {
  const items: T[] = [];
  for (let next: string | null = path; next !== null; ) {
    const page: JsonResponse<T[]> = await call<T[]>(server, token, 'GET', next);
    expect(page.status).toBe(200);
    items.push(...page.body);
    next = page.headers.get('x-next-page');
  }
  return items;
}

const lists = (orgId: string) => `/organizations/${orgId}/customer-lists`;

async function readyList(server: ServerProcess, token: string, orgId: string, listId: string): Promise<CustomerList> {
  for (;;) {
    const list = await call<CustomerList>(server, token, 'GET', `${lists(orgId)}/${listId}`);
    expect(list.status).toBe(200);
    if (list.body.status === 'ready') return list.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const memberIds = async (server: ServerProcess, token: string, orgId: string, listId: string) =>
  (await readAll<{ id: string }>(server, token, `${lists(orgId)}/${listId}/members?limit=100`)).map((m) => m.id).sort();

const listEvents = (events: readonly FeedEvent[], listId: string) =>
  events.filter((e) => e.event.startsWith('customer-list.member-') && (e.customerList as { id: string }).id === listId);

await describeEachBackend('segments across processes', (backend) => {
  describe('a segment changed by another process', () => {
    const two = useTwoServerProcesses(
      () => backend.createDatabase(),
      (database) => ({ ...database.serverEnv, DATABASE_POOL_SIZE: '4', RATE_LIMIT_PER_MINUTE: '0' }),
    );

    it('is honoured by the very next write of this process: created, renamed, refiltered, deleted', async () => {
      const org = await two.services.organizations.createOrganization({ name: 'Processes' });
      const { token } = await two.services.tokens.createToken({
        organizationIds: [org.id],
        scopes: ['customers:read', 'customers:write'],
      });
      const { a, b } = two;
      const customers = `/organizations/${org.id}/customers`;
      const created = await call<Customer>(a, token, 'POST', customers, { firstName: 'Alma', lastName: 'Writer' });
      expect(created.status).toBe(201);
      const id = created.body.id;
      const rename = async (firstName: string) =>
        expect((await call<Customer>(a, token, 'PATCH', `${customers}/${id}`, { firstName })).status).toBe(200);
      // Process a has now evaluated the organization's segments (none) and keeps them.
      await rename('Alba');
      const events = async () => readAll<FeedEvent>(a, token, `/organizations/${org.id}/events?afterSequence=0`);

      // Created in b, built in b; then a's next write must put the customer in.
      const segment = await call<CustomerList>(b, token, 'POST', lists(org.id), { name: 'Zeds', filter: { q: 'zed' } });
      expect(segment.status).toBe(201);
      const listId = segment.body.id;
      expect((await readyList(b, token, org.id, listId)).memberCount).toBe(0);
      await rename('Zed');
      expect(await memberIds(a, token, org.id, listId)).toEqual([id]);
      expect(
        listEvents(await events(), listId).map((e) => [e.event, (e.customerList as { name: string }).name]),
      ).toEqual([['customer-list.member-added', 'Zeds']]);

      // Renamed in b: a's events name it as it is now.
      expect((await call(b, token, 'PUT', `${lists(org.id)}/${listId}`, { name: 'Zed club' })).status).toBe(200);
      await rename('Alma');
      expect(await memberIds(a, token, org.id, listId)).toEqual([]);
      expect(listEvents(await events(), listId).at(-1)).toMatchObject({
        event: 'customer-list.member-removed',
        customerList: { id: listId, name: 'Zed club' },
      });

      // Refiltered in b and rebuilt there: a's next write follows the new rule, not the one it had seen.
      const refiltered = await call(b, token, 'PUT', `${lists(org.id)}/${listId}`, {
        name: 'Zed club',
        filter: { q: 'yolanda' },
      });
      expect(refiltered.status).toBe(200);
      await readyList(b, token, org.id, listId);
      await rename('Zed');
      expect(await memberIds(a, token, org.id, listId)).toEqual([]);
      await rename('Yolanda');
      expect(await memberIds(a, token, org.id, listId)).toEqual([id]);
      expect(listEvents(await events(), listId)).toHaveLength(3);

      // Deleted in b: a's next write neither fails nor brings the segment's memberships or events back.
      expect((await call(b, token, 'DELETE', `${lists(org.id)}/${listId}`)).status).toBe(204);
      const before = (await events()).length;
      await rename('Zed');
      await rename('Yolanda');
      const after = await events();
      expect(after.slice(before).map((e) => e.event)).toEqual(['customer.updated', 'customer.updated']);
      const stored = await two.store.db
        .selectFrom('customer_list_members')
        .select('customer_id')
        .where('organization_id', '=', org.id)
        .where('list_id', '=', listId)
        .execute();
      expect(stored).toEqual([]);
      expect((await call(a, token, 'GET', `${lists(org.id)}/${listId}`)).status).toBe(404);
    }, 120_000);
  });

  it('a build whose process is killed (kill -9) is taken over after its lease and finished exactly', async () => {
    const database = await backend.createDatabase();
    const env = {
      ...database.serverEnv,
      DATABASE_POOL_SIZE: '4',
      RATE_LIMIT_PER_MINUTE: '0',
      TOKEN_CACHE_TTL_MS: '1000',
      SEGMENT_BUILD_BATCH_SIZE: '100',
      SEGMENT_BUILD_LEASE_MS: '1500',
      SEGMENT_BUILD_POLL_INTERVAL_MS: '200',
    };
    const store = await openStore(parseDatabaseUrl(database.url), { poolSize: 2 });
    const processes: ServerProcess[] = [];
    try {
      // Migrated by the first process before the test writes anything.
      const builder = await startServerProcess(env);
      processes.push(builder);
      const services = createServices(store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 0 });
      const org = await services.organizations.createOrganization({ name: 'Lease' });
      const { token } = await services.tokens.createToken({
        organizationIds: [org.id],
        scopes: ['customers:read', 'customers:write'],
      });
      await insertCustomersDirectly(store, org.id, 20_000, { prefix: 'Lease' });
      const created = await call<CustomerList>(builder, token, 'POST', lists(org.id), {
        name: 'Lease ones',
        filter: { q: 'lease1' },
      });
      expect(created.status).toBe(201);
      const listId = created.body.id;
      const stored = () =>
        store.db
          .selectFrom('customer_lists')
          .select(['build_after', 'build_owner', 'segment_status'])
          .where('organization_id', '=', org.id)
          .where('id', '=', listId)
          .executeTakeFirstOrThrow();
      // Mid-build: some batches committed, the lease held.
      while (((await stored()).build_after ?? '') === '') await new Promise((resolve) => setTimeout(resolve, 5));
      builder.child.kill('SIGKILL');
      const killed = await builder.exited;
      expect(killed.signal).toBe('SIGKILL');
      const interrupted = await stored();
      expect(interrupted).toMatchObject({ segment_status: 'building' });
      expect(interrupted.build_owner).not.toBeNull();

      // Another process finds the build leased to a process that is gone, waits the lease out and finishes it.
      const heir = await startServerProcess(env);
      processes.push(heir);
      const ready = await readyList(heir, token, org.id, listId);

      const direct = (await readAll<Customer>(heir, token, `/organizations/${org.id}/customers?q=lease1&limit=100`))
        .map((c) => c.id)
        .sort();
      expect(direct.length).toBeGreaterThan(1_000);
      const members = await memberIds(heir, token, org.id, listId);
      expect(members).toEqual(direct);
      expect(ready.memberCount).toBe(direct.length);
      // The feed agrees: each member added once (the killed process's open batch rolled back with its events).
      const events = listEvents(
        await readAll<FeedEvent>(heir, token, `/organizations/${org.id}/events?afterSequence=0`),
        listId,
      );
      expect(events.every((e) => e.event === 'customer-list.member-added')).toBe(true);
      expect(events.map((e) => (e.customer as { id: string }).id).sort()).toEqual(direct);
    } finally {
      for (const process of processes) await process.stop();
      await store.close();
      await database.drop();
    }
  }, 300_000);
});

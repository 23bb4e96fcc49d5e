import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CustomerList } from '../src/contract/customer-lists.js';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 16: the bulk path of an import (the CLI, in batches, validation in a worker thread) leaves the database as
// the same rows written one at a time through the API would: customers, search rows and terms, the insight
// counters, events with their payloads in the same order, segment memberships. What differs by nature is named
// and left out: ids and the write times (a batch is one write with one time; each request has its own), and the
// surrogate row id of SQLite's search table.

type Record_ = Record<string, unknown>;

const OPTIONAL = ['email', 'phoneNumber', 'dob', 'gender', 'hasAgreedToMarketing', 'metadata'] as const;

/** The pre-existing customers, created one at a time in both organizations. */
function existingBodies(): Record_[] {
  return Array.from({ length: 12 }, (_, i) => ({
    firstName: `Olá ${i}`,
    lastName: i % 3 === 0 ? `O'Brien-Smith` : `Existing ${i}`,
    email: `existing.${i}@example.com`,
    ...(i % 2 === 0 ? { phoneNumber: `+6140000${String(1000 + i)}` } : {}),
    ...(i % 4 === 1 ? { gender: 'FEMALE', dob: '1990-02-03' } : {}),
    hasAgreedToMarketing: i % 3 !== 1,
    createdAt: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
  }));
}

/** The file: new customers mixed with whole-customer updates of existing ones (by email, some by id). */
function importRecords(existingIds: string[]): Record_[] {
  const records: Record_[] = [];
  for (let i = 0; i < 30; i++) {
    records.push({
      firstName: i % 5 === 0 ? 'José' : `New ${i}`,
      lastName: i % 7 === 0 ? 'Jean-Luc Núñez' : `Customer ${i}`,
      ...(i % 6 !== 5 ? { email: `New.Customer.${i}@Example.org` } : {}),
      ...(i % 3 === 0 ? { phoneNumber: `+614111${String(10000 + i)}` } : {}),
      ...(i % 4 === 2 ? { dob: '1985-12-31', gender: 'OTHER' } : {}),
      ...(i % 2 === 0 ? { hasAgreedToMarketing: i % 4 === 0 } : {}),
      // What COPY's text format must escape (PostgreSQL's bulk path): tab, newline, carriage return, backslash.
      ...(i % 5 === 1 ? { metadata: { tier: `t${i}`, note: `tab\there\nnew line\r\\N back\\slash ${i}` } } : {}),
      // Given, as a missing one is the write's time (one per batch in bulk, one per request one by one).
      createdAt: new Date(Date.UTC(2024, 5, 1 + i, 12, i % 4)).toISOString(),
    });
    // Every third record updates an existing customer: names change, optional fields come and go.
    if (i % 3 === 2) {
      const k = (i / 3) | 0;
      records.push({
        ...(k % 2 === 0 ? { id: `{id${k}}` } : {}),
        firstName: `Updated ${k}`,
        lastName: k % 2 === 0 ? 'Smith' : `Existing ${k}`,
        email: `existing.${k}@example.com`,
        ...(k % 3 === 0 ? { phoneNumber: '+61499888777' } : {}),
        ...(k % 2 === 1 ? { gender: 'MALE' } : {}),
        hasAgreedToMarketing: k % 3 === 1,
        ...(k === 4 ? { metadata: { vip: 'yes' } } : {}),
      });
    }
  }
  // Updates that leave name, email and phone as they are (the search rows are not rewritten in bulk).
  records.push(
    {
      firstName: 'Olá 10',
      lastName: 'Existing 10',
      email: 'existing.10@example.com',
      phoneNumber: '+61400001010',
      dob: '2000-01-01',
      hasAgreedToMarketing: false,
    },
    { id: '{id11}', firstName: 'Olá 11', lastName: 'Existing 11', email: 'existing.11@example.com', gender: 'OTHER' },
  );
  return records.map((record) =>
    typeof record.id === 'string' ? { ...record, id: existingIds[Number(record.id.slice(3, -1))] } : record,
  );
}

await describeEachBackend('an import leaves what the same rows written one by one leave', (backend) => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-equivalence-'));
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An organization with a segment and the existing customers, all written through the API. */
  async function prepared() {
    const org = await server.createOrganization('Same name');
    const tenant = { orgId: org.id, write: await server.createToken([org.id], ['customers:read', 'customers:write']) };
    const lists = `/organizations/${tenant.orgId}/customer-lists`;
    const segment = await server.request<CustomerList>('POST', lists, {
      token: tenant.write,
      body: { name: 'Marketing', filter: { hasAgreedToMarketing: true } },
    });
    expect(segment.status, segment.text).toBe(201);
    for (;;) {
      const list = await server.request<CustomerList>('GET', `${lists}/${segment.body.id}`, { token: tenant.write });
      if (list.body.status === 'ready') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ids: string[] = [];
    for (const body of existingBodies()) {
      const created = await server.request<Customer>('POST', `/organizations/${tenant.orgId}/customers`, {
        token: tenant.write,
        body,
      });
      expect(created.status, created.text).toBe(201);
      ids.push(created.body.id);
    }
    return { ...tenant, ids };
  }

  /** Every row the organization has in the tables an import writes, with ids as labels and write times left out. */
  async function snapshot(orgId: string) {
    const db = server.store.db;
    const customers = await db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', orgId)
      .orderBy('email_normalized')
      .orderBy('first_name')
      .execute();
    const labels = new Map<string, string>([[orgId, 'ORG']]);
    customers.forEach((row, i) => labels.set(row.id, `C${i}`));
    const label = (id: string) => labels.get(id) ?? `unknown ${id}`;
    const lists = await db
      .selectFrom('customer_lists')
      .select(['id', 'name', 'member_count', 'filter', 'segment_status'])
      .where('organization_id', '=', orgId)
      .execute();
    for (const list of lists) labels.set(list.id, `L:${list.name}`);
    const relabel = (value: unknown): unknown => {
      if (typeof value === 'string') return labels.get(value) ?? value;
      if (Array.isArray(value)) return value.map(relabel);
      if (value !== null && typeof value === 'object')
        return Object.fromEntries(
          Object.entries(value)
            .filter(([key]) => key !== 'updatedAt')
            .map(([key, item]) => [key, relabel(item)]),
        );
      return value;
    };
    const numeric = (row: Record_) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
    const search = await db
      .selectFrom('customer_search')
      .select(['customer_id', 'full_name', 'last_name', 'email', 'phone'])
      .where('organization_id', '=', orgId)
      .execute();
    const terms = await db
      .selectFrom('customer_search_terms')
      .select(['term', 'customer_id'])
      .where('organization_id', '=', orgId)
      .execute();
    const events = await db
      .selectFrom('events')
      .select(['sequence', 'id', 'type', 'payload'])
      .where('organization_id', '=', orgId)
      .orderBy('sequence')
      .execute();
    const firstSequence = Number(events[0]?.sequence ?? 0);
    const subjects = await db
      .selectFrom('event_customers')
      .select(['customer_id', 'sequence'])
      .where('organization_id', '=', orgId)
      .execute();
    const members = await db
      .selectFrom('customer_list_members')
      .select(['list_id', 'customer_id'])
      .where('organization_id', '=', orgId)
      .execute();
    const counters = await db
      .selectFrom('insight_counters')
      .selectAll()
      .where('organization_id', '=', orgId)
      .orderBy('slot')
      .execute();
    const totals = await db.selectFrom('insight_totals').selectAll().where('organization_id', '=', orgId).execute();
    const organization = await db
      .selectFrom('organizations')
      .select(['event_sequence'])
      .where('id', '=', orgId)
      .executeTakeFirstOrThrow();
    const sorted = <T>(rows: T[]) => rows.map((row) => JSON.stringify(row)).sort();
    return {
      customers: customers.map(({ id, organization_id: _o, updated_at: _u, ...rest }) => ({
        id: label(id),
        ...numeric(rest),
      })),
      search: sorted(search.map((row) => ({ ...row, customer_id: label(row.customer_id) }))),
      terms: sorted(terms.map((row) => ({ ...row, customer_id: label(row.customer_id) }))),
      events: events.map((event) => ({
        sequence: Number(event.sequence) - firstSequence,
        type: event.type,
        payload: relabel(JSON.parse(event.payload)),
      })),
      eventSequence: Number(organization.event_sequence) - firstSequence,
      idsAscend: events.every((event, i) => i === 0 || events[i - 1]!.id < event.id),
      subjects: sorted(
        subjects.map((row) => ({ customer: label(row.customer_id), sequence: Number(row.sequence) - firstSequence })),
      ),
      lists: lists.map(({ id: _id, ...rest }) => numeric(rest)),
      members: sorted(members.map((row) => ({ list: label(row.list_id), customer: label(row.customer_id) }))),
      counters: counters.map(({ organization_id: _o, ...rest }) => numeric(rest)),
      totals: totals.map(({ organization_id: _o, ...rest }) => numeric(rest)),
    };
  }

  // 4 rows a transaction mixes creates and updates in each batch; 500 puts the whole file in one (the store's bulk
  // insert: COPY on PostgreSQL).
  it.each([4, 500])('imports in batches of %i as the same creates and updates one at a time', async (batchSize) => {
    const bulk = await prepared();
    const single = await prepared();

    // Bulk: the CLI, validation in a worker thread.
    const file = path.join(dir, 'customers.ndjson');
    const records = importRecords(bulk.ids);
    fs.writeFileSync(file, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
    const cli = await runCli(
      ['import', '--org', bulk.orgId, file, '--batch-size', String(batchSize), '--threads', '1', '--json'],
      {
        DATABASE_URL: server.databaseUrl,
      },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ rows: records.length, inserted: 30, updated: 12, rejected: 0 });

    // One at a time: a create per new record, a whole-customer update (absent fields cleared) per existing one.
    for (const record of importRecords(single.ids)) {
      const existing =
        typeof record.id === 'string'
          ? record.id
          : single.ids[existingBodies().findIndex((body) => body.email === record.email)];
      const { id: _id, ...fields } = record;
      const response =
        existing === undefined
          ? await server.request('POST', `/organizations/${single.orgId}/customers`, {
              token: single.write,
              body: fields,
            })
          : await server.request('PATCH', `/organizations/${single.orgId}/customers/${existing}`, {
              token: single.write,
              body: { ...Object.fromEntries(OPTIONAL.map((name) => [name, null])), ...fields },
            });
      expect(response.status, response.text).toBeLessThan(300);
    }

    const expected = await snapshot(single.orgId);
    expect(expected.customers).toHaveLength(42);
    expect(expected.members.length).toBeGreaterThan(5);
    const actual = await snapshot(bulk.orgId);
    expect(actual.customers).toEqual(expected.customers);
    expect(actual.search).toEqual(expected.search);
    expect(actual.terms).toEqual(expected.terms);
    expect(actual.counters).toEqual(expected.counters);
    expect(actual.totals).toEqual(expected.totals);
    expect(actual.lists).toEqual(expected.lists);
    expect(actual.members).toEqual(expected.members);
    expect(actual.events).toEqual(expected.events);
    expect(actual.subjects).toEqual(expected.subjects);
    expect(actual.eventSequence).toBe(expected.eventSequence);
    expect([actual.idsAscend, expected.idsAscend]).toEqual([true, true]);
  });
});

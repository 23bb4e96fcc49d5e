import type { Organization } from '../contract/organizations.js';
import { insertCustomers, type CustomerRow } from '../store/repositories/customer-repository.js';
import {
  insertPointRecords,
  insertSpendRecords,
  type PointRecordRow,
  type SpendRecordRow,
} from '../store/repositories/ledger-repository.js';
import { insertCustomerLists, insertListMembers } from '../store/repositories/membership-repository.js';
import { raiseOrganizationClock } from '../store/repositories/organization-repository.js';
import type { Services } from '../services.js';
import { newId } from '../domain/ids.js';
import { normalizeEmail } from '../domain/contact.js';
import {
  createRandom,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  randomProfileAndStatistics,
  type Random,
} from './random-people.js';
import { customerCreated, listChanged, membershipChanged, recordEvents } from '../domain/events/event-log.js';

const LISTS = [
  'Loyal Customers',
  'VIP',
  'Newsletter',
  'Lapsed 90 days',
  'Birthday Club',
  'Coffee Lovers',
  'Weekend Regulars',
];

/** Splits `total` into `parts` positive integers (parts <= total). */
function split(total: number, parts: number, random: Random): number[] {
  const amounts: number[] = [];
  let left = total;
  for (let i = parts; i > 1; i--) {
    const amount = random.int(1, left - (i - 1));
    amounts.push(amount);
    left -= amount;
  }
  amounts.push(left);
  return amounts;
}

/**
 * Ledger entries that imply exactly the statistics each demo customer carries:
 * amounts sum to the totals and the latest entry of each kind is at the
 * customer's last-earned, last-redeemed and last-spent time.
 */
function ledgersFor(customers: CustomerRow[], random: Random) {
  const points: PointRecordRow[] = [];
  const spend: SpendRecordRow[] = [];
  for (const c of customers) {
    const entries = (total: number, last: number | null, sign: 1 | -1, prefix: string) => {
      if (total === 0 || last === null) return [];
      const amounts = split(total, Math.min(total, random.int(1, 4)), random);
      return amounts.map((amount, i) => ({
        reference: `demo-${prefix}-${i + 1}`,
        amount: sign * amount,
        // Earlier entries fall between creation and the last one.
        occurred_at:
          i === amounts.length - 1
            ? last
            : c.created_at + Math.floor((random.int(0, 1000) / 1000) * (last - c.created_at)),
      }));
    };
    for (const e of [
      ...entries(c.total_points_earned, c.last_points_earned_at, 1, 'earn'),
      ...entries(c.total_points_redeemed, c.last_points_redeemed_at, -1, 'redeem'),
    ]) {
      points.push({ organization_id: c.organization_id, customer_id: c.id, notes: null, ...e });
    }
    for (const e of entries(c.total_spend, c.last_spent_at, 1, 'sale')) {
      spend.push({ organization_id: c.organization_id, customer_id: c.id, ...e });
    }
  }
  return { points, spend };
}

export interface DemoOptions {
  name?: string;
  customers?: number;
  seed?: number;
}

export interface DemoResult {
  organization: Organization;
  customers: number;
  lists: number;
  memberships: number;
  readToken: string;
  writeToken: string;
}

/** Creates an organization filled with realistic customers, lists, memberships and statistics, and two tokens. */
export async function seedDemo(services: Services, options: DemoOptions = {}): Promise<DemoResult> {
  const random = createRandom(options.seed ?? 20211020);
  const count = options.customers ?? 3000;
  const organization = await services.organizations.createOrganization({
    name: options.name ?? 'Demo Coffee Co',
    currency: 'AUD',
    timezone: 'Australia/Melbourne',
  });
  const orgId = organization.id;
  const now = Date.now();
  const twoYears = 2 * 365 * 86_400_000;
  const emails = new Set<string>();

  const customers: CustomerRow[] = [];
  for (let i = 0; i < count; i++) {
    const firstName = random.pick(FIRST_NAMES);
    const lastName = random.pick(LAST_NAMES);
    const createdAt = now - twoYears + Math.floor(random.next() * (twoYears - 86_400_000));
    const updatedAt = Math.min(now - 1000, createdAt + Math.floor(random.next() * (now - createdAt)));
    let email: string | null = null;
    if (random.chance(0.9)) {
      const local = `${firstName}.${lastName}`.toLowerCase().replace(/[^a-z.]/g, '');
      email = `${local}${emails.has(local) ? random.int(1, 9999) : ''}@${random.pick(EMAIL_DOMAINS)}`;
      emails.add(local);
    }
    customers.push({
      organization_id: orgId,
      id: newId(createdAt),
      first_name: firstName,
      last_name: lastName,
      email,
      email_normalized: email === null ? null : normalizeEmail(email),
      // 04xx xxx xxx are Australian mobiles; 0491 570 xxx is reserved for fiction, but libphonenumber treats all 04 as valid.
      phone_number: random.chance(0.75)
        ? `+614${random.int(10, 99)}${String(random.int(0, 999_999)).padStart(6, '0')}`
        : null,
      created_at: createdAt,
      updated_at: updatedAt,
      ...randomProfileAndStatistics(random, createdAt, updatedAt),
    });
  }

  const lists = LISTS.slice(0, 6).map((name, i) => ({
    organization_id: orgId,
    id: newId(now - twoYears + i * 86_400_000),
    name,
    created_at: now - twoYears + i * 86_400_000,
    member_count: 0,
  }));
  const members: { organization_id: string; list_id: string; customer_id: string; added_at: number }[] = [];
  for (const customer of customers) {
    for (const list of lists) {
      if (random.chance(0.2)) {
        members.push({
          organization_id: orgId,
          list_id: list.id,
          customer_id: customer.id,
          added_at: customer.created_at,
        });
        list.member_count++;
      }
    }
  }

  const { points, spend } = ledgersFor(customers, createRandom((options.seed ?? 20211020) + 1));

  const maxUpdated = customers.reduce((max, c) => Math.max(max, c.updated_at), 0);
  await services.store.db.transaction().execute(async (trx) => {
    await insertCustomers(trx, customers);
    await insertPointRecords(trx, points);
    await insertSpendRecords(trx, spend);
    await insertCustomerLists(trx, lists);
    await insertListMembers(trx, members);
    // Later writes must sort after the imported history.
    await raiseOrganizationClock(trx, services.store, orgId, maxUpdated);
    // The feed starts with the demo's state, so a consumer replaying it from the start sees the same data as the reads.
    const customersById = new Map(customers.map((c) => [c.id, c]));
    const listsById = new Map(lists.map((l) => [l.id, l]));
    // In slices, so a large demo never holds every payload in memory at once.
    for (let i = 0; i < customers.length; i += 5000) {
      await recordEvents(trx, orgId, maxUpdated, customers.slice(i, i + 5000).map(customerCreated));
    }
    await recordEvents(
      trx,
      orgId,
      maxUpdated,
      lists.map((list) => listChanged('customer-list.created', list)),
    );
    for (let i = 0; i < members.length; i += 5000) {
      const slice = members.slice(i, i + 5000);
      await recordEvents(
        trx,
        orgId,
        maxUpdated,
        slice.map((m) =>
          membershipChanged('customer-list.member-added', listsById.get(m.list_id)!, customersById.get(m.customer_id)!),
        ),
      );
    }
  });

  const read = await services.tokens.createToken({
    organizationIds: [orgId],
    scopes: ['customers:read'],
    name: 'demo read',
  });
  const write = await services.tokens.createToken({
    organizationIds: [orgId],
    scopes: ['customers:read', 'customers:write'],
    name: 'demo write',
  });
  return {
    organization,
    customers: customers.length,
    lists: lists.length,
    memberships: members.length,
    readToken: read.token,
    writeToken: write.token,
  };
}

import type { Organization } from '../contract/organizations.js';
import { insertCustomers, type CustomerRow } from '../store/repositories/customer-repository.js';
import { insertPointRecords, type PointRecordRow } from '../store/repositories/ledger-repository.js';
import { insertLocations, type LocationRow } from '../store/repositories/location-repository.js';
import {
  insertPaymentItems,
  insertPaymentRows,
  type PaymentItemRow,
  type PaymentRecordRow,
} from '../store/repositories/payment-repository.js';
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
import {
  customerCreated,
  listChanged,
  membershipChanged,
  paymentChanged,
  recordEvents,
} from '../domain/events/event-log.js';
import { paymentRowToPayment } from '../domain/payments/payment-mapper.js';

const LISTS = [
  'Loyal Customers',
  'VIP',
  'Newsletter',
  'Lapsed 90 days',
  'Birthday Club',
  'Coffee Lovers',
  'Weekend Regulars',
];

const VENUES = [
  {
    name: 'Richmond',
    locality: 'Richmond',
    streetAddress: '12 Swan St',
    postalCode: '3121',
    lat: -37.8236,
    lng: 144.9913,
  },
  {
    name: 'Fitzroy',
    locality: 'Fitzroy',
    streetAddress: '221 Brunswick St',
    postalCode: '3065',
    lat: -37.7984,
    lng: 144.9784,
  },
  {
    name: 'St Kilda',
    locality: 'St Kilda',
    streetAddress: '5 Acland St',
    postalCode: '3182',
    lat: -37.8677,
    lng: 144.9811,
  },
];
const MENU = [
  { id: 'COF01', name: 'Flat white', amount: 480 },
  { id: 'COF02', name: 'Long black', amount: 420 },
  { id: 'FOD01', name: 'Avocado toast', amount: 1850 },
  { id: 'FOD02', name: 'Banana bread', amount: 650 },
  { id: 'BEA01', name: 'Beans 250 g', amount: 2200 },
];
const BILLING_TYPES = ['order/pickup', 'order/dine-in', 'order/delivery', 'tab'];

function demoLocations(organizationId: string, at: number): LocationRow[] {
  return VENUES.map((venue, i) => ({
    organization_id: organizationId,
    id: newId(at + i),
    name: venue.name,
    name_search: venue.name.toLowerCase(),
    slug: venue.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    timezone: 'Australia/Melbourne',
    phone_number: `+6139${String(4000000 + i * 1111).padStart(7, '0')}`,
    street_address: venue.streetAddress,
    street_address2: null,
    locality: venue.locality,
    region: 'VIC',
    postal_code: venue.postalCode,
    country: 'AU',
    latitude: venue.lat,
    longitude: venue.lng,
    created_at: at + i,
    updated_at: at + i,
  }));
}

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
 * Ledger entries and payments that imply exactly the statistics each demo
 * customer carries: amounts sum to the totals and the latest entry of each
 * kind is at the customer's last-earned, last-redeemed and last-spent time.
 * Payments are charged through LOKE (the amount that counts as spend), at one
 * of the locations, with items whose prices add up to the charge.
 */
function ledgersFor(customers: CustomerRow[], locations: LocationRow[], currency: string, random: Random) {
  const points: PointRecordRow[] = [];
  const payments: PaymentRecordRow[] = [];
  const items: PaymentItemRow[] = [];
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
      const id = newId(e.occurred_at);
      payments.push({
        organization_id: c.organization_id,
        id,
        location_id: random.pick(locations).id,
        customer_id: c.id,
        spend_reference: null,
        billing_type: random.pick(BILLING_TYPES),
        currency,
        charged_amount: e.amount,
        credit_amount: 0,
        discount_amount: 0,
        external_amount: 0,
        fee_amount: Math.round(e.amount * 0.015),
        tip_amount: 0,
        refunded_amount: 0,
        completed_at: e.occurred_at,
        refunded_at: null,
        created_at: e.occurred_at,
        updated_at: e.occurred_at,
        request_hash: '',
      });
      // One or two menu lines, the last priced so that the lines add up to the charge.
      const first = random.pick(MENU);
      const lines =
        e.amount > first.amount
          ? [first, { ...random.pick(MENU), amount: e.amount - first.amount }]
          : [{ ...first, amount: e.amount }];
      lines.forEach((line, position) =>
        items.push({
          organization_id: c.organization_id,
          payment_id: id,
          position,
          id: line.id,
          name: line.name,
          amount: line.amount,
          quantity: 1,
          type: 'item',
          options: '[]',
        }),
      );
    }
  }
  return { points, payments, items };
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
  locations: number;
  payments: number;
  readToken: string;
  writeToken: string;
}

/**
 * Creates an organization filled with realistic customers, lists, memberships, locations, a payment history and
 * statistics that equal it, and two tokens.
 */
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

  const locations = demoLocations(orgId, now - twoYears);
  const { points, payments, items } = ledgersFor(
    customers,
    locations,
    organization.currency,
    createRandom((options.seed ?? 20211020) + 1),
  );

  const maxUpdated = Math.max(
    customers.reduce((max, c) => Math.max(max, c.updated_at), 0),
    payments.reduce((max, p) => Math.max(max, p.updated_at), 0),
  );
  await services.store.db.transaction().execute(async (trx) => {
    await insertCustomers(trx, customers);
    await insertPointRecords(trx, points);
    await insertLocations(trx, locations);
    await insertPaymentRows(trx, payments);
    await insertPaymentItems(trx, items);
    await insertCustomerLists(trx, lists);
    await insertListMembers(trx, members);
    // Later writes must sort after the imported history.
    await raiseOrganizationClock(trx, services.store, orgId, maxUpdated);
    // The feed starts with the demo's state, so a consumer replaying it from the start sees the same data as the reads.
    const customersById = new Map(customers.map((c) => [c.id, c]));
    const listsById = new Map(lists.map((l) => [l.id, l]));
    // In slices, so a large demo never holds every payload in memory at once.
    for (let i = 0; i < customers.length; i += 5000) {
      await recordEvents(trx, services.store, orgId, maxUpdated, customers.slice(i, i + 5000).map(customerCreated));
    }
    await recordEvents(
      trx,
      services.store,
      orgId,
      maxUpdated,
      lists.map((list) => listChanged('customer-list.created', list)),
    );
    for (let i = 0; i < members.length; i += 5000) {
      const slice = members.slice(i, i + 5000);
      await recordEvents(
        trx,
        services.store,
        orgId,
        maxUpdated,
        slice.map((m) =>
          membershipChanged('customer-list.member-added', listsById.get(m.list_id)!, customersById.get(m.customer_id)!),
        ),
      );
    }
    const itemsByPayment = new Map<string, PaymentItemRow[]>();
    for (const item of items) {
      let list = itemsByPayment.get(item.payment_id);
      if (!list) itemsByPayment.set(item.payment_id, (list = []));
      list.push(item);
    }
    const locationsById = new Map(locations.map((l) => [l.id, l]));
    for (let i = 0; i < payments.length; i += 5000) {
      await recordEvents(
        trx,
        services.store,
        orgId,
        maxUpdated,
        payments.slice(i, i + 5000).map((p) => {
          const customer = customersById.get(p.customer_id!)!;
          const row = {
            ...p,
            customer_email: customer.email,
            customer_first_name: customer.first_name,
            customer_last_name: customer.last_name,
            customer_phone_number: customer.phone_number,
          };
          const payment = paymentRowToPayment(row, itemsByPayment.get(p.id) ?? []);
          return paymentChanged('payment.completed', payment, locationsById.get(p.location_id!));
        }),
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
    locations: locations.length,
    payments: payments.length,
    readToken: read.token,
    writeToken: write.token,
  };
}

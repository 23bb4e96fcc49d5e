/**
 * The physical baseline: a bare node:http server answering the benchmark's
 * requests with one prepared statement each and JSON.stringify. No framework,
 * no auth, no validation beyond what the SQL needs, no logging. It produces
 * the same JSON shapes as customers-api, so the difference between the two is
 * what the framework, auth, logging, validation and mapping cost.
 *
 *   node bench/.build/bench/baseline/server.js <sqlite:/path/to.db | postgres://...> <port>
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { monotonicFactory } from 'ulidx';
import { customerSearchRow, customerSearchTerms, phoneSuffixes } from '../../src/store/customer-search-text.js';
import type { InsightInterval } from '../../src/contract/insights.js';
import { bucketsCovering } from '../../src/domain/insights/buckets.js';
import { formatMillis, parseTimestamp } from '../../src/domain/time.js';

interface Row {
  organization_id: string;
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone_number: string | null;
  dob: string | null;
  gender: string | null;
  has_agreed_to_marketing: number | null;
  created_at: number;
  updated_at: number;
  points_balance: number;
  total_points_earned: number;
  total_points_redeemed: number;
  total_spend: number;
  last_points_earned_at: number | null;
  last_points_redeemed_at: number | null;
  last_spent_at: number | null;
}

interface Driver {
  byId(org: string, id: string): Promise<Row | undefined>;
  page(sort: 'created' | 'updated', filter: 'none' | 'email' | 'phone', params: unknown[]): Promise<Row[]>;
  create?(
    org: string,
    fields: Omit<Row, 'organization_id' | 'id' | 'created_at' | 'updated_at'> & { email_normalized: string | null },
  ): Row | undefined;
  /** Records a points adjustment: 204, or 404 (no customer), 409 (reference taken) or 422-ish (balance too low). */
  adjustPoints?(org: string, customerId: string, reference: string, amount: number): 204 | 404 | 409 | 400;
  /** Records a completed payment: 201 (with its JSON), 200 (the same body again), 409 (another body), 400/404. */
  recordPayment?(org: string, id: string, payment: BarePayment, hash: string): { status: number; body: unknown };
  timezoneOf(org: string): Promise<string | undefined>;
  /** The statements GET .../insights runs: per-bucket sums of insight_counters, insight_totals, the top lists. */
  insights(org: string, buckets: readonly { start: number; end: number }[]): Promise<InsightRows>;
}

interface CounterRow {
  i: number;
  new_customers: number;
  points_earned: number;
  points_redeemed: number;
  spend: number;
}

interface InsightRows {
  counters: CounterRow[];
  totals: { agreed: number; customers: number } | undefined;
  lists: { id: string; name: string; member_count: number }[];
}

/**
 * The statement of insight-repository.ts's bucketCountersQuery, written out: one VALUES row per bucket; a LATERAL sum
 * per bucket on PostgreSQL, a LEFT JOIN grouped by bucket on SQLite (which has no LATERAL).
 */
function countersSql(
  buckets: number,
  placeholder: (n: number) => string,
  bigint: (p: string) => string,
  lateral: boolean,
): string {
  const values = Array.from(
    { length: buckets },
    (_, i) => `(${i}, ${bigint(placeholder(2 * i + 1))}, ${bigint(placeholder(2 * i + 2))})`,
  );
  const sums = `coalesce(sum(c.new_customers), 0) as new_customers, coalesce(sum(c.points_earned), 0) as points_earned,
      coalesce(sum(c.points_redeemed), 0) as points_redeemed, coalesce(sum(c.spend), 0) as spend`;
  const range = `c.organization_id = ${placeholder(2 * buckets + 1)} and c.slot >= b.s and c.slot < b.e`;
  if (lateral) {
    return `with b(i, s, e) as (values ${values.join(', ')})
    select b.i, x.new_customers, x.points_earned, x.points_redeemed, x.spend
    from b cross join lateral (select ${sums} from insight_counters c where ${range}) x
    order by b.i`;
  }
  return `with b(i, s, e) as (values ${values.join(', ')})
    select b.i, ${sums}
    from b left join insight_counters c on ${range}
    group by b.i order by b.i`;
}
const TOTALS_SQL = (p: string) => `select agreed, customers from insight_totals where organization_id = ${p}`;
const TOP_LISTS_SQL = (p: string) =>
  `select id, name, member_count from customer_lists where organization_id = ${p} order by member_count desc, id limit 5`;
const TIMEZONE_SQL = (p: string) => `select timezone from organizations where id = ${p}`;
// In the order of the statement's placeholders (SQLite's `?` are positional): the buckets' bounds, then the org.
const bucketParams = (org: string, buckets: readonly { start: number; end: number }[]) => [
  ...buckets.flatMap((b) => [b.start, b.end]),
  org,
];

interface BarePayment {
  billingType: string;
  chargedAmount: number;
  customerId: string | null;
  items: { id: string; name: string; amount: number; quantity: number }[];
}

const PAGE = 1000;
const FIRST_AT = Number.MAX_SAFE_INTEGER;
const FIRST_ID = '\u{10FFFF}';

function pageSql(
  sort: 'created' | 'updated',
  filter: 'none' | 'email' | 'phone',
  placeholder: (n: number) => string,
): string {
  const column = sort === 'updated' ? 'updated_at' : 'created_at';
  const where =
    filter === 'email'
      ? ` and email_normalized = ${placeholder(4)}`
      : filter === 'phone'
        ? ` and phone_number = ${placeholder(4)}`
        : '';
  const limit = placeholder(filter === 'none' ? 4 : 5);
  return `select * from customers where organization_id = ${placeholder(1)} and (${column}, id) < (${placeholder(2)}, ${placeholder(3)})${where} order by ${column} desc, id desc limit ${limit}`;
}

function sqliteDriver(file: string): Driver {
  const reader = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  reader.pragma('cache_size = -65536');
  const writer = new BetterSqlite3(file, { fileMustExist: true });
  writer.pragma('journal_mode = WAL');
  writer.pragma('synchronous = NORMAL');
  writer.pragma('busy_timeout = 5000');
  const byId = reader.prepare('select * from customers where organization_id = ? and id = ?');
  const pages = new Map<string, BetterSqlite3.Statement>();
  for (const sort of ['created', 'updated'] as const) {
    for (const filter of ['none', 'email', 'phone'] as const)
      pages.set(`${sort}:${filter}`, reader.prepare(pageSql(sort, filter, () => '?')));
  }
  const insert = writer.prepare(
    `insert into customers (organization_id, id, first_name, last_name, email, email_normalized, phone_number, dob, gender,
       has_agreed_to_marketing, created_at, updated_at, points_balance, total_points_earned, total_points_redeemed, total_spend,
       last_points_earned_at, last_points_redeemed_at, last_spent_at)
     values (@organization_id, @id, @first_name, @last_name, @email, @email_normalized, @phone_number, @dob, @gender,
       @has_agreed_to_marketing, @created_at, @updated_at, 0, 0, 0, 0, null, null, null)`,
  );
  const nextId = monotonicFactory();
  const customerForUpdate = writer.prepare('select * from customers where organization_id = ? and id = ?');
  const pointRecordExists = writer.prepare(
    'select 1 from point_records where organization_id = ? and customer_id = ? and reference = ?',
  );
  const insertPointRecord = writer.prepare(
    'insert into point_records (organization_id, customer_id, reference, amount, notes, occurred_at) values (?, ?, ?, ?, null, ?)',
  );
  const updateStatistics = writer.prepare(
    `update customers set points_balance = points_balance + @amount,
       total_points_earned = total_points_earned + max(@amount, 0), total_points_redeemed = total_points_redeemed + max(-@amount, 0),
       last_points_earned_at = case when @amount > 0 then @now else last_points_earned_at end,
       last_points_redeemed_at = case when @amount < 0 then @now else last_points_redeemed_at end,
       updated_at = @now
     where organization_id = @org and id = @id returning *`,
  );
  const tickEvent = writer.prepare(
    'update organizations set clock = max(clock + 1, ?), event_sequence = event_sequence + 1 where id = ? returning clock, event_sequence',
  );
  const insertEvent = writer.prepare(
    'insert into events (organization_id, sequence, id, type, occurred_at, payload) values (?, ?, ?, ?, ?, ?)',
  );
  const insertEventCustomer = writer.prepare(
    'insert into event_customers (organization_id, customer_id, sequence) values (?, ?, ?)',
  );
  // The same work a points adjustment must do: commit order, ledger entry, statistics, and the change-feed event.
  const adjust = writer.transaction(
    (org: string, customerId: string, reference: string, amount: number): 204 | 404 | 409 | 400 => {
      const tick = tickEvent.get(Date.now(), org) as { clock: number; event_sequence: number } | undefined;
      if (!tick) return 404;
      const customer = customerForUpdate.get(org, customerId) as Row | undefined;
      if (!customer) return 404;
      if (pointRecordExists.get(org, customerId, reference)) return 409;
      if (customer.points_balance + amount < 0) return 400;
      insertPointRecord.run(org, customerId, reference, amount, tick.clock);
      const updated = updateStatistics.get({ amount, now: tick.clock, org, id: customerId }) as Row;
      const payload = JSON.stringify({ event: 'customer.statistics.updated', customer: toCustomer(updated) });
      insertEvent.run(org, tick.event_sequence, nextId(tick.clock), 'customer.statistics.updated', tick.clock, payload);
      insertEventCustomer.run(org, customerId, tick.event_sequence);
      return 204;
    },
  );
  // The same work recording a payment must do: commit order, the payment and its items, the customer's spend
  // statistics, and the payment.completed and customer.updated-statistics events.
  const tickTwoEvents = writer.prepare(
    'update organizations set clock = max(clock + 1, ?), event_sequence = event_sequence + 2 where id = ? returning clock, event_sequence, currency',
  );
  const paymentHash = writer.prepare('select request_hash from payments where organization_id = ? and id = ?');
  const insertPayment = writer.prepare(
    `insert into payments (organization_id, id, location_id, customer_id, spend_reference, billing_type, currency,
       charged_amount, credit_amount, discount_amount, external_amount, fee_amount, tip_amount, refunded_amount,
       completed_at, refunded_at, created_at, updated_at, request_hash)
     values (?, ?, null, ?, null, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, null, ?, ?, ?)`,
  );
  const insertPaymentItem = writer.prepare(
    `insert into payment_items (organization_id, payment_id, position, id, name, amount, quantity, type, options)
     values (?, ?, ?, ?, ?, ?, ?, 'item', '[]')`,
  );
  const addSpend = writer.prepare(
    `update customers set total_spend = total_spend + @amount, last_spent_at = max(coalesce(last_spent_at, 0), @now),
       updated_at = @now where organization_id = @org and id = @id returning *`,
  );
  const record = writer.transaction((org: string, id: string, payment: BarePayment, hash: string) => {
    const tick = tickTwoEvents.get(Date.now(), org) as
      | { clock: number; event_sequence: number; currency: string }
      | undefined;
    if (!tick) return { status: 404, body: { code: 'not_found' } };
    const existing = paymentHash.get(org, id) as { request_hash: string } | undefined;
    if (existing) return existing.request_hash === hash ? { status: 200, body: { id } } : { status: 409, body: {} };
    const customer = payment.customerId === null ? undefined : (customerForUpdate.get(org, payment.customerId) as Row);
    if (payment.customerId !== null && !customer) return { status: 400, body: { code: 'customerId' } };
    insertPayment.run(
      org,
      id,
      payment.customerId,
      payment.billingType,
      tick.currency,
      payment.chargedAmount,
      tick.clock,
      tick.clock,
      tick.clock,
      hash,
    );
    payment.items.forEach((item, i) =>
      insertPaymentItem.run(org, id, i, item.id, item.name, item.amount, item.quantity),
    );
    const body = {
      billingType: payment.billingType,
      chargedAmount: payment.chargedAmount,
      completedAt: new Date(tick.clock).toISOString(),
      currency: tick.currency,
      ...(customer
        ? { customer: { id: customer.id, firstName: customer.first_name, lastName: customer.last_name } }
        : {}),
      id,
      items: payment.items,
    };
    insertEvent.run(
      org,
      tick.event_sequence - 1,
      nextId(tick.clock),
      'payment.completed',
      tick.clock,
      JSON.stringify({ event: 'payment.completed', payment: body }),
    );
    if (customer) {
      insertEventCustomer.run(org, customer.id, tick.event_sequence - 1);
      const updated = addSpend.get({ amount: payment.chargedAmount, now: tick.clock, org, id: customer.id }) as Row;
      insertEvent.run(
        org,
        tick.event_sequence,
        nextId(tick.clock),
        'customer.updated-statistics',
        tick.clock,
        JSON.stringify({ event: 'customer.updated-statistics', customer: toCustomer(updated) }),
      );
      insertEventCustomer.run(org, customer.id, tick.event_sequence);
    }
    return { status: 201, body };
  });
  const insertSearch = writer.prepare(
    `insert into customer_search (organization_id, customer_id, full_name, last_name, email, phone)
     values (@organization_id, @customer_id, @full_name, @last_name, @email, @phone)`,
  );
  const insertSearchTerm = writer.prepare(
    'insert into customer_search_terms (organization_id, term, customer_id) values (?, ?, ?)',
  );
  const insertSearchSuffix = writer.prepare(
    'insert into customer_search_suffixes (organization_id, suffix, customer_id) values (?, ?, ?)',
  );
  // The same rows a create writes: the customer, its search row (the FTS5 trigger indexes it), 2-character terms
  // and phone suffixes (the same folding as ours, so the same number of rows), the customer.created event and its
  // index row.
  const create = writer.transaction((org: string, fields: Parameters<NonNullable<Driver['create']>>[1]) => {
    const clock = tickEvent.get(Date.now(), org) as { clock: number; event_sequence: number } | undefined;
    if (!clock) return undefined;
    const row = {
      ...fields,
      organization_id: org,
      id: nextId(clock.clock),
      created_at: clock.clock,
      updated_at: clock.clock,
    };
    insert.run(row);
    const search = customerSearchRow(row);
    insertSearch.run(search);
    for (const term of customerSearchTerms(search)) insertSearchTerm.run(org, term, row.id);
    for (const suffix of phoneSuffixes(search.phone)) insertSearchSuffix.run(org, suffix, row.id);
    const payload = JSON.stringify({ event: 'customer.created', customer: toCustomer(row as Row) });
    insertEvent.run(org, clock.event_sequence, nextId(clock.clock), 'customer.created', clock.clock, payload);
    insertEventCustomer.run(org, row.id, clock.event_sequence);
    return row as Row;
  });
  const counters = new Map<number, BetterSqlite3.Statement>();
  const totals = reader.prepare(TOTALS_SQL('?'));
  const topLists = reader.prepare(TOP_LISTS_SQL('?'));
  const timezone = reader.prepare(TIMEZONE_SQL('?'));
  const countersOf = (n: number) => {
    let statement = counters.get(n);
    if (!statement)
      counters.set(
        n,
        (statement = reader.prepare(
          countersSql(
            n,
            () => '?',
            (p) => p,
            false,
          ),
        )),
      );
    return statement;
  };
  return {
    timezoneOf: (org) => Promise.resolve((timezone.get(org) as { timezone: string } | undefined)?.timezone),
    insights: (org, buckets) =>
      Promise.resolve({
        counters: countersOf(buckets.length).all(...bucketParams(org, buckets)) as CounterRow[],
        totals: totals.get(org) as InsightRows['totals'],
        lists: topLists.all(org) as InsightRows['lists'],
      }),
    byId: (org, id) => Promise.resolve(byId.get(org, id) as Row | undefined),
    page: (sort, filter, params) => Promise.resolve(pages.get(`${sort}:${filter}`)!.all(...params) as Row[]),
    create: (org, fields) => create.immediate(org, fields),
    adjustPoints: (org, customerId, reference, amount) => adjust.immediate(org, customerId, reference, amount),
    recordPayment: (org, id, payment, hash) => record.immediate(org, id, payment, hash),
  };
}

function postgresDriver(url: string): Driver {
  const INT8 = 20;
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8
          ? (value: string) => Number(value)
          : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as typeof pg.types.getTypeParser,
    },
  });
  const run = async (name: string, text: string, values: unknown[]) =>
    (await pool.query<Row>({ name, text, values })).rows;
  const byIdSql = 'select * from customers where organization_id = $1 and id = $2';
  const query = async <T extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) =>
    (await pool.query<T>({ name, text, values })).rows;
  return {
    timezoneOf: async (org) =>
      (await query<{ timezone: string }>('base_timezone', TIMEZONE_SQL('$1'), [org]))[0]?.timezone,
    insights: async (org, buckets) => {
      const [counters, totals, lists] = await Promise.all([
        query<CounterRow>(
          `base_counters_${buckets.length}`,
          countersSql(
            buckets.length,
            (n) => `$${n}`,
            (p) => `cast(${p} as bigint)`,
            true,
          ),
          bucketParams(org, buckets),
        ),
        query<{ agreed: number; customers: number }>('base_totals', TOTALS_SQL('$1'), [org]),
        query<InsightRows['lists'][number]>('base_top_lists', TOP_LISTS_SQL('$1'), [org]),
      ]);
      return { counters, totals: totals[0], lists };
    },
    byId: async (org, id) => (await run('base_by_id', byIdSql, [org, id]))[0],
    page: (sort, filter, params) =>
      run(
        `base_${sort}_${filter}`,
        pageSql(sort, filter, (n) => `$${n}`),
        params,
      ),
  };
}

function seconds(ms: number): string {
  return `${new Date(ms - (ms % 1000)).toISOString().slice(0, 19)}Z`;
}

/** The Customer shape, keys in the same order as the API's schema. */
function toCustomer(row: Row) {
  const statistics: Record<string, string | number> = {};
  if (row.last_points_earned_at !== null)
    statistics.lastPointsEarnedAt = new Date(row.last_points_earned_at).toISOString();
  if (row.last_points_redeemed_at !== null)
    statistics.lastPointsRedeemedAt = new Date(row.last_points_redeemed_at).toISOString();
  if (row.last_spent_at !== null) statistics.lastSpentAt = new Date(row.last_spent_at).toISOString();
  statistics.pointsBalance = row.points_balance;
  statistics.totalPointsEarned = row.total_points_earned;
  statistics.totalPointsRedeemed = row.total_points_redeemed;
  statistics.totalSpend = row.total_spend;
  return {
    createdAt: seconds(row.created_at),
    dob: row.dob ?? undefined,
    email: row.email ?? undefined,
    firstName: row.first_name,
    gender: row.gender ?? undefined,
    hasAgreedToMarketing: row.has_agreed_to_marketing === null ? undefined : row.has_agreed_to_marketing === 1,
    id: row.id,
    lastName: row.last_name,
    phoneNumber: row.phone_number ?? undefined,
    statistics,
    updatedAt: seconds(row.updated_at),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const POINTS = /^\/organizations\/([^/]+)\/customers\/([^/]+)\/points\/([^/]+)$/;
const PAYMENT = /^\/organizations\/([^/]+)\/payments\/([^/]+)$/;
const ITEM = /^\/organizations\/([^/]+)\/customers\/([^/]+)$/;
const LIST = /^\/organizations\/([^/]+)\/customers$/;
const INSIGHTS = /^\/organizations\/([^/]+)\/insights$/;

/** GET .../insights?from&to&interval with both bounds given (the bench always gives them), the API's JSON shape. */
async function insights(driver: Driver, org: string, query: URLSearchParams) {
  const interval = (query.get('interval') ?? 'week') as InsightInterval;
  const from = parseTimestamp(query.get('from') ?? '');
  const to = parseTimestamp(query.get('to') ?? '');
  const timezone = await driver.timezoneOf(org);
  if (timezone === undefined) return { status: 404, body: { code: 'not_found', message: 'Organization not found' } };
  if (from === undefined || to === undefined || from >= to) return { status: 400, body: { code: 'invalid_request' } };
  const buckets = bucketsCovering(timezone, interval, from, to, 366);
  if (!buckets) return { status: 400, body: { code: 'invalid_request' } };
  const rows = await driver.insights(org, buckets);
  const series = (column: Exclude<keyof CounterRow, 'i'>) =>
    buckets.map((bucket, i) => ({ start: formatMillis(bucket.start), value: Number(rows.counters[i]![column]) }));
  return {
    status: 200,
    body: {
      from: formatMillis(buckets[0]!.start),
      interval,
      marketingOptIn: { agreed: Number(rows.totals?.agreed ?? 0), total: Number(rows.totals?.customers ?? 0) },
      series: {
        newCustomers: series('new_customers'),
        pointsEarned: series('points_earned'),
        pointsRedeemed: series('points_redeemed'),
        spend: series('spend'),
      },
      timezone,
      to: formatMillis(buckets.at(-1)!.end),
      topLists: rows.lists.map((list) => ({ id: list.id, memberCount: Number(list.member_count), name: list.name })),
    },
  };
}

function createHandler(driver: Driver) {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    let m = POINTS.exec(path);
    if (m && req.method === 'PUT' && driver.adjustPoints) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { amount?: unknown };
      if (typeof body.amount !== 'number' || !Number.isInteger(body.amount) || body.amount === 0) {
        return send(res, 400, { code: 'invalid_request', message: 'amount' });
      }
      const status = driver.adjustPoints(
        decodeURIComponent(m[1]!),
        decodeURIComponent(m[2]!),
        decodeURIComponent(m[3]!),
        body.amount,
      );
      if (status === 204) {
        res.writeHead(204);
        return res.end();
      }
      return send(res, status, { code: String(status), message: 'points adjustment refused' });
    }
    m = PAYMENT.exec(path);
    if (m && req.method === 'PUT' && driver.recordPayment) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (typeof body.billingType !== 'string' || typeof body.chargedAmount !== 'number')
        return send(res, 400, { code: 'invalid_request', message: 'billingType, chargedAmount' });
      const result = driver.recordPayment(
        decodeURIComponent(m[1]!),
        decodeURIComponent(m[2]!),
        {
          billingType: body.billingType,
          chargedAmount: body.chargedAmount,
          customerId: typeof body.customerId === 'string' ? body.customerId : null,
          items: Array.isArray(body.items) ? (body.items as BarePayment['items']) : [],
        },
        createHash('sha256').update(raw).digest('base64url'),
      );
      return send(res, result.status, result.body);
    }
    m = INSIGHTS.exec(path);
    if (m && req.method === 'GET') {
      const result = await insights(
        driver,
        decodeURIComponent(m[1]!),
        new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
      );
      return send(res, result.status, result.body);
    }
    m = ITEM.exec(path);
    if (m && req.method === 'GET') {
      const row = await driver.byId(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      return row
        ? send(res, 200, toCustomer(row))
        : send(res, 404, { code: 'not_found', message: 'Customer not found' });
    }
    m = LIST.exec(path);
    if (m && req.method === 'GET') {
      const org = decodeURIComponent(m[1]!);
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      const sort = query.get('sort') === 'updated' ? 'updated' : 'created';
      const email = query.get('email');
      const phone = query.get('phoneNumber');
      const filter = email !== null ? 'email' : phone !== null ? 'phone' : 'none';
      let at = FIRST_AT;
      let id = FIRST_ID;
      const after = query.get('after');
      if (after !== null) [at, id] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as [number, string];
      const params: unknown[] = [org, at, id];
      if (filter === 'email') params.push(email!.trim().toLowerCase());
      if (filter === 'phone') params.push(phone);
      params.push(PAGE + 1);
      const rows = await driver.page(sort, filter, params);
      const headers: Record<string, string> = {};
      if (rows.length > PAGE) {
        const last = rows[PAGE - 1]!;
        query.set(
          'after',
          Buffer.from(JSON.stringify([sort === 'updated' ? last.updated_at : last.created_at, last.id])).toString(
            'base64url',
          ),
        );
        headers['x-next-page'] = `http://${req.headers.host}${path}?${query.toString()}`;
        rows.length = PAGE;
      }
      return send(res, 200, rows.map(toCustomer), headers);
    }
    if (m && req.method === 'POST' && driver.create) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (typeof body.firstName !== 'string' || typeof body.lastName !== 'string')
        return send(res, 400, { code: 'invalid_request', message: 'names' });
      const email = typeof body.email === 'string' ? body.email : null;
      const row = driver.create(m[1]!, {
        first_name: body.firstName,
        last_name: body.lastName,
        email,
        email_normalized: email === null ? null : email.trim().toLowerCase(),
        phone_number: typeof body.phoneNumber === 'string' ? body.phoneNumber : null,
        dob: typeof body.dob === 'string' ? body.dob : null,
        gender: typeof body.gender === 'string' ? body.gender : null,
        has_agreed_to_marketing:
          typeof body.hasAgreedToMarketing === 'boolean' ? (body.hasAgreedToMarketing ? 1 : 0) : null,
        points_balance: 0,
        total_points_earned: 0,
        total_points_redeemed: 0,
        total_spend: 0,
        last_points_earned_at: null,
        last_points_redeemed_at: null,
        last_spent_at: null,
      });
      return row
        ? send(res, 201, toCustomer(row))
        : send(res, 404, { code: 'not_found', message: 'Organization not found' });
    }
    return send(res, 404, { code: 'not_found', message: 'Not found' });
  };
}

const [target, port] = process.argv.slice(2);
if (!target || !port) {
  console.error('usage: baseline/server.js <sqlite:/path | postgres://...> <port>');
  process.exit(2);
}
const driver = target.startsWith('sqlite:') ? sqliteDriver(target.slice('sqlite:'.length)) : postgresDriver(target);
const handle = createHandler(driver);
const server = http.createServer((req, res) => {
  handle(req, res).catch((error: unknown) => send(res, 500, { code: 'internal', message: (error as Error).message }));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => console.log(`baseline listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

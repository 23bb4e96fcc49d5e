/**
 * The physical baseline: a bare node:http server answering the benchmark's
 * requests with one prepared statement each and JSON.stringify. No framework,
 * no auth, no validation beyond what the SQL needs, no logging. It produces
 * the same JSON shapes as customers-api, so the difference between the two is
 * what the framework, auth, logging, validation and mapping cost.
 *
 *   node bench/.build/bench/baseline/server.js <sqlite:/path/to.db | postgres://...> <port>
 */
import http from 'node:http';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { monotonicFactory } from 'ulidx';

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
  create?(org: string, fields: Omit<Row, 'organization_id' | 'id' | 'created_at' | 'updated_at'> & { email_normalized: string | null }): Row | undefined;
}

const PAGE = 1000;
const FIRST_AT = Number.MAX_SAFE_INTEGER;
const FIRST_ID = '\u{10FFFF}';

function pageSql(sort: 'created' | 'updated', filter: 'none' | 'email' | 'phone', placeholder: (n: number) => string): string {
  const column = sort === 'updated' ? 'updated_at' : 'created_at';
  const where =
    filter === 'email' ? ` and email_normalized = ${placeholder(4)}` : filter === 'phone' ? ` and phone_number = ${placeholder(4)}` : '';
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
    for (const filter of ['none', 'email', 'phone'] as const) pages.set(`${sort}:${filter}`, reader.prepare(pageSql(sort, filter, () => '?')));
  }
  const tick = writer.prepare(
    'update organizations set clock = max(clock + 1, ?), event_sequence = event_sequence + 1 where id = ? returning clock',
  );
  const insert = writer.prepare(
    `insert into customers (organization_id, id, first_name, last_name, email, email_normalized, phone_number, dob, gender,
       has_agreed_to_marketing, created_at, updated_at, points_balance, total_points_earned, total_points_redeemed, total_spend,
       last_points_earned_at, last_points_redeemed_at, last_spent_at)
     values (@organization_id, @id, @first_name, @last_name, @email, @email_normalized, @phone_number, @dob, @gender,
       @has_agreed_to_marketing, @created_at, @updated_at, 0, 0, 0, 0, null, null, null)`,
  );
  const nextId = monotonicFactory();
  const create = writer.transaction((org: string, fields: Parameters<NonNullable<Driver['create']>>[1]) => {
    const clock = tick.get(Date.now(), org) as { clock: number } | undefined;
    if (!clock) return undefined;
    const row = { ...fields, organization_id: org, id: nextId(clock.clock), created_at: clock.clock, updated_at: clock.clock };
    insert.run(row);
    return row as Row;
  });
  return {
    byId: (org, id) => Promise.resolve(byId.get(org, id) as Row | undefined),
    page: (sort, filter, params) => Promise.resolve(pages.get(`${sort}:${filter}`)!.all(...params) as Row[]),
    create: (org, fields) => create.immediate(org, fields),
  };
}

function postgresDriver(url: string): Driver {
  const INT8 = 20;
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as typeof pg.types.getTypeParser,
    },
  });
  const run = async (name: string, text: string, values: unknown[]) => (await pool.query<Row>({ name, text, values })).rows;
  const byIdSql = 'select * from customers where organization_id = $1 and id = $2';
  return {
    byId: async (org, id) => (await run('base_by_id', byIdSql, [org, id]))[0],
    page: (sort, filter, params) => run(`base_${sort}_${filter}`, pageSql(sort, filter, (n) => `$${n}`), params),
  };
}

function seconds(ms: number): string {
  return `${new Date(ms - (ms % 1000)).toISOString().slice(0, 19)}Z`;
}

/** The Customer shape, keys in the same order as the API's schema. */
function toCustomer(row: Row) {
  const statistics: Record<string, string | number> = {};
  if (row.last_points_earned_at !== null) statistics.lastPointsEarnedAt = new Date(row.last_points_earned_at).toISOString();
  if (row.last_points_redeemed_at !== null) statistics.lastPointsRedeemedAt = new Date(row.last_points_redeemed_at).toISOString();
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
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const ITEM = /^\/organizations\/([^/]+)\/customers\/([^/]+)$/;
const LIST = /^\/organizations\/([^/]+)\/customers$/;

function createHandler(driver: Driver) {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    let m = ITEM.exec(path);
    if (m && req.method === 'GET') {
      const row = await driver.byId(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      return row ? send(res, 200, toCustomer(row)) : send(res, 404, { code: 'not_found', message: 'Customer not found' });
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
        query.set('after', Buffer.from(JSON.stringify([sort === 'updated' ? last.updated_at : last.created_at, last.id])).toString('base64url'));
        headers['x-next-page'] = `http://${req.headers.host}${path}?${query.toString()}`;
        rows.length = PAGE;
      }
      return send(res, 200, rows.map(toCustomer), headers);
    }
    if (m && req.method === 'POST' && driver.create) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (typeof body.firstName !== 'string' || typeof body.lastName !== 'string') return send(res, 400, { code: 'invalid_request', message: 'names' });
      const email = typeof body.email === 'string' ? body.email : null;
      const row = driver.create(m[1]!, {
        first_name: body.firstName,
        last_name: body.lastName,
        email,
        email_normalized: email === null ? null : email.trim().toLowerCase(),
        phone_number: typeof body.phoneNumber === 'string' ? body.phoneNumber : null,
        dob: typeof body.dob === 'string' ? body.dob : null,
        gender: typeof body.gender === 'string' ? body.gender : null,
        has_agreed_to_marketing: typeof body.hasAgreedToMarketing === 'boolean' ? (body.hasAgreedToMarketing ? 1 : 0) : null,
        points_balance: 0,
        total_points_earned: 0,
        total_points_redeemed: 0,
        total_spend: 0,
        last_points_earned_at: null,
        last_points_redeemed_at: null,
        last_spent_at: null,
      });
      return row ? send(res, 201, toCustomer(row)) : send(res, 404, { code: 'not_found', message: 'Organization not found' });
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

import {
  CompiledQuery,
  sql,
  type AliasableExpression,
  type Compilable,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SqlBool,
  type Transaction,
} from 'kysely';
import { containsPattern } from '../like.js';
import { MIN_SUFFIX_LENGTH, prefixUpperBound } from '../customer-search-text.js';
import type { Database } from '../schema.js';
import { compileStatement, param, type CompiledStatement, type QueryParams, type Store } from '../store.js';
import type { CustomerRow } from './customer-repository.js';
import { adjustMemberCounts, deleteMemberships } from './customer-list-repository.js';

/** A `q` search, already in the index's form (store/customer-search-text.ts). */
export interface CustomerTextSearch {
  /** The folded query: what names and emails must contain. */
  text: string;
  /** Its digits when the query reads as a phone number fragment: what the phone digits must contain. */
  digits: string | undefined;
  /** The query as an exact email (normalized) and as an exact phone number (E.164), for the top rank. */
  exactEmail: string;
  exactPhone: string | undefined;
}

export type CustomerQueryOrder = 'relevance' | 'created_at' | 'updated_at';

/** Filters, all optional and ANDed; bounds are inclusive, times are epoch milliseconds as stored. */
export interface CustomerFilters {
  hasAgreedToMarketing?: boolean;
  /** created_at >= createdFrom, created_at < createdUntil (and the same for updated_at). */
  createdFrom?: number;
  createdUntil?: number;
  updatedFrom?: number;
  updatedUntil?: number;
  pointsBalanceMin?: number;
  pointsBalanceMax?: number;
  totalSpendMin?: number;
  totalSpendMax?: number;
  gender?: string;
  /** Members of this customer list. */
  listId?: string;
  /** Exact values of metadata keys. */
  metadata?: readonly (readonly [key: string, value: string])[];
  /** The seed's exact searches: the normalized email or the E.164 phone number. */
  email?: string;
  phoneNumber?: string;
}

export interface CustomerQuery {
  organizationId: string;
  search: CustomerTextSearch | undefined;
  filters: CustomerFilters;
  order: CustomerQueryOrder;
  /** The key of the last row served: `[rank, id]` for relevance, `[at, id]` for the time orders. */
  after: readonly [number, string] | undefined;
  limit: number;
}

export type RankedCustomerRow = CustomerRow & { search_rank: number };

/** Fewer characters than a trigram: the term index serves these, by prefix. */
const SHORT_QUERY = 3;

type CustomersEb = ExpressionBuilder<
  Database & { c: Database['customers']; s: Database['customer_search'] },
  'c' | 's'
>;

const length = (text: string) => [...text].length;

/**
 * How a condition is written: `index` to find the matching customers among all of the organization's (through the
 * search and membership indexes), `row` to test given customers (a segment's evaluation at a write), where a
 * correlated lookup of the row's own entries is far cheaper than the set of every match. Same semantics either way.
 */
export type ConditionMode = 'index' | 'row';

/**
 * Customers whose search form matches, through the indexes of the store's dialect: the names or the email contain the
 * text (trigram indexes), or, when the query reads as a phone number, the phone digits contain its digits (a prefix
 * range of the phone suffixes: digit strings have too few distinct trigrams for a trigram index to stay fast).
 */
function matches(
  store: Store,
  eb: CustomersEb,
  organizationId: string,
  search: CustomerTextSearch,
  mode: ConditionMode,
): Expression<SqlBool> {
  if (length(search.text) < SHORT_QUERY) {
    const needles = [
      search.text,
      ...(search.digits !== undefined && search.digits !== search.text ? [search.digits] : []),
    ];
    return eb.or(
      needles.map((needle) => {
        const terms = eb
          .selectFrom('customer_search_terms')
          .select('customer_search_terms.customer_id')
          .where('customer_search_terms.organization_id', '=', organizationId)
          .where('customer_search_terms.term', '>=', needle)
          .where('customer_search_terms.term', '<', prefixUpperBound(needle));
        return mode === 'row'
          ? eb.exists(terms.whereRef('customer_search_terms.customer_id', '=', 'c.id'))
          : eb('c.id', 'in', terms);
      }),
    );
  }
  const digits = search.digits !== undefined && length(search.digits) >= MIN_SUFFIX_LENGTH ? search.digits : undefined;
  if (mode === 'row') {
    // The same conditions on the row's own search form.
    const contains = (column: 's.full_name' | 's.email' | 's.phone', needle: string) =>
      store.kind === 'sqlite'
        ? sql<SqlBool>`instr(${sql.ref(column)}, ${needle}) > 0`
        : sql<SqlBool>`${sql.ref(column)} like ${containsPattern(needle)} escape '\\'`;
    return eb.or([
      contains('s.full_name', search.text),
      contains('s.email', search.text),
      ...(digits === undefined ? [] : [contains('s.phone', digits)]),
    ]);
  }
  // The customers with a phone suffix starting with the digits (SQLite: their search rows' ids).
  const suffixes = (needle: string, select: 'p.customer_id' | 'x.id') =>
    sql`select ${sql.ref(select)} from customer_search_suffixes p
      ${select === 'x.id' ? sql`join customer_search x on x.organization_id = p.organization_id and x.customer_id = p.customer_id` : sql``}
      where p.organization_id = ${organizationId} and p.suffix >= ${needle} and p.suffix < ${prefixUpperBound(needle)}`;
  if (store.kind === 'sqlite') {
    // An FTS5 trigram phrase over the names and email (the table's columns): the text is a substring of one of them.
    const names = sql`select rowid from customer_search_fts where customer_search_fts match ${`"${search.text.replaceAll('"', '""')}"`}`;
    return digits === undefined
      ? sql<SqlBool>`s.id in (${names})`
      : sql<SqlBool>`s.id in (${names} union all ${suffixes(digits, 'x.id')})`;
  }
  const pattern = containsPattern(search.text);
  const names = (alias: 's' | 'n') =>
    sql<SqlBool>`(${sql.ref(`${alias}.full_name`)} like ${pattern} escape '\\' or ${sql.ref(`${alias}.email`)} like ${pattern} escape '\\')`;
  if (digits === undefined) return names('s');
  // Each index on its own, then the union: the planner cannot OR a trigram bitmap with a B-tree range of another table.
  return sql<SqlBool>`s.customer_id in (select n.customer_id from customer_search n
    where n.organization_id = ${organizationId} and ${names('n')} union all ${suffixes(digits, 'p.customer_id')})`;
}

/** 0: the exact email or phone number; 1: a name (full name or surname) starting with the text; 2: the rest. */
function rank(search: CustomerTextSearch) {
  const n = length(search.text);
  return sql<number>`case
    when c.email_normalized = ${search.exactEmail} or c.phone_number = ${search.exactPhone ?? null} then 0
    when substr(s.full_name, 1, ${n}) = ${search.text} or substr(s.last_name, 1, ${n}) = ${search.text} then 1
    else 2 end`;
}

type FilterEb = ExpressionBuilder<Database & { c: Database['customers'] }, 'c'>;

function filterConditions(
  store: Store,
  eb: FilterEb,
  organizationId: string,
  f: CustomerFilters,
  mode: ConditionMode = 'index',
) {
  const conditions: Expression<SqlBool>[] = [];
  if (f.hasAgreedToMarketing !== undefined)
    conditions.push(eb('c.has_agreed_to_marketing', '=', f.hasAgreedToMarketing ? 1 : 0));
  if (f.createdFrom !== undefined) conditions.push(eb('c.created_at', '>=', f.createdFrom));
  if (f.createdUntil !== undefined) conditions.push(eb('c.created_at', '<', f.createdUntil));
  if (f.updatedFrom !== undefined) conditions.push(eb('c.updated_at', '>=', f.updatedFrom));
  if (f.updatedUntil !== undefined) conditions.push(eb('c.updated_at', '<', f.updatedUntil));
  if (f.pointsBalanceMin !== undefined) conditions.push(eb('c.points_balance', '>=', f.pointsBalanceMin));
  if (f.pointsBalanceMax !== undefined) conditions.push(eb('c.points_balance', '<=', f.pointsBalanceMax));
  if (f.totalSpendMin !== undefined) conditions.push(eb('c.total_spend', '>=', f.totalSpendMin));
  if (f.totalSpendMax !== undefined) conditions.push(eb('c.total_spend', '<=', f.totalSpendMax));
  if (f.gender !== undefined) conditions.push(eb('c.gender', '=', f.gender));
  if (f.email !== undefined) conditions.push(eb('c.email_normalized', '=', f.email));
  if (f.phoneNumber !== undefined) conditions.push(eb('c.phone_number', '=', f.phoneNumber));
  if (f.listId !== undefined) {
    const members = eb
      .selectFrom('customer_list_members as m')
      .select('m.customer_id')
      .where('m.organization_id', '=', organizationId)
      .where('m.list_id', '=', f.listId);
    conditions.push(
      mode === 'row' ? eb.exists(members.whereRef('m.customer_id', '=', 'c.id')) : eb('c.id', 'in', members),
    );
  }
  for (const [key, value] of f.metadata ?? []) {
    // Metadata is JSON object text; the key is bound as a value, never spliced into a JSON path.
    conditions.push(
      store.kind === 'postgres'
        ? sql<SqlBool>`(c.metadata::jsonb ->> ${key}) = ${value}`
        : sql<SqlBool>`exists (select 1 from json_each(c.metadata) j where j.key = ${key} and j.value = ${value} and j.type = 'text')`,
    );
  }
  return conditions;
}

/**
 * A page of the organization's customers matching the query, in its order: relevance (rank, then id), or most
 * recent first by creation or update time.
 */
export async function findCustomerQueryPage(store: Store, q: CustomerQuery): Promise<RankedCustomerRow[]> {
  const { rows } = await store.db.executeQuery(customerQueryPage(store, q).compile());
  return rows as RankedCustomerRow[];
}

/** The statement of `findCustomerQueryPage`, for EXPLAIN. */
export function customerQueryPage(store: Store, q: CustomerQuery): Compilable<unknown> {
  let inner = store.db
    .selectFrom('customers as c')
    .selectAll('c')
    .where('c.organization_id', '=', q.organizationId)
    .where((eb) => eb.and(filterConditions(store, eb as unknown as FilterEb, q.organizationId, q.filters)))
    .$if(q.search === undefined, (query) => query.select(sql<number>`0`.as('search_rank')));
  if (q.search !== undefined) {
    const search = q.search;
    inner = inner
      .innerJoin('customer_search as s', (join) =>
        join.onRef('s.organization_id', '=', 'c.organization_id').onRef('s.customer_id', '=', 'c.id'),
      )
      .select(rank(search).as('search_rank'))
      .where((eb) => matches(store, eb as unknown as CustomersEb, q.organizationId, search, 'index'));
  }
  if (q.order === 'relevance') {
    let outer = store.db.selectFrom(inner.as('ranked')).selectAll();
    if (q.after) outer = outer.where(sql<SqlBool>`(search_rank, id) > (${q.after[0]}, ${q.after[1]})`);
    return outer.orderBy('search_rank').orderBy('id').limit(q.limit);
  }
  const column = q.order;
  if (q.after) inner = inner.where(sql<SqlBool>`(${sql.ref(`c.${column}`)}, c.id) < (${q.after[0]}, ${q.after[1]})`);
  return inner.orderBy(`c.${column}`, 'desc').orderBy('c.id', 'desc').limit(q.limit);
}

// Each arm binds the scope's ids (at most 500 a call) and its filter values: well below SQLite's 32766 parameters.
const RULES_PER_STATEMENT = 20;

/** A segment's rule: the filters and the `q` of its stored filter, parsed as the list endpoint parses them. */
export interface SegmentRule {
  listId: string;
  search: CustomerTextSearch | undefined;
  filters: CustomerFilters;
}

/** A rule evaluated for one customer: whether they match it, and whether they are in its list now. */
export interface SegmentEvaluation {
  list_id: string;
  customer_id: string;
  matched: boolean;
  member: boolean;
}

/** Which customers to evaluate: these ids, or the ids in (after, through] (a build batch). */
export type CustomerScope = { ids: readonly string[] } | { after: string; through: string };

function scopeParams(scope: CustomerScope): QueryParams {
  if (!('ids' in scope)) return { after: scope.after, through: scope.through };
  const params: QueryParams = {};
  scope.ids.forEach((id, i) => (params[`id${i}`] = id));
  return params;
}

/**
 * For each rule and each of the scope's customers: whether the customer matches the rule (the customer list query's
 * conditions, written for given rows) and whether they are a member of the rule's list now. One statement for up to
 * `RULES_PER_STATEMENT` rules.
 */
export async function findSegmentMatches(
  db: Kysely<Database> | Transaction<Database>,
  store: Store,
  organizationId: string,
  rules: readonly SegmentRule[],
  scope: CustomerScope,
): Promise<SegmentEvaluation[]> {
  const params: QueryParams = { org: organizationId, ...scopeParams(scope) };
  const evaluated: SegmentEvaluation[] = [];
  // Booleans come back as 1/0 (SQLite) or true/false (PostgreSQL); a condition on a missing search row as NULL.
  const truth = (value: unknown) => value === true || value === 1;
  for (let i = 0; i < rules.length; i += RULES_PER_STATEMENT) {
    const chunk = rules.slice(i, i + RULES_PER_STATEMENT);
    const statement = segmentStatement(store, chunk, scope, 'evaluate');
    const { rows } = await db.executeQuery<Record<string, unknown> & { customer_id: string }>(
      CompiledQuery.raw(statement.sql, statement.bind(params)),
    );
    // Rule by rule, so the evaluations come in the rules' order (a rule's customers together).
    chunk.forEach((rule, r) => {
      for (const row of rows) {
        evaluated.push({
          list_id: rule.listId,
          customer_id: row.customer_id,
          matched: truth(row[`m${r}`]),
          member: truth(row[`k${r}`]),
        });
      }
    });
  }
  return evaluated;
}

/** A membership a rule started (`added`) or ended for one customer. */
export interface SegmentMove {
  list_id: string;
  customer_id: string;
  added: boolean;
}

/**
 * Brings the rules' lists in line with the rules for the scope's customers: inserts the memberships of those who now
 * match, deletes those of the ones who no longer do, moves the member counts, and returns the moves (added first,
 * then in the rules' order). On PostgreSQL one statement (one round trip) for up to `RULES_PER_STATEMENT` rules; on
 * SQLite the evaluation and, when anything moves, one statement each for the inserts, deletes and counts.
 */
export async function moveSegmentMembers(
  db: Transaction<Database>,
  store: Store,
  organizationId: string,
  rules: readonly SegmentRule[],
  scope: CustomerScope,
  now: number,
): Promise<SegmentMove[]> {
  let moves: SegmentMove[];
  if (store.kind === 'postgres') {
    const params: QueryParams = { org: organizationId, now, ...scopeParams(scope) };
    moves = [];
    for (let i = 0; i < rules.length; i += RULES_PER_STATEMENT) {
      const statement = segmentStatement(store, rules.slice(i, i + RULES_PER_STATEMENT), scope, 'move');
      const { rows } = await db.executeQuery<SegmentMove>(CompiledQuery.raw(statement.sql, statement.bind(params)));
      moves.push(...rows);
    }
  } else {
    moves = (await findSegmentMatches(db, store, organizationId, rules, scope))
      .filter((e) => e.matched !== e.member)
      .map((e) => ({ list_id: e.list_id, customer_id: e.customer_id, added: e.matched }));
    if (moves.length === 0) return moves;
    await store.insertMany(
      db,
      'customer_list_members',
      moves
        .filter((move) => move.added)
        .map((move) => ({
          organization_id: organizationId,
          list_id: move.list_id,
          customer_id: move.customer_id,
          added_at: now,
        })),
    );
    await deleteMemberships(
      db,
      store,
      organizationId,
      moves.filter((move) => !move.added),
    );
    const delta = new Map<string, number>();
    for (const move of moves) delta.set(move.list_id, (delta.get(move.list_id) ?? 0) + (move.added ? 1 : -1));
    await adjustMemberCounts(db, store, organizationId, delta);
  }
  // RETURNING rows come in no promised order; events follow the rules' order (added before removed).
  const position = new Map(rules.map((rule, index) => [rule.listId, index]));
  return moves.sort(
    (a, b) =>
      Number(b.added) - Number(a.added) ||
      position.get(a.list_id)! - position.get(b.list_id)! ||
      (a.customer_id < b.customer_id ? -1 : a.customer_id > b.customer_id ? 1 : 0),
  );
}

// Building and compiling a union of 20 arms costs more CPU than running it (measured: bench/segments-write.ts), and
// writes of an organization evaluate the same segments again and again: the statement is compiled once per set of
// rules and scope shape, with the organization and the customers as parameters.
const statements = new Map<string, CompiledStatement>();
const MAX_STATEMENTS = 500;

// Rules are kept (and evaluated again and again) by the segments cache: each one's part of the key is made once.
const ruleKeys = new WeakMap<SegmentRule, string>();

function ruleKey(rule: SegmentRule): string {
  let key = ruleKeys.get(rule);
  if (key === undefined) ruleKeys.set(rule, (key = JSON.stringify(rule)));
  return key;
}

type SegmentStatementUse = 'evaluate' | 'move';

function segmentStatement(
  store: Store,
  rules: readonly SegmentRule[],
  scope: CustomerScope,
  use: SegmentStatementUse,
): CompiledStatement {
  const shape = 'ids' in scope ? scope.ids.length : 'range';
  const key = `${store.kind} ${use} ${shape} ${rules.map(ruleKey).join(' ')}`;
  let statement = statements.get(key);
  if (statement) return statement;
  const columns = segmentColumns(store, rules, scope);
  statement = compileStatement(use === 'evaluate' ? columns : movingMembers(store, rules, columns));
  // Planning the union is most of its cost on PostgreSQL: planned once per connection.
  store.nameStatement(statement.sql);
  if (statements.size >= MAX_STATEMENTS) statements.clear();
  statements.set(key, statement);
  return statement;
}

/** Whether the row `c` (with its search row `s` joined when the rule searches) matches the rule's conditions. */
function ruleMatches(store: Store, eb: CustomersEb, org: string, rule: SegmentRule): AliasableExpression<SqlBool> {
  const conditions = filterConditions(store, eb as unknown as FilterEb, org, rule.filters, 'row');
  if (rule.search !== undefined) conditions.push(matches(store, eb, org, rule.search, 'row'));
  return sql<SqlBool>`(${conditions.length === 0 ? sql`1 = 1` : eb.and(conditions)})`;
}

/** Whether the row `c` is in the rule's list now. */
function inRuleList(eb: CustomersEb, org: string, rule: SegmentRule): AliasableExpression<SqlBool> {
  return eb.exists(
    eb
      .selectFrom('customer_list_members as sm')
      .select('sm.customer_id')
      .where('sm.organization_id', '=', org)
      .where('sm.list_id', '=', rule.listId)
      .whereRef('sm.customer_id', '=', 'c.id'),
  );
}

/** The scope's customers of the organization, with their search rows when a rule needs them. */
function scopedCustomers(store: Store, scope: CustomerScope, searching: boolean) {
  return store.db
    .selectFrom('customers as c')
    .$if(searching, (query) =>
      query.leftJoin('customer_search as s', (join) =>
        join.onRef('s.organization_id', '=', 'c.organization_id').onRef('s.customer_id', '=', 'c.id'),
      ),
    )
    .where('c.organization_id', '=', param<string>('org'))
    .where((eb) =>
      'ids' in scope
        ? eb(
            'c.id',
            'in',
            scope.ids.map((_, i) => param<string>(`id${i}`)),
          )
        : eb.and([eb('c.id', '>', param<string>('after')), eb('c.id', '<=', param<string>('through'))]),
    );
}

/**
 * One row per customer of the scope: `m<i>` (matches rule i) and `k<i>` (in its list now) per rule. Each customer
 * (and search row) is looked up once, not once per rule as a union of one arm per rule did (SQLite, 13 rules due:
 * the statement's median 205 -> 150 µs).
 */
function segmentColumns(store: Store, rules: readonly SegmentRule[], scope: CustomerScope) {
  const org = param<string>('org');
  return scopedCustomers(
    store,
    scope,
    rules.some((rule) => rule.search !== undefined),
  ).select((eb) => [
    'c.id as customer_id',
    ...rules.flatMap((rule, i) => [
      ruleMatches(store, eb as unknown as CustomersEb, org, rule).as(`m${i}`),
      inRuleList(eb as unknown as CustomersEb, org, rule).as(`k${i}`),
    ]),
  ]);
}

/**
 * PostgreSQL: the evaluation and every write it calls for in one statement (data-modifying CTEs see the snapshot
 * the statement started with, so `evaluated` reads the memberships as they were): the memberships of customers who
 * now match are inserted, those of customers who no longer do deleted, the lists' member counts moved, and the
 * moves returned. A condition on a missing search row is NULL: not a match.
 */
function movingMembers(store: Store, rules: readonly SegmentRule[], columns: Expression<unknown>): Compilable<unknown> {
  const org = sql`cast(${param<string>('org')} as text)`;
  // The columns of each customer's row turned into a row per rule (list_id, customer_id, matched, member).
  const perRule = sql.join(
    rules.map((rule, i) => sql`(cast(${rule.listId} as text), ${sql.ref(`c.m${i}`)}, ${sql.ref(`c.k${i}`)})`),
  );
  const moving = sql`with evaluated as (
      select v.list_id, c.customer_id, v.matched, v.member
      from (${columns}) c cross join lateral (values ${perRule}) as v(list_id, matched, member)),
    added as (
      insert into customer_list_members (organization_id, list_id, customer_id, added_at)
      select ${org}, list_id, customer_id, cast(${param<number>('now')} as bigint) from evaluated
      where matched and not member
      returning list_id, customer_id),
    removed as (
      delete from customer_list_members m using evaluated e
      where m.organization_id = ${org} and m.list_id = e.list_id and m.customer_id = e.customer_id
        and e.member and not coalesce(e.matched, false)
      returning m.list_id, m.customer_id),
    moved as (
      select list_id, customer_id, true as added from added
      union all select list_id, customer_id, false as added from removed),
    counted as (
      update customer_lists l set member_count = l.member_count + d.delta
      from (select list_id, sum(case when added then 1 else -1 end) as delta from moved group by list_id) d
      where l.organization_id = ${org} and l.id = d.list_id)
    select list_id, customer_id, added from moved`;
  return { compile: () => moving.compile(store.db) };
}

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

/** What the values of a statement are read from: a query, or a segment rule's search and filters. */
type ValueSource = Pick<CustomerQuery, 'search' | 'filters'> & Partial<CustomerQuery>;
type QueryValue = string | number | null;
type ValueGetter = (source: ValueSource) => QueryValue;

/**
 * How a value gets into a statement: read from one source and written in (a segment rule's statement, compiled with
 * its rule's values), or bound by name (a query's statement, compiled once per shape and run with each query's
 * values: building and compiling it with Kysely cost more CPU than the index lookup at 10,000 customers).
 */
type Value = <T extends QueryValue>(name: string, get: (source: ValueSource) => T) => T;

const literal =
  (source: ValueSource): Value =>
  (_, get) =>
    get(source);

/** Binds every value by name, and keeps how to read each from a query. */
function named(getters: Map<string, ValueGetter>): Value {
  return <T extends QueryValue>(name: string, get: (source: ValueSource) => T) => {
    getters.set(name, get);
    return param<T>(name);
  };
}

/** The needles of a 2-character query: the text, and its digits when they differ (`+6` → `6`). */
function shortNeedles(search: CustomerTextSearch): string[] {
  return search.digits !== undefined && search.digits !== search.text ? [search.text, search.digits] : [search.text];
}

/** The digits a phone-like query looks up in the phone suffixes (at least as long as the shortest suffix). */
function suffixDigits(search: CustomerTextSearch): string | undefined {
  return search.digits !== undefined && length(search.digits) >= MIN_SUFFIX_LENGTH ? search.digits : undefined;
}

/** The FTS5 phrase of a text: a substring the indexed text must contain. */
const ftsPhrase = (text: string) => `"${text.replaceAll('"', '""')}"`;

const searchOf = (source: ValueSource) => source.search!;

/**
 * Customers whose search form matches, through the indexes of the store's dialect: the names or the email contain the
 * text (trigram indexes), or, when the query reads as a phone number, the phone digits contain its digits (a prefix
 * range of the phone suffixes: digit strings have too few distinct trigrams for a trigram index to stay fast).
 * `search` decides the statement's shape only (searchShape); the values come through `value`.
 */
function matches(
  store: Store,
  eb: CustomersEb,
  organizationId: string,
  search: CustomerTextSearch,
  mode: ConditionMode,
  value: Value,
): Expression<SqlBool> {
  const text = value('text', (q) => searchOf(q).text);
  if (length(search.text) < SHORT_QUERY) {
    return eb.or(
      shortNeedles(search).map((_, i) => {
        const terms = eb
          .selectFrom('customer_search_terms')
          .select('customer_search_terms.customer_id')
          .where('customer_search_terms.organization_id', '=', organizationId)
          .where(
            'customer_search_terms.term',
            '>=',
            value(`needle${i}`, (q) => shortNeedles(searchOf(q))[i]!),
          )
          .where(
            'customer_search_terms.term',
            '<',
            value(`needle${i}Upper`, (q) => prefixUpperBound(shortNeedles(searchOf(q))[i]!)),
          );
        return mode === 'row'
          ? eb.exists(terms.whereRef('customer_search_terms.customer_id', '=', 'c.id'))
          : eb('c.id', 'in', terms);
      }),
    );
  }
  const hasDigits = suffixDigits(search) !== undefined;
  const digits = () => value('digits', (q) => suffixDigits(searchOf(q))!);
  if (mode === 'row') {
    // The same conditions on the row's own search form.
    const pattern = () => value('pattern', (q) => containsPattern(searchOf(q).text));
    const digitsPattern = () => value('digitsPattern', (q) => containsPattern(suffixDigits(searchOf(q))!));
    const contains = (column: 's.full_name' | 's.email' | 's.phone', needle: 'text' | 'digits') =>
      store.kind === 'sqlite'
        ? sql<SqlBool>`instr(${sql.ref(column)}, ${needle === 'text' ? text : digits()}) > 0`
        : sql<SqlBool>`${sql.ref(column)} like ${needle === 'text' ? pattern() : digitsPattern()} escape '\\'`;
    return eb.or([
      contains('s.full_name', 'text'),
      contains('s.email', 'text'),
      ...(hasDigits ? [contains('s.phone', 'digits')] : []),
    ]);
  }
  // The customers with a phone suffix starting with the digits (SQLite: their search rows' ids).
  const suffixes = (select: 'p.customer_id' | 'x.id') =>
    sql`select ${sql.ref(select)} from customer_search_suffixes p
      ${select === 'x.id' ? sql`join customer_search x on x.organization_id = p.organization_id and x.customer_id = p.customer_id` : sql``}
      where p.organization_id = ${organizationId} and p.suffix >= ${digits()}
        and p.suffix < ${value('digitsUpper', (q) => prefixUpperBound(suffixDigits(searchOf(q))!))}`;
  if (store.kind === 'sqlite') {
    // An FTS5 trigram phrase over the names and email (the table's columns): the text is a substring of one of them.
    const names = sql`select rowid from customer_search_fts where customer_search_fts match ${value('phrase', (q) => ftsPhrase(searchOf(q).text))}`;
    return hasDigits
      ? sql<SqlBool>`s.id in (${names} union all ${suffixes('x.id')})`
      : sql<SqlBool>`s.id in (${names})`;
  }
  const pattern = value('pattern', (q) => containsPattern(searchOf(q).text));
  const names = (alias: 's' | 'n') =>
    sql<SqlBool>`(${sql.ref(`${alias}.full_name`)} like ${pattern} escape '\\' or ${sql.ref(`${alias}.email`)} like ${pattern} escape '\\')`;
  if (!hasDigits) return names('s');
  // Each index on its own, then the union: the planner cannot OR a trigram bitmap with a B-tree range of another table.
  return sql<SqlBool>`s.customer_id in (select n.customer_id from customer_search n
    where n.organization_id = ${organizationId} and ${names('n')} union all ${suffixes('p.customer_id')})`;
}

/** What decides the statement `matches` writes for a search (its values aside). */
function searchShape(search: CustomerTextSearch | undefined): string {
  if (search === undefined) return '-';
  if (length(search.text) < SHORT_QUERY) return `short${shortNeedles(search).length}`;
  return suffixDigits(search) === undefined ? 'text' : 'text+digits';
}

/** 0: the exact email or phone number; 1: a name (full name or surname) starting with the text; 2: the rest. */
function rank(value: Value) {
  const n = value('length', (q) => length(searchOf(q).text));
  const text = value('text', (q) => searchOf(q).text);
  return sql<number>`case
    when c.email_normalized = ${value('exactEmail', (q) => searchOf(q).exactEmail)} or c.phone_number = ${value('exactPhone', (q) => searchOf(q).exactPhone ?? null)} then 0
    when substr(s.full_name, 1, ${n}) = ${text} or substr(s.last_name, 1, ${n}) = ${text} then 1
    else 2 end`;
}

type FilterEb = ExpressionBuilder<Database & { c: Database['customers'] }, 'c'>;

/** The filters that compare a column of the customer with a value, in the order their conditions are written. */
const COLUMN_FILTERS = [
  ['hasAgreedToMarketing', 'c.has_agreed_to_marketing', '='],
  ['createdFrom', 'c.created_at', '>='],
  ['createdUntil', 'c.created_at', '<'],
  ['updatedFrom', 'c.updated_at', '>='],
  ['updatedUntil', 'c.updated_at', '<'],
  ['pointsBalanceMin', 'c.points_balance', '>='],
  ['pointsBalanceMax', 'c.points_balance', '<='],
  ['totalSpendMin', 'c.total_spend', '>='],
  ['totalSpendMax', 'c.total_spend', '<='],
  ['gender', 'c.gender', '='],
  ['email', 'c.email_normalized', '='],
  ['phoneNumber', 'c.phone_number', '='],
] as const;

/** A filter's value as stored: booleans are 1/0. */
function columnValue(filters: CustomerFilters, key: (typeof COLUMN_FILTERS)[number][0]): string | number {
  const v = filters[key]!;
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** What decides the statement `filterConditions` writes for the filters (their values aside). */
function filterShape(f: CustomerFilters): string {
  const present = COLUMN_FILTERS.filter(([key]) => f[key] !== undefined).map(([key]) => key);
  return `${present.join(',')}${f.listId !== undefined ? ' list' : ''} m${f.metadata?.length ?? 0}`;
}

/** The conditions of the filters; `f` decides the statement's shape only (filterShape), the values come by `value`. */
function filterConditions(
  store: Store,
  eb: FilterEb,
  organizationId: string,
  f: CustomerFilters,
  mode: ConditionMode,
  value: Value,
) {
  const conditions: Expression<SqlBool>[] = [];
  for (const [key, column, op] of COLUMN_FILTERS) {
    if (f[key] !== undefined)
      conditions.push(
        eb(
          column,
          op,
          value(key, (q) => columnValue(q.filters, key)),
        ),
      );
  }
  if (f.listId !== undefined) {
    const members = eb
      .selectFrom('customer_list_members as m')
      .select('m.customer_id')
      .where('m.organization_id', '=', organizationId)
      .where(
        'm.list_id',
        '=',
        value('listId', (q) => q.filters.listId!),
      );
    conditions.push(
      mode === 'row' ? eb.exists(members.whereRef('m.customer_id', '=', 'c.id')) : eb('c.id', 'in', members),
    );
  }
  (f.metadata ?? []).forEach((_, i) => {
    // Metadata is JSON object text; the key is bound as a value, never spliced into a JSON path.
    const key = value(`metadataKey${i}`, (q) => q.filters.metadata![i]![0]);
    const v = value(`metadataValue${i}`, (q) => q.filters.metadata![i]![1]);
    conditions.push(
      store.kind === 'postgres'
        ? sql<SqlBool>`(c.metadata::jsonb ->> ${key}) = ${v}`
        : sql<SqlBool>`exists (select 1 from json_each(c.metadata) j where j.key = ${key} and j.value = ${v} and j.type = 'text')`,
    );
  });
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

interface QueryStatement {
  statement: CompiledStatement;
  getters: ReadonlyMap<string, ValueGetter>;
}

// One statement per shape of query (dialect, order, paged or not, kind of search, which filters): the values are
// parameters, so the statement text is the same for every search of that shape (and SQLite's connection keeps it
// prepared). Not a named statement on PostgreSQL: a generic plan could not see how selective a pattern is.
const queryStatements = new Map<string, QueryStatement>();

/**
 * The statement of `findCustomerQueryPage` with the query's values (for EXPLAIN and the bench's bare baseline too):
 * `built` builds it with Kysely for this query alone, values written in, as a check of the statement kept per shape.
 */
export function customerQueryPage(
  store: Store,
  q: CustomerQuery,
  how: 'statement' | 'built' = 'statement',
): Compilable<unknown> {
  if (how === 'built') return buildQueryPage(store, q, literal(q));
  const key = `${store.kind} ${q.order} ${q.after ? 'after' : 'first'} ${searchShape(q.search)} ${filterShape(q.filters)}`;
  let cached = queryStatements.get(key);
  if (!cached) {
    const getters = new Map<string, ValueGetter>();
    const statement = compileStatement(buildQueryPage(store, q, named(getters)));
    if (queryStatements.size >= MAX_STATEMENTS) queryStatements.clear();
    queryStatements.set(key, (cached = { statement, getters }));
  }
  const params: QueryParams = {};
  for (const [name, get] of cached.getters) params[name] = get(q);
  const parameters = cached.statement.bind(params);
  const compiled = CompiledQuery.raw(cached.statement.sql, parameters);
  return { compile: () => compiled };
}

function buildQueryPage(store: Store, q: CustomerQuery, value: Value): Compilable<unknown> {
  const org = value('org', (source) => source.organizationId!);
  let inner = store.db
    .selectFrom('customers as c')
    .selectAll('c')
    .where('c.organization_id', '=', org)
    .where((eb) => eb.and(filterConditions(store, eb as unknown as FilterEb, org, q.filters, 'index', value)))
    .$if(q.search === undefined, (query) => query.select(sql<number>`0`.as('search_rank')));
  if (q.search !== undefined) {
    const search = q.search;
    inner = inner
      .innerJoin('customer_search as s', (join) =>
        join.onRef('s.organization_id', '=', 'c.organization_id').onRef('s.customer_id', '=', 'c.id'),
      )
      .select(rank(value).as('search_rank'))
      .where((eb) => matches(store, eb as unknown as CustomersEb, org, search, 'index', value));
  }
  const afterKey = () => value('afterKey', (source) => source.after![0]);
  const afterId = () => value('afterId', (source) => source.after![1]);
  const limit = value('limit', (source) => source.limit!);
  if (q.order === 'relevance') {
    let outer = store.db.selectFrom(inner.as('ranked')).selectAll();
    if (q.after) outer = outer.where(sql<SqlBool>`(search_rank, id) > (${afterKey()}, ${afterId()})`);
    return outer.orderBy('search_rank').orderBy('id').limit(limit);
  }
  const column = q.order;
  if (q.after) inner = inner.where(sql<SqlBool>`(${sql.ref(`c.${column}`)}, c.id) < (${afterKey()}, ${afterId()})`);
  return inner.orderBy(`c.${column}`, 'desc').orderBy('c.id', 'desc').limit(limit);
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
  const value = literal(rule);
  const conditions = filterConditions(store, eb as unknown as FilterEb, org, rule.filters, 'row', value);
  if (rule.search !== undefined) conditions.push(matches(store, eb, org, rule.search, 'row', value));
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

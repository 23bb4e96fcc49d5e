import type { Transaction } from 'kysely';
import { LRUCache } from 'lru-cache';
import { findCustomersByIds } from '../../store/repositories/customer-import-repository.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { findSegments, type CustomerListRow } from '../../store/repositories/customer-list-repository.js';
import {
  moveSegmentMembers,
  type CustomerFilters,
  type CustomerScope,
  type SegmentRule,
} from '../../store/repositories/customer-query-repository.js';
import type { CustomersTable, Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { membershipChanged, recordEvents, type DomainEvent } from '../events/event-log.js';
import { segmentVersionOf } from '../organization-write.js';
import { storedSegmentRule } from './segment-filter.js';

// Customers a statement evaluates at once (each arm binds them all).
const CUSTOMERS_PER_CALL = 500;

/** A customer column a write may change. */
export type CustomerColumn = keyof CustomersTable;

// The customer columns each filter reads: a write that changes none of a segment's columns (nor the membership of a
// list it names) cannot move anyone in or out of it. Keyed by every filter, so a new filter must say what it reads.
const FILTER_COLUMNS = {
  hasAgreedToMarketing: ['has_agreed_to_marketing'],
  createdFrom: ['created_at'],
  createdUntil: ['created_at'],
  updatedFrom: ['updated_at'],
  updatedUntil: ['updated_at'],
  pointsBalanceMin: ['points_balance'],
  pointsBalanceMax: ['points_balance'],
  totalSpendMin: ['total_spend'],
  totalSpendMax: ['total_spend'],
  gender: ['gender'],
  listId: [],
  metadata: ['metadata'],
  email: ['email', 'email_normalized'],
  phoneNumber: ['phone_number'],
} as const satisfies Record<keyof CustomerFilters, readonly CustomerColumn[]>;
// `q` matches the search form, which is made of these.
const SEARCH_COLUMNS: readonly CustomerColumn[] = ['first_name', 'last_name', 'email', 'phone_number'];

/** A segment as evaluations need it: its id and name (for events), its rule and what the rule reads. */
export interface Segment {
  row: { id: string; name: string };
  rule: SegmentRule;
  columns: readonly CustomerColumn[];
}

function toSegment(row: CustomerListRow): Segment {
  const rule: SegmentRule = { listId: row.id, ...storedSegmentRule(row.filter!) };
  const columns = new Set<CustomerColumn>(rule.search === undefined ? [] : SEARCH_COLUMNS);
  for (const key of Object.keys(rule.filters) as (keyof CustomerFilters)[]) {
    for (const column of FILTER_COLUMNS[key]) columns.add(column);
  }
  return { row: { id: row.id, name: row.name }, rule, columns: [...columns] };
}

/**
 * The segments in the order they can be evaluated: a segment whose filter names another segment (`listId`) comes
 * after it, so it sees that segment's membership as this write leaves it. Filters never form a cycle (refused).
 */
function inDependencyOrder(segments: readonly CustomerListRow[]): Segment[][] {
  const byId = new Map(segments.map((row) => [row.id, toSegment(row)]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: number): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const named = byId.get(id)?.rule.filters.listId;
    const d = named !== undefined && byId.has(named) && seen < byId.size ? depthOf(named, seen + 1) + 1 : 0;
    depth.set(id, d);
    return d;
  };
  const levels: Segment[][] = [];
  for (const [id, segment] of byId) (levels[depthOf(id, 0)] ??= []).push(segment);
  return levels.filter((level) => level !== undefined);
}

// Each organization's segments in dependency order, as loaded at a segment version. A write reads the version with
// its clock (one statement it runs anyway), so while no segment changed (in any process) it evaluates them without
// reading or parsing them again; a change anywhere bumps the version and the next write loads them afresh.
interface LoadedSegments {
  version: number;
  levels: Segment[][];
}
const loaded = new WeakMap<Store, LRUCache<string, LoadedSegments>>();
const ORGANIZATIONS_CACHED = 10_000;

async function segmentsOf(trx: Transaction<Database>, store: Store, organizationId: string): Promise<Segment[][]> {
  const version = segmentVersionOf(trx);
  let cache = loaded.get(store);
  if (!cache) loaded.set(store, (cache = new LRUCache({ max: ORGANIZATIONS_CACHED })));
  const hit = version === undefined ? undefined : cache.get(organizationId);
  if (hit && hit.version === version) return hit.levels;
  const levels = inDependencyOrder(await findSegments(trx, organizationId));
  if (version !== undefined) cache.set(organizationId, { version, levels });
  return levels;
}

/**
 * Brings the given segments' membership of the scope's customers in line with their filters, in the caller's
 * transaction: adds the customers that now match, removes those that no longer do, keeps member counts exact and
 * records `customer-list.member-added` / `member-removed` like manual lists. Returns the customers whose
 * membership changed.
 */
export async function applySegmentRules(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  segments: readonly Pick<Segment, 'row' | 'rule'>[],
  scope: CustomerScope,
  now: number,
  written?: ReadonlyMap<string, CustomerRow>,
): Promise<Set<string>> {
  const changed = new Set<string>();
  if (segments.length === 0) return changed;
  const moves = await moveSegmentMembers(
    trx,
    store,
    organizationId,
    segments.map((s) => s.rule),
    scope,
    now,
  );
  if (moves.length === 0) return changed;
  const lists = new Map(segments.map((s) => [s.row.id, s.row]));
  for (const move of moves) changed.add(move.customer_id);
  // The events carry the customers as they are now: the rows the write left (when given), else read back.
  const customers = new Map<string, CustomerRow>();
  for (const id of changed) if (written?.has(id)) customers.set(id, written.get(id)!);
  const unread = [...changed].filter((id) => !customers.has(id));
  if (unread.length > 0)
    for (const row of await findCustomersByIds(trx, organizationId, unread)) customers.set(row.id, row);
  const events: DomainEvent[] = moves.map((move) =>
    membershipChanged(
      move.added ? 'customer-list.member-added' : 'customer-list.member-removed',
      lists.get(move.list_id)!,
      customers.get(move.customer_id)!,
    ),
  );
  await recordEvents(trx, store, organizationId, now, events);
  return changed;
}

/** What a write of one customer knows of it: the columns it changed and the row as it left it. */
export interface CustomerWritten {
  changed: ReadonlySet<CustomerColumn>;
  row: CustomerRow;
}

/**
 * Re-evaluates the organization's segments for these customers, in the write's transaction (call it after the write
 * changed them): the one hook of customer writes, ledger changes, payments and imports, which keeps segment
 * membership exact at every commit. `written`, when the caller wrote one customer and knows what it changed:
 * segments whose rule reads none of the changed columns (and names no list whose membership this write moves) are
 * skipped, and membership events take the row as written. Without it every segment is evaluated. Inside `writeInOrganization` and with no segment changed since
 * this process last looked, costs no query when nothing is due.
 */
export async function reevaluateSegments(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  customerIds: readonly string[],
  now: number,
  written?: CustomerWritten,
): Promise<void> {
  if (customerIds.length === 0) return;
  const changed = written?.changed;
  const rows = written ? new Map([[written.row.id, written.row]]) : undefined;
  const levels = await segmentsOf(trx, store, organizationId);
  if (levels.length === 0) return;
  const due: Segment[][] = [];
  if (changed === undefined) due.push(...levels);
  else {
    // In dependency order, so a segment naming an affected one is affected too.
    const affected = new Set<string>();
    for (const level of levels) {
      const levelDue = level.filter(
        (segment) =>
          segment.columns.some((column) => changed.has(column)) ||
          (segment.rule.filters.listId !== undefined && affected.has(segment.rule.filters.listId)),
      );
      for (const segment of levelDue) affected.add(segment.row.id);
      if (levelDue.length > 0) due.push(levelDue);
    }
  }
  for (let i = 0; i < customerIds.length; i += CUSTOMERS_PER_CALL) {
    const scope = { ids: customerIds.slice(i, i + CUSTOMERS_PER_CALL) };
    for (const level of due) await applySegmentRules(trx, store, organizationId, level, scope, now, rows);
  }
}

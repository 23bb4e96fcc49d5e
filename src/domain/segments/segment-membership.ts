import type { Transaction } from 'kysely';
import { findCustomersByIds } from '../../store/repositories/customer-import-repository.js';
import {
  adjustMemberCount,
  deleteMemberships,
  findMembershipsInScope,
  findSegments,
  type CustomerListRow,
} from '../../store/repositories/customer-list-repository.js';
import {
  findSegmentMatches,
  type CustomerScope,
  type SegmentRule,
} from '../../store/repositories/customer-query-repository.js';
import { insertListMembers } from '../../store/repositories/membership-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { membershipChanged, recordEvents, type DomainEvent } from '../events/event-log.js';
import { storedSegmentRule } from './segment-filter.js';

// Customers a statement evaluates at once (each arm binds them all).
const CUSTOMERS_PER_CALL = 500;

/**
 * The segments in the order they can be evaluated: a segment whose filter names another segment (`listId`) comes
 * after it, so it sees that segment's membership as this write leaves it. Filters never form a cycle (refused).
 */
function inDependencyOrder(segments: readonly CustomerListRow[]): { row: CustomerListRow; rule: SegmentRule }[][] {
  const byId = new Map(
    segments.map((row) => [row.id, { row, rule: { listId: row.id, ...storedSegmentRule(row.filter!) } }]),
  );
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: number): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const named = byId.get(id)?.rule.filters.listId;
    const d = named !== undefined && byId.has(named) && seen < byId.size ? depthOf(named, seen + 1) + 1 : 0;
    depth.set(id, d);
    return d;
  };
  const levels: { row: CustomerListRow; rule: SegmentRule }[][] = [];
  for (const [id, segment] of byId) (levels[depthOf(id, 0)] ??= []).push(segment);
  return levels.filter((level) => level !== undefined);
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
  segments: readonly { row: CustomerListRow; rule: SegmentRule }[],
  scope: CustomerScope,
  now: number,
): Promise<Set<string>> {
  const changed = new Set<string>();
  if (segments.length === 0) return changed;
  const matched = await findSegmentMatches(
    trx,
    store,
    organizationId,
    segments.map((s) => s.rule),
    scope,
  );
  const current = await findMembershipsInScope(
    trx,
    organizationId,
    segments.map((s) => s.row.id),
    scope,
  );
  const key = (pair: { list_id: string; customer_id: string }) => `${pair.list_id} ${pair.customer_id}`;
  const isMember = new Set(current.map(key));
  const matches = new Set(matched.map(key));
  const added = matched.filter((pair) => !isMember.has(key(pair)));
  const removed = current.filter((pair) => !matches.has(key(pair)));
  if (added.length === 0 && removed.length === 0) return changed;

  await insertListMembers(
    trx,
    added.map((pair) => ({
      organization_id: organizationId,
      list_id: pair.list_id,
      customer_id: pair.customer_id,
      added_at: now,
    })),
  );
  const lists = new Map(segments.map((s) => [s.row.id, s.row]));
  const delta = new Map<string, number>();
  const removedByList = new Map<string, string[]>();
  for (const pair of added) delta.set(pair.list_id, (delta.get(pair.list_id) ?? 0) + 1);
  for (const pair of removed) {
    delta.set(pair.list_id, (delta.get(pair.list_id) ?? 0) - 1);
    (removedByList.get(pair.list_id) ?? removedByList.set(pair.list_id, []).get(pair.list_id)!).push(pair.customer_id);
  }
  for (const [listId, customerIds] of removedByList) await deleteMemberships(trx, organizationId, listId, customerIds);
  for (const [listId, count] of delta) if (count !== 0) await adjustMemberCount(trx, organizationId, listId, count);

  for (const pair of [...added, ...removed]) changed.add(pair.customer_id);
  const customers = new Map((await findCustomersByIds(trx, organizationId, [...changed])).map((row) => [row.id, row]));
  const events: DomainEvent[] = [
    ...added.map((pair) =>
      membershipChanged('customer-list.member-added', lists.get(pair.list_id)!, customers.get(pair.customer_id)!),
    ),
    ...removed.map((pair) =>
      membershipChanged('customer-list.member-removed', lists.get(pair.list_id)!, customers.get(pair.customer_id)!),
    ),
  ];
  await recordEvents(trx, store, organizationId, now, events);
  return changed;
}

/**
 * Re-evaluates every segment of the organization for these customers, in the write's transaction (call it after
 * the write changed them): the one hook of customer writes, ledger changes, payments and imports, which keeps
 * segment membership exact at every commit. Costs one query when the organization has no segment.
 */
export async function reevaluateSegments(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  customerIds: readonly string[],
  now: number,
): Promise<void> {
  if (customerIds.length === 0) return;
  const segments = await findSegments(trx, organizationId);
  if (segments.length === 0) return;
  const levels = inDependencyOrder(segments);
  for (let i = 0; i < customerIds.length; i += CUSTOMERS_PER_CALL) {
    const scope = { ids: customerIds.slice(i, i + CUSTOMERS_PER_CALL) };
    for (const level of levels) await applySegmentRules(trx, store, organizationId, level, scope, now);
  }
}

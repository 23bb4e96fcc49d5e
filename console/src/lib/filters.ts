import type { CustomerSort, SearchCustomersOptions } from '../../../src/client/index.js';

/** What the customers screen is filtered by; it lives in the page URL so a view can be shared and gone back to. */
export interface CustomerFilters {
  q?: string;
  sort?: CustomerSort;
  hasAgreedToMarketing?: boolean;
  pointsBalanceMin?: number;
  pointsBalanceMax?: number;
  totalSpendMin?: number;
  totalSpendMax?: number;
  createdAfter?: string;
  createdBefore?: string;
  updatedAfter?: string;
  updatedBefore?: string;
  gender?: 'MALE' | 'FEMALE' | 'OTHER';
  listId?: string;
  metadata?: Record<string, string>;
}

type NumberKey = 'pointsBalanceMin' | 'pointsBalanceMax' | 'totalSpendMin' | 'totalSpendMax';
type DateKey = 'createdAfter' | 'createdBefore' | 'updatedAfter' | 'updatedBefore';

const NUMBER_KEYS: readonly NumberKey[] = ['pointsBalanceMin', 'pointsBalanceMax', 'totalSpendMin', 'totalSpendMax'];
const DATE_KEYS: readonly DateKey[] = ['createdAfter', 'createdBefore', 'updatedAfter', 'updatedBefore'];
const GENDERS = ['MALE', 'FEMALE', 'OTHER'] as const;
const METADATA_PREFIX = 'metadata.';

/** The server searches `q` from 2 characters; a shorter box is no search yet. */
export const MIN_QUERY_LENGTH = 2;

/** Filters from a query string; values the server would refuse are left out, so a hand-edited URL cannot break the screen. */
export function filtersFromParams(params: URLSearchParams): CustomerFilters {
  const filters: CustomerFilters = {};
  const q = params.get('q')?.trim();
  if (q) filters.q = q;
  const sort = params.get('sort');
  if (sort === 'created' || sort === 'updated') filters.sort = sort;
  const marketing = params.get('hasAgreedToMarketing');
  if (marketing === 'true' || marketing === 'false') filters.hasAgreedToMarketing = marketing === 'true';
  for (const key of NUMBER_KEYS) {
    const raw = params.get(key);
    if (raw !== null && /^-?\d{1,15}$/.test(raw)) filters[key] = Number(raw);
  }
  for (const key of DATE_KEYS) {
    const raw = params.get(key);
    if (raw !== null && !Number.isNaN(Date.parse(raw))) filters[key] = raw;
  }
  const gender = params.get('gender');
  if (gender !== null && (GENDERS as readonly string[]).includes(gender))
    filters.gender = gender as CustomerFilters['gender'];
  const listId = params.get('listId');
  if (listId) filters.listId = listId;
  for (const [key, value] of params) {
    if (key.startsWith(METADATA_PREFIX) && key.length > METADATA_PREFIX.length) {
      filters.metadata = { ...filters.metadata, [key.slice(METADATA_PREFIX.length)]: value };
    }
  }
  return filters;
}

/** The query string of some filters, in a stable order (the inverse of filtersFromParams). */
export function filtersToParams(filters: CustomerFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.sort) params.set('sort', filters.sort);
  if (filters.hasAgreedToMarketing !== undefined)
    params.set('hasAgreedToMarketing', String(filters.hasAgreedToMarketing));
  for (const key of NUMBER_KEYS) if (filters[key] !== undefined) params.set(key, String(filters[key]));
  for (const key of DATE_KEYS) if (filters[key] !== undefined) params.set(key, filters[key]);
  if (filters.gender) params.set('gender', filters.gender);
  if (filters.listId) params.set('listId', filters.listId);
  for (const [key, value] of Object.entries(filters.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b)))
    params.set(`${METADATA_PREFIX}${key}`, value);
  return params;
}

export interface FilterChip {
  /** Which filter the chip removes: a filter key, or `metadata.KEY`. */
  id: string;
  label: string;
}

const CHIP_LABELS: Record<NumberKey | DateKey, string> = {
  pointsBalanceMin: 'Points ≥',
  pointsBalanceMax: 'Points ≤',
  totalSpendMin: 'Spend ≥',
  totalSpendMax: 'Spend ≤',
  createdAfter: 'Created after',
  createdBefore: 'Created before',
  updatedAfter: 'Updated after',
  updatedBefore: 'Updated before',
};

const cents = (value: number) => (value / 100).toFixed(2);

/** One chip per active filter (the search text and the sort are not chips). */
export function chipsOf(filters: CustomerFilters, listName?: (id: string) => string | undefined): FilterChip[] {
  const chips: FilterChip[] = [];
  if (filters.hasAgreedToMarketing !== undefined)
    chips.push({
      id: 'hasAgreedToMarketing',
      label: filters.hasAgreedToMarketing ? 'Marketing: opted in' : 'Marketing: opted out',
    });
  for (const key of NUMBER_KEYS) {
    const value = filters[key];
    if (value !== undefined)
      chips.push({ id: key, label: `${CHIP_LABELS[key]} ${key.startsWith('totalSpend') ? cents(value) : value}` });
  }
  for (const key of DATE_KEYS) {
    const value = filters[key];
    if (value !== undefined) chips.push({ id: key, label: `${CHIP_LABELS[key]} ${value.slice(0, 10)}` });
  }
  if (filters.gender) chips.push({ id: 'gender', label: `Gender: ${filters.gender.toLowerCase()}` });
  if (filters.listId) chips.push({ id: 'listId', label: `List: ${listName?.(filters.listId) ?? filters.listId}` });
  for (const [key, value] of Object.entries(filters.metadata ?? {}))
    chips.push({ id: `${METADATA_PREFIX}${key}`, label: `${key} = ${value}` });
  return chips;
}

/** The filters without the one a chip stands for. */
export function withoutChip(filters: CustomerFilters, id: string): CustomerFilters {
  const next: CustomerFilters = { ...filters };
  if (id.startsWith(METADATA_PREFIX)) {
    const metadata = { ...next.metadata };
    delete metadata[id.slice(METADATA_PREFIX.length)];
    if (Object.keys(metadata).length === 0) delete next.metadata;
    else next.metadata = metadata;
    return next;
  }
  delete next[id as keyof CustomerFilters];
  return next;
}

/** True when any filter besides the text and the sort is set. */
export function hasFilters(filters: CustomerFilters): boolean {
  return chipsOf(filters).length > 0;
}

/**
 * The SDK call for some filters: undefined means a plain listing (`customers.list`); a `q` shorter than the server's
 * minimum is dropped rather than sent to be refused.
 */
export function searchOptions(filters: CustomerFilters): SearchCustomersOptions | undefined {
  const q = filters.q !== undefined && filters.q.length >= MIN_QUERY_LENGTH ? filters.q : undefined;
  if (q === undefined && !hasFilters(filters)) return undefined;
  const { q: _q, metadata, ...rest } = filters;
  return { ...rest, ...(q === undefined ? {} : { q }), ...(metadata ? { metadata } : {}) };
}

/**
 * The filters as a segment's definition (POST .../customer-lists `filter`): the customer query's parameter names with
 * typed values, `metadata.KEY` for metadata; the sort is not part of a segment.
 */
export function segmentFilter(filters: CustomerFilters): Record<string, string | number | boolean> {
  const { sort: _sort, q, metadata, ...rest } = filters;
  const filter: Record<string, string | number | boolean> = { ...rest };
  if (q !== undefined && q.length >= MIN_QUERY_LENGTH) filter.q = q;
  for (const [key, value] of Object.entries(metadata ?? {})) filter[`${METADATA_PREFIX}${key}`] = value;
  return filter;
}

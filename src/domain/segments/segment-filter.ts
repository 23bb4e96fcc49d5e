import { AppError, badRequest } from '../../errors.js';
import type { SegmentRule } from '../../store/repositories/customer-query-repository.js';
import {
  FILTER_PARAMETERS,
  METADATA_FILTER_PREFIX,
  parseCustomerFilters,
  parseTextSearch,
} from '../customers/customer-input.js';

/** A segment's filter as the API takes and shows it: the list endpoint's filter parameters (and `q`) as JSON. */
export type SegmentFilter = Readonly<Record<string, string | number | boolean>>;

const PARAMETERS = new Set<string>(['q', ...FILTER_PARAMETERS]);

/** The JSON value as the query string would carry it, or undefined for a value no query string could. */
function asQueryValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

/** The error of the list endpoint's validation, with the field named as the body names it (`filter.gender`). */
function inFilter(error: unknown): unknown {
  if (!(error instanceof AppError) || error.code !== 'bad_request') return error;
  const details = (error.details ?? []).map((d) => ({ field: `filter.${d.field}`, message: d.message }));
  return badRequest(`Invalid ${details.map((d) => d.field).join(', ') || 'filter'}`, details);
}

/**
 * Validates a segment's filter with the list endpoint's own parsing (a 400 names `filter.<parameter>`); returns
 * its stored form (JSON, keys sorted) and the rule it stands for.
 */
export function parseSegmentFilter(filter: unknown): { stored: string; rule: Omit<SegmentRule, 'listId'> } {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw badRequest('Invalid filter', [{ field: 'filter', message: 'must be an object of filter parameters' }]);
  }
  const params: Record<string, string> = {};
  const given: Record<string, string | number | boolean> = {};
  for (const key of Object.keys(filter).sort()) {
    const value = (filter as Record<string, unknown>)[key];
    if (!PARAMETERS.has(key) && !key.startsWith(METADATA_FILTER_PREFIX)) {
      throw badRequest(`Invalid filter.${key}`, [
        { field: `filter.${key}`, message: 'is not a filter parameter of the customer list' },
      ]);
    }
    const text = asQueryValue(value);
    if (text === undefined) {
      throw badRequest(`Invalid filter.${key}`, [
        { field: `filter.${key}`, message: 'must be a string, a boolean or an integer' },
      ]);
    }
    params[key] = text;
    given[key] = value as string | number | boolean;
  }
  try {
    const { q, ...rest } = params;
    return {
      stored: JSON.stringify(given),
      rule: { search: q === undefined ? undefined : segmentSearch(q), filters: parseCustomerFilters(rest) },
    };
  } catch (error) {
    throw inFilter(error);
  }
}

// The default phone region only shapes the exact-phone rank of a search, which a segment has no use for.
const segmentSearch = (q: string) => parseTextSearch(q, 'AU');

const rules = new Map<string, Omit<SegmentRule, 'listId'>>();
const MAX_CACHED_RULES = 1000;

/** The rule of a stored filter (valid when stored), parsed once per process. */
export function storedSegmentRule(stored: string): Omit<SegmentRule, 'listId'> {
  let rule = rules.get(stored);
  if (!rule) {
    rule = parseSegmentFilter(JSON.parse(stored)).rule;
    if (rules.size >= MAX_CACHED_RULES) rules.clear();
    rules.set(stored, rule);
  }
  return rule;
}

export function storedSegmentFilter(stored: string): SegmentFilter {
  return JSON.parse(stored) as SegmentFilter;
}

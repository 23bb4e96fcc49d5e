import {
  CUSTOMER_FIELDS,
  CUSTOMER_STATISTICS,
  entriesOf,
  type CustomerFieldDefinition,
  type CustomerStatisticColumn,
} from '../../contract/customer-fields.js';
import type { Customer, CustomerStatistics, CustomerTiny } from '../../contract/customers.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { formatMillis, formatSeconds } from '../time.js';

// Row <-> API, derived from the field table (contract/customer-fields.ts). The hottest read path maps a page of
// 1000 rows, so the table is turned into a flat list of (name, column, convert) once, here.

type Value = string | number | boolean | Readonly<Record<string, string>>;
type StoredValue = CustomerRow[keyof CustomerRow];

interface ReadStep {
  name: string;
  column: keyof CustomerRow;
  /** Null when the value is absent from the response; kept nulls would break `omitted, never null`. */
  convert: (stored: NonNullable<StoredValue>) => Value;
}

const same = (stored: NonNullable<StoredValue>): Value => stored;
const toBoolean = (stored: NonNullable<StoredValue>): Value => stored === 1;
const toSeconds = (stored: NonNullable<StoredValue>): Value => formatSeconds(stored as number);
const toMillis = (stored: NonNullable<StoredValue>): Value => formatMillis(stored as number);
const toObject = (stored: NonNullable<StoredValue>): Value => JSON.parse(stored as string) as Value;

const CONVERT: Partial<Record<CustomerFieldDefinition['kind'], ReadStep['convert']>> = {
  boolean: toBoolean,
  timestamp: toSeconds,
  metadata: toObject,
};

function readStep(name: string, field: CustomerFieldDefinition): ReadStep {
  const convert = CONVERT[field.kind] ?? same;
  return { name, column: field.column as keyof CustomerRow, convert };
}

const byName = <T extends { name: string }>(steps: T[]) => steps.sort((a, b) => (a.name < b.name ? -1 : 1));

// Alphabetical, like the schemas, so payloads stored as JSON text read in the same order as responses.
const CUSTOMER_STEPS = byName(entriesOf(CUSTOMER_FIELDS).map(([name, field]) => readStep(name, field)));
const TINY_STEPS = byName(
  entriesOf(CUSTOMER_FIELDS)
    .filter(([, field]) => (field as CustomerFieldDefinition).tiny)
    .map(([name, field]) => readStep(name, field)),
);
const STATISTIC_STEPS: ReadStep[] = byName(
  entriesOf(CUSTOMER_STATISTICS).map(([name, statistic]) => ({
    name,
    column: statistic.column satisfies CustomerStatisticColumn & keyof CustomerRow,
    convert: statistic.kind === 'time' ? toMillis : same,
  })),
);

function mapRow(row: Partial<CustomerRow>, steps: readonly ReadStep[], into: Record<string, unknown>) {
  for (const step of steps) {
    const stored = row[step.column];
    if (stored !== null && stored !== undefined) into[step.name] = step.convert(stored);
  }
  return into;
}

export function customerRowToStatistics(row: CustomerRow): CustomerStatistics {
  return mapRow(row, STATISTIC_STEPS, {}) as CustomerStatistics;
}

/** The API shape of a stored customer; absent values are omitted, never null. */
export function customerRowToCustomer(row: CustomerRow): Customer {
  const customer: Record<string, unknown> = {};
  for (const step of CUSTOMER_STEPS) {
    // `statistics` sorts between phoneNumber and updatedAt.
    if (step.name === 'updatedAt') customer.statistics = customerRowToStatistics(row);
    const stored = row[step.column];
    if (stored !== null) customer[step.name] = step.convert(stored);
  }
  return customer as Customer;
}

/** The columns CustomerTiny is made of. */
export type CustomerTinyRow = Pick<CustomerRow, 'id' | 'email' | 'first_name' | 'last_name' | 'phone_number'>;

export function customerRowToTiny(row: CustomerTinyRow): CustomerTiny {
  return mapRow(row, TINY_STEPS, {}) as CustomerTiny;
}

/**
 * A strong ETag for the stored customer. updatedAt (epoch ms) changes with
 * every stored change of the customer, statistics included, and never repeats
 * within an organization.
 */
export function customerRowToETag(row: Pick<CustomerRow, 'organization_id' | 'id' | 'updated_at'>): string {
  // No hash needed: the id and the strictly increasing updatedAt already identify this version, and both are in
  // the body anyway. A plain string keeps the hottest read free of a SHA-256 per request.
  return `"${row.id}-${row.updated_at.toString(36)}"`;
}

/** Statistics of a customer nothing has happened to yet: counts 0, times absent. */
export const EMPTY_STATISTICS = Object.fromEntries(
  entriesOf(CUSTOMER_STATISTICS).map(([, statistic]) => [statistic.column, statistic.kind === 'count' ? 0 : null]),
) as Pick<CustomerRow, CustomerStatisticColumn>;

import type { TSchema } from '@sinclair/typebox';
import { CUSTOMER_FIELDS, CUSTOMER_STATISTICS, type CustomerFieldDefinition } from '../../contract/customer-fields.js';
import { CustomerSchema, CustomerStatisticsSchema } from '../../contract/customers.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { formatMillis, formatSeconds } from '../time.js';

// A stored customer straight to the JSON text of its response, without the API object in between: the same bytes
// as the route's schema serializer (fast-json-stringify) gives for customerRowToCustomer(row). A full sync reads
// every page once, so each of its customers is mapped and serialized exactly once; building the object and then
// walking it again was about half of a cold page's CPU (bench/ANALYSIS.md, "Full sync").
//
// Derived from the same tables as the schemas: properties in the order the schemas declare them (the order the
// routes' serializer keeps, src/http/serializer.ts), values absent when the column is NULL, strings escaped as
// JSON.stringify escapes them (which is what fast-json-stringify's string escape yields), metadata keys only where
// the schema's pattern accepts them.

type Stored = NonNullable<CustomerRow[keyof CustomerRow]>;
type Encode = (stored: Stored) => string;

interface Step {
  column: keyof CustomerRow;
  /** `"name":` and `,"name":`. */
  first: string;
  next: string;
  encode: Encode;
}

const asString: Encode = (stored) => JSON.stringify(stored as string);
const asBoolean: Encode = (stored) => (stored === 1 ? 'true' : 'false');
const asInteger: Encode = (stored) => `${stored as number}`;
const asSeconds: Encode = (stored) => `"${formatSeconds(stored as number)}"`;
const asMillis: Encode = (stored) => `"${formatMillis(stored as number)}"`;

const metadataPatterns = Object.keys(
  (CUSTOMER_FIELDS.metadata.read as TSchema & { patternProperties?: Record<string, unknown> }).patternProperties ?? {},
).map((pattern) => new RegExp(pattern));

/** Stored metadata (JSON text): keys in the parsed object's own order, as the serializer walks them. */
const asMetadata: Encode = (stored) => {
  const metadata = JSON.parse(stored as string) as Record<string, string>;
  let json = '{';
  for (const key in metadata) {
    if (!metadataPatterns.some((pattern) => pattern.test(key))) continue;
    if (json.length > 1) json += ',';
    json += `${JSON.stringify(key)}:${JSON.stringify(metadata[key])}`;
  }
  return `${json}}`;
};

const ENCODE: Partial<Record<CustomerFieldDefinition['kind'], Encode>> = {
  boolean: asBoolean,
  timestamp: asSeconds,
  metadata: asMetadata,
};

const declaredOrder = (schema: TSchema & { properties: Record<string, unknown> }) => Object.keys(schema.properties);

const step = (name: string, column: string, encode: Encode): Step => ({
  column: column as keyof CustomerRow,
  first: `${JSON.stringify(name)}:`,
  next: `,${JSON.stringify(name)}:`,
  encode,
});

const STATISTIC_STEPS: Step[] = declaredOrder(CustomerStatisticsSchema).map((name) => {
  const statistic = CUSTOMER_STATISTICS[name as keyof typeof CUSTOMER_STATISTICS];
  return step(name, statistic.column, statistic.kind === 'time' ? asMillis : asInteger);
});

/** Undefined stands for `statistics`, the nested object. */
const CUSTOMER_STEPS: (Step | undefined)[] = declaredOrder(CustomerSchema).map((name) => {
  if (name === 'statistics') return undefined;
  const field: CustomerFieldDefinition = CUSTOMER_FIELDS[name as keyof typeof CUSTOMER_FIELDS];
  return step(name, field.column, ENCODE[field.kind] ?? asString);
});
const STATISTICS_FIRST = '"statistics":';
const STATISTICS_NEXT = ',"statistics":';

function writeObject(row: CustomerRow, steps: readonly Step[]): string {
  let json = '{';
  let first = true;
  for (const s of steps) {
    const stored = row[s.column];
    if (stored === null || stored === undefined) continue;
    json += (first ? s.first : s.next) + s.encode(stored);
    first = false;
  }
  return `${json}}`;
}

/** The JSON text of the stored customer's API shape (`Customer`), byte for byte what the response serializer gives. */
export function customerRowToJson(row: CustomerRow): string {
  let json = '{';
  let first = true;
  for (const s of CUSTOMER_STEPS) {
    if (s === undefined) {
      json += (first ? STATISTICS_FIRST : STATISTICS_NEXT) + writeObject(row, STATISTIC_STEPS);
      first = false;
      continue;
    }
    const stored = row[s.column];
    if (stored === null || stored === undefined) continue;
    json += (first ? s.first : s.next) + s.encode(stored);
    first = false;
  }
  return `${json}}`;
}

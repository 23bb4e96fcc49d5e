import { FormatRegistry, TypeRegistry } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
import type { CountryCode } from 'libphonenumber-js/max';
import { AppError } from '../../errors.js';
import {
  CUSTOMER_FIELDS,
  CUSTOMER_ID_PATTERN,
  CUSTOMER_STATISTICS,
  entriesOf,
  type CustomerFieldDefinition,
  type CustomerStatisticColumn,
  type CustomerStatisticDefinition,
  type CustomerStatisticName,
} from '../../contract/customer-fields.js';
import { CreateCustomerBodySchema } from '../../contract/customers.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { CONTRACT_FORMATS, FORMAT_MESSAGES } from '../formats.js';
import { parseTimestamp } from '../time.js';
import { parseCreateCustomer, toProfile, type CustomerProfile } from './customer-input.js';

// Validation of import records, apart from the import itself so that worker threads load only this.

/** One record of an import file: a decoded value (CSV cells as an object), or the JSON text of an NDJSON line. */
export interface ImportRecord {
  /** Line of the file the record starts on, 1-based, for rejects. */
  line: number;
  value?: unknown;
  /** JSON text, decoded during validation (so that a validation worker does it). */
  text?: string;
  /** Why the record could not be decoded (wrong number of CSV cells); it is rejected with this reason. */
  error?: string;
}

export interface ImportRejection {
  line: number;
  reason: string;
}

/** Fields a record may carry: the Customer resource as the API and `export` write it. */
const RECORD_FIELDS = new Set<string>([...Object.keys(CUSTOMER_FIELDS), 'statistics']);
/** Fields the server assigns: a record may carry them (an export does), `id` matches, the others are ignored. */
const ASSIGNED_FIELDS = new Set<string>(
  entriesOf(CUSTOMER_FIELDS)
    .filter(([, field]) => (field as CustomerFieldDefinition).write === undefined)
    .map(([name]) => name),
);
type StatisticsPatch = Partial<Pick<CustomerRow, CustomerStatisticColumn>>;

const ID_PATTERN = new RegExp(CUSTOMER_ID_PATTERN);
// The contract's formats and string enums (Type.Unsafe, see StringEnum) as the server's Ajv checks them.
for (const [name, validate] of Object.entries(CONTRACT_FORMATS)) FormatRegistry.Set(name, validate);
TypeRegistry.Set<{ enum?: unknown[] }>(
  'Unsafe',
  (schema, value) => typeof value === 'string' && (schema.enum === undefined || schema.enum.includes(value)),
);
const createBodyCheck = TypeCompiler.Compile(CreateCustomerBodySchema);

/** A record that passed validation: the customer fields as stored, and how to find an existing customer. */
export interface ValidRecord {
  line: number;
  id: string | undefined;
  profile: CustomerProfile;
  createdAt: number | undefined;
  statistics: StatisticsPatch | undefined;
}

class Rejected extends Error {}

// As the HTTP body check (http/plugins/control-characters.ts) refuses for POST /customers: PostgreSQL cannot store
// NUL in text, and a stored lone surrogate reads back as U+FFFD, so a file's row holding one is a reject, not a
// failed batch (it was: the whole import failed on PostgreSQL).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\p{Cs}/u;

function checkText(field: string, value: unknown): void {
  if (typeof value === 'string') {
    const char = CONTROL_IN_TEXT.exec(value)?.[0];
    if (char !== undefined) {
      const code = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new Rejected(`${field}: must not contain the control character U+${code}`);
    }
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) {
      checkText(`${field}.${key}`, key);
      checkText(`${field}.${key}`, item);
    }
  }
}

function describeAppError(error: AppError): string {
  return error.details?.length ? error.details.map((d) => `${d.field}: ${d.message}`).join('; ') : error.message;
}

function parseStatistics(value: unknown): StatisticsPatch | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Rejected('statistics: must be an object');
  const patch: StatisticsPatch = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === null || raw === undefined) continue;
    if (!Object.hasOwn(CUSTOMER_STATISTICS, key)) throw new Rejected(`statistics.${key}: is not a statistic`);
    const statistic: CustomerStatisticDefinition = CUSTOMER_STATISTICS[key as CustomerStatisticName];
    // Spend comes from payments only; an export's spend columns read back in change nothing.
    if (statistic.fromPayments) continue;
    const column = statistic.column as CustomerStatisticColumn;
    if (statistic.kind === 'count') {
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw))
        throw new Rejected(`statistics.${key}: must be an integer`);
      if (!statistic.signed && raw < 0) throw new Rejected(`statistics.${key}: must not be negative`);
      patch[column] = raw;
    } else {
      const at = typeof raw === 'string' ? parseTimestamp(raw) : undefined;
      if (at === undefined) throw new Rejected(`statistics.${key}: must be an RFC 3339 timestamp`);
      patch[column] = at;
    }
  }
  return patch;
}

/**
 * Validates one record with the rules of `POST /customers` (the same TypeBox
 * schema, then the same normalization), plus `id` and `statistics`.
 */
export function validateImportRecord(value: unknown, line: number, region: CountryCode): ValidRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Rejected('the record is not an object');
  const record = value as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(record)) {
    if (!RECORD_FIELDS.has(key)) throw new Rejected(`${key}: is not a field of a customer`);
    if (field === null || field === undefined || key === 'statistics' || ASSIGNED_FIELDS.has(key)) continue;
    checkText(key, field);
    body[key] = field;
  }
  const id = record.id ?? undefined;
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
    throw new Rejected('id: must be 1 to 64 letters, digits, _ or -');
  }
  if (!createBodyCheck.Check(body)) {
    const first = createBodyCheck.Errors(body).First();
    const field = first?.path.replace(/^\//, '').replaceAll('/', '.') || 'record';
    const schema = first?.schema as { format?: string; enum?: string[] } | undefined;
    const message =
      first?.type === ValueErrorType.ObjectRequiredProperty
        ? 'is required'
        : first?.type === ValueErrorType.StringFormat && schema?.format !== undefined
          ? (FORMAT_MESSAGES[schema.format] ?? first.message.toLowerCase())
          : first?.type === ValueErrorType.Kind && schema?.enum !== undefined
            ? `must be one of ${schema.enum.join(', ')}`
            : (first?.message.toLowerCase() ?? 'is invalid');
    throw new Rejected(`${field}: ${message}`);
  }
  let parsed: ReturnType<typeof parseCreateCustomer>;
  try {
    parsed = parseCreateCustomer(body, region);
  } catch (error) {
    if (error instanceof AppError) throw new Rejected(describeAppError(error));
    throw error;
  }
  const { fields } = parsed;
  return {
    line,
    id,
    profile: toProfile(fields),
    createdAt: parsed.createdAt,
    statistics: parseStatistics(record.statistics),
  };
}

export interface ValidatedChunk {
  valid: ValidRecord[];
  rejected: ImportRejection[];
}

/** Decodes and validates a chunk of records; pure, so worker threads can run it. */
export function validateImportChunk(records: readonly ImportRecord[], region: CountryCode): ValidatedChunk {
  const valid: ValidRecord[] = [];
  const rejected: ImportRejection[] = [];
  for (const record of records) {
    try {
      if (record.error !== undefined) throw new Rejected(record.error);
      let value = record.value;
      if (record.text !== undefined) {
        try {
          value = JSON.parse(record.text);
        } catch (error) {
          throw new Rejected(`not valid JSON (${(error as Error).message})`);
        }
      }
      valid.push(validateImportRecord(value, record.line, region));
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      rejected.push({ line: record.line, reason: error.message });
    }
  }
  return { valid, rejected };
}

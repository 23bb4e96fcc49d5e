import type { CountryCode } from 'libphonenumber-js/max';
import {
  CUSTOMER_FIELDS,
  METADATA_LIMITS,
  entriesOf,
  type CustomerFieldDefinition,
  type CustomerFieldKind,
  type CustomerProfileColumn,
} from '../../contract/customer-fields.js';
import type { CreateCustomerBody, UpdateCustomerBody } from '../../contract/customers.js';
import { badRequest, type ErrorDetail } from '../../errors.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { isValidEmail, normalizeEmail, normalizePhoneNumber } from '../contact.js';
import { digitsOf, foldText, isPhoneLike } from '../../store/customer-search-text.js';
import type { CustomerFilters, CustomerTextSearch } from '../../store/repositories/customer-query-repository.js';
import { GENDERS } from '../../contract/customer-fields.js';
import { isCalendarDate, parseTimestamp } from '../time.js';

/** The profile as stored: every column a PATCH may change. */
export type CustomerProfile = Pick<CustomerRow, CustomerProfileColumn>;
/** Validated, normalized customer fields as stored: the part of the profile the input gave. */
export type CustomerFields = Partial<CustomerProfile>;

class FieldErrors {
  readonly details: ErrorDetail[] = [];
  add(field: string, message: string) {
    this.details.push({ field, message });
  }
  throwIfAny() {
    if (this.details.length > 0) {
      throw badRequest(`Invalid ${this.details.map((d) => d.field).join(', ')}`, this.details);
    }
  }
}

type Stored = string | number;
/** A stored value (and its search form, for fields with a `searchColumn`), or the reason the input is refused. */
type Normalized = { value: Stored; search?: string } | { error: string; field?: string };

/** Metadata as a PATCH gives it: null values remove keys. */
export type MetadataPatch = Readonly<Record<string, string | null>>;

/** The stored form of metadata: JSON with sorted keys (so equal metadata is equal text), NULL when empty. */
export function metadataColumn(metadata: Readonly<Record<string, string | null>>): string | null {
  const keys = Object.keys(metadata)
    .filter((key) => metadata[key] !== null)
    .sort();
  if (keys.length === 0) return null;
  return JSON.stringify(Object.fromEntries(keys.map((key) => [key, metadata[key]])));
}

export function parseMetadataColumn(stored: string | null): Record<string, string> {
  return stored === null ? {} : (JSON.parse(stored) as Record<string, string>);
}

/** The reason a metadata object (or patch) is refused, with the dotted field it names; undefined when it is fine. */
function metadataError(input: unknown, name: string): { error: string; field?: string } | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { error: 'must be an object' };
  for (const [key, value] of Object.entries(input)) {
    const field = `${name}.${key}`;
    if (key.length === 0 || key.length > METADATA_LIMITS.keyLength) {
      return { field, error: `keys must be 1 to ${METADATA_LIMITS.keyLength} characters` };
    }
    if (value === null) continue;
    if (typeof value !== 'string') return { field, error: 'must be a string (or null to remove it)' };
    if (value.length > METADATA_LIMITS.valueLength) {
      return { field, error: `must be at most ${METADATA_LIMITS.valueLength} characters` };
    }
  }
  return undefined;
}

function tooManyKeys(column: string | null): boolean {
  return Object.keys(parseMetadataColumn(column)).length > METADATA_LIMITS.keys;
}

/**
 * The stored metadata after a PATCH: the patch merged into the current metadata, a null value removing its key.
 * More than the limit of keys afterwards is a 400 naming `metadata`.
 */
export function mergeMetadata(current: string | null, patch: MetadataPatch): string | null {
  const merged = metadataColumn({ ...parseMetadataColumn(current), ...patch });
  if (tooManyKeys(merged)) {
    throw badRequest('Invalid metadata', [
      { field: 'metadata', message: `must not have more than ${METADATA_LIMITS.keys} keys` },
    ]);
  }
  return merged;
}

/** The write rules of each kind of field (contract/customer-fields.ts names the kind of each field). */
const NORMALIZE: Record<
  CustomerFieldKind,
  (input: unknown, field: CustomerFieldDefinition, region: CountryCode, name: string) => Normalized
> = {
  id: () => ({ error: 'is assigned by the server' }),
  name: (input) => {
    const trimmed = String(input).trim();
    return trimmed === '' ? { error: 'must not be blank' } : { value: trimmed };
  },
  email: (input) => {
    const trimmed = String(input).trim();
    return isValidEmail(trimmed)
      ? { value: trimmed, search: normalizeEmail(String(input)) }
      : { error: 'must be a valid email address' };
  },
  phone: (input, _field, region) => {
    const e164 = normalizePhoneNumber(String(input), region);
    return e164 === undefined ? { error: 'must be a valid phone number' } : { value: e164 };
  },
  date: (input) => {
    const date = String(input);
    if (!isCalendarDate(date)) return { error: 'must be a date in YYYY-MM-DD format' };
    if (date > new Date().toISOString().slice(0, 10)) return { error: 'must not be in the future' };
    return { value: date };
  },
  enum: (input, field) => {
    const values = field.values ?? [];
    return values.includes(String(input)) ? { value: String(input) } : { error: `must be one of ${values.join(', ')}` };
  },
  boolean: (input) => ({ value: input === true ? 1 : 0 }),
  timestamp: (input) => {
    const at = parseTimestamp(String(input));
    if (at === undefined) return { error: 'must be an RFC 3339 timestamp such as 2021-10-20T14:51:16Z' };
    if (at > Date.now() + 60_000) return { error: 'must not be in the future' };
    if (at < 0) return { error: 'must not be before 1970' };
    return { value: at };
  },
  // The JSON of the object as given, null values kept: a create stores it (as metadataColumn), a PATCH merges it.
  metadata: (input, _field, _region, name) =>
    metadataError(input, name) ?? { value: JSON.stringify(input as MetadataPatch) },
};

/** Fields the input may carry, in table order (so errors list in that order). */
const WRITABLE = entriesOf(CUSTOMER_FIELDS)
  .map(([name, field]) => [name, field as CustomerFieldDefinition] as const)
  .filter(([, field]) => field.write !== undefined);

/** Validates and normalizes the given fields into their columns; `null` (PATCH only) clears a field. */
function normalizeFields(
  input: Readonly<Record<string, unknown>>,
  region: CountryCode,
  errors: FieldErrors,
): Partial<Record<string, Stored | null>> {
  const columns: Partial<Record<string, Stored | null>> = {};
  for (const [name, field] of WRITABLE) {
    const raw = input[name];
    if (raw === undefined) continue;
    if (raw === null) {
      columns[field.column] = null;
      if (field.searchColumn) columns[field.searchColumn] = null;
      continue;
    }
    const normalized = NORMALIZE[field.kind](raw, field, region, name);
    if ('error' in normalized) {
      errors.add(normalized.field ?? name, normalized.error);
      continue;
    }
    columns[field.column] = normalized.value;
    if (field.searchColumn) columns[field.searchColumn] = normalized.search ?? null;
  }
  return columns;
}

export function parseCreateCustomer(
  input: CreateCustomerBody,
  region: CountryCode,
): { fields: CustomerFields & Pick<CustomerProfile, 'first_name' | 'last_name'>; createdAt: number | undefined } {
  const errors = new FieldErrors();
  const { created_at: createdAt, ...fields } = normalizeFields(input, region, errors);
  if (typeof fields.metadata === 'string') {
    fields.metadata = metadataColumn(JSON.parse(fields.metadata) as MetadataPatch);
    if (tooManyKeys(fields.metadata)) errors.add('metadata', `must not have more than ${METADATA_LIMITS.keys} keys`);
  }
  errors.throwIfAny();
  return {
    fields: fields as CustomerFields & Pick<CustomerProfile, 'first_name' | 'last_name'>,
    createdAt: createdAt as number | undefined,
  };
}

/**
 * The validated fields of a PATCH; metadata, when given as an object, is returned apart as the patch to merge
 * into the stored metadata (mergeMetadata), since the result depends on the stored row.
 */
export function parseUpdateCustomer(
  input: UpdateCustomerBody,
  region: CountryCode,
): { fields: CustomerFields; metadataPatch: MetadataPatch | undefined } {
  const errors = new FieldErrors();
  const { metadata, ...fields } = normalizeFields(input, region, errors);
  errors.throwIfAny();
  if (typeof metadata === 'string') {
    return { fields: fields as CustomerFields, metadataPatch: JSON.parse(metadata) as MetadataPatch };
  }
  return {
    fields: (metadata === null ? { ...fields, metadata: null } : fields) as CustomerFields,
    metadataPatch: undefined,
  };
}

/** The whole stored profile from validated fields: what the input did not give is absent (null). */
export function toProfile(fields: CustomerFields & Pick<CustomerProfile, 'first_name' | 'last_name'>): CustomerProfile {
  return { ...EMPTY_PROFILE, ...fields };
}

const EMPTY_PROFILE = Object.fromEntries(
  WRITABLE.filter(([, field]) => !field.createOnly).flatMap(([, field]) =>
    field.searchColumn
      ? [
          [field.column, null],
          [field.searchColumn, null],
        ]
      : [[field.column, null]],
  ),
) as Omit<CustomerProfile, 'first_name' | 'last_name'>;

export type SearchFilter = { kind: 'none'; value: '' } | { kind: 'email' | 'phone'; value: string };

export function parseSearch(
  email: string | undefined,
  phoneNumber: string | undefined,
  region: CountryCode,
): SearchFilter {
  if (email !== undefined && phoneNumber !== undefined) {
    throw badRequest('Search by email or by phoneNumber, not both', [
      { field: 'phoneNumber', message: 'cannot be combined with email' },
    ]);
  }
  if (email !== undefined) {
    if (!isValidEmail(email.trim()))
      throw badRequest('email must be a valid email address', [
        { field: 'email', message: 'must be a valid email address' },
      ]);
    return { kind: 'email', value: normalizeEmail(email) };
  }
  if (phoneNumber !== undefined) {
    const e164 = normalizePhoneNumber(phoneNumber, region);
    if (e164 === undefined) {
      throw badRequest('phoneNumber must be a valid phone number', [
        { field: 'phoneNumber', message: 'must be a valid phone number' },
      ]);
    }
    return { kind: 'phone', value: e164 };
  }
  return { kind: 'none', value: '' };
}

/** The shortest `q`: one character would match most of an organization and no index serves it. */
export const MIN_QUERY_LENGTH = 2;

/**
 * `q` in the form the search index holds (folded; its digits when it reads as a phone number), or a 400 naming
 * `q` when it is shorter than 2 characters.
 */
export function parseTextSearch(q: string, region: CountryCode): CustomerTextSearch {
  const text = foldText(q);
  if ([...text].length < MIN_QUERY_LENGTH) {
    throw badRequest(`q must be at least ${MIN_QUERY_LENGTH} characters`, [
      { field: 'q', message: `must be at least ${MIN_QUERY_LENGTH} characters (not counting surrounding spaces)` },
    ]);
  }
  return {
    text,
    digits: isPhoneLike(q) ? digitsOf(q) : undefined,
    exactEmail: normalizeEmail(q),
    exactPhone: isPhoneLike(q) ? normalizePhoneNumber(q, region) : undefined,
  };
}

/** The filter parameters of the customer list (and of a segment's filter), besides `metadata.KEY`. */
export const FILTER_PARAMETERS = [
  'hasAgreedToMarketing',
  'createdAfter',
  'createdBefore',
  'updatedAfter',
  'updatedBefore',
  'pointsBalanceMin',
  'pointsBalanceMax',
  'totalSpendMin',
  'totalSpendMax',
  'gender',
  'listId',
] as const;
export type FilterParameter = (typeof FILTER_PARAMETERS)[number];
export const METADATA_FILTER_PREFIX = 'metadata.';

const INTEGER = /^-?\d{1,15}$/;

function invalidParameter(field: string, message: string) {
  return badRequest(`Invalid ${field}`, [{ field, message }]);
}

/**
 * The filters among the query parameters, validated (a 400 names the parameter). Times compare at the second, as
 * responses show them: `createdAfter=T` keeps the customers whose shown createdAt is later than T.
 */
export function parseCustomerFilters(params: Readonly<Record<string, unknown>>): CustomerFilters {
  const filters: { -readonly [K in keyof CustomerFilters]: CustomerFilters[K] } = {};
  const text = (name: string): string | undefined => {
    const raw = params[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw invalidParameter(name, 'must be given once');
    return raw;
  };
  const marketing = text('hasAgreedToMarketing');
  if (marketing !== undefined) {
    if (marketing !== 'true' && marketing !== 'false')
      throw invalidParameter('hasAgreedToMarketing', 'must be true or false');
    filters.hasAgreedToMarketing = marketing === 'true';
  }
  const time = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const at = parseTimestamp(raw);
    if (at === undefined) throw invalidParameter(name, 'must be an RFC 3339 timestamp such as 2021-10-20T14:51:16Z');
    return at;
  };
  const second = 1000;
  const after = (at: number | undefined) => (at === undefined ? undefined : Math.floor(at / second) * second + second);
  const before = (at: number | undefined) => (at === undefined ? undefined : Math.ceil(at / second) * second);
  filters.createdFrom = after(time('createdAfter'));
  filters.createdUntil = before(time('createdBefore'));
  filters.updatedFrom = after(time('updatedAfter'));
  filters.updatedUntil = before(time('updatedBefore'));
  const integer = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    if (!INTEGER.test(raw)) throw invalidParameter(name, 'must be an integer');
    return Number(raw);
  };
  filters.pointsBalanceMin = integer('pointsBalanceMin');
  filters.pointsBalanceMax = integer('pointsBalanceMax');
  filters.totalSpendMin = integer('totalSpendMin');
  filters.totalSpendMax = integer('totalSpendMax');
  const gender = text('gender');
  if (gender !== undefined) {
    if (!(GENDERS as readonly string[]).includes(gender))
      throw invalidParameter('gender', `must be one of ${GENDERS.join(', ')}`);
    filters.gender = gender;
  }
  const listId = text('listId');
  if (listId !== undefined) {
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(listId)) throw invalidParameter('listId', 'must be a customer list id');
    filters.listId = listId;
  }
  const metadata: [string, string][] = [];
  for (const name of Object.keys(params).sort()) {
    if (!name.startsWith(METADATA_FILTER_PREFIX)) continue;
    const key = name.slice(METADATA_FILTER_PREFIX.length);
    const value = text(name)!;
    if (key.length === 0 || key.length > METADATA_LIMITS.keyLength) {
      throw invalidParameter(name, `the key must be 1 to ${METADATA_LIMITS.keyLength} characters`);
    }
    if (value.length > METADATA_LIMITS.valueLength) {
      throw invalidParameter(name, `must be at most ${METADATA_LIMITS.valueLength} characters`);
    }
    metadata.push([key, value]);
  }
  if (metadata.length > 0) filters.metadata = metadata;
  for (const key of Object.keys(filters) as (keyof CustomerFilters)[])
    if (filters[key] === undefined) delete filters[key];
  return filters;
}

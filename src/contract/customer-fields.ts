import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from './common.js';

/**
 * The customer's fields, defined once. Everything else derives from this
 * table: the Customer, CustomerTiny, CreateCustomer and UpdateCustomer
 * schemas (contract/customers.ts), the row <-> API mapping and the input
 * validation (domain/customers), import matching and comparison, the CSV
 * columns of `import`/`export`, and the rows the demo and bench generators
 * build. Adding a field is: an entry here, a migration adding its column to
 * store/schema.ts, and tests.
 *
 * The table is in export order (the CSV column order); the response schemas
 * list properties alphabetically, as the LOKE reference does.
 */

/**
 * How a field is checked and normalized on write and converted on read; the
 * rules of each kind live in domain/customers/customer-input.ts
 * (validation) and customer-mapper.ts (row -> API).
 */
export type CustomerFieldKind =
  /** Server-assigned text id. */
  | 'id'
  /** Trimmed, must not be blank. */
  | 'name'
  /** A valid address; also stored lower-cased in `searchColumn` for lookups. */
  | 'email'
  /** A valid number, stored as E.164 (national numbers read in DEFAULT_PHONE_REGION). */
  | 'phone'
  /** A YYYY-MM-DD calendar date, not in the future. */
  | 'date'
  /** One of `values`. */
  | 'enum'
  /** Stored as 0/1. */
  | 'boolean'
  /** RFC 3339 in the API, epoch milliseconds in the row, seconds precision on read. */
  | 'timestamp'
  /**
   * A flat object of string keys to string values, stored as JSON text with its keys sorted (NULL when empty);
   * PATCH merges it into the stored one (a key set to null removes it).
   */
  | 'metadata';

export interface CustomerFieldDefinition {
  /** Column of the `customers` table. */
  readonly column: string;
  /** A second column the write fills from the same value (the normalized email that searches use). */
  readonly searchColumn?: string;
  readonly kind: CustomerFieldKind;
  readonly values?: readonly string[];
  /** Schema of the field in responses (Customer). */
  readonly read: TSchema;
  /** Schema of the field in request bodies; absent for server-assigned fields. */
  readonly write?: TSchema;
  /** Schema of the field in PATCH bodies when it is not `write` or null (metadata: values may be null). */
  readonly patch?: TSchema;
  /** Present in every Customer and required on create (and never null on update). */
  readonly required?: true;
  /** Accepted on create only (not by PATCH). */
  readonly createOnly?: true;
  /** Part of CustomerTiny, the customer as events about lists and statistics mention them. */
  readonly tiny?: true;
  /** An import writes the customer only when one of these (or a statistic) differs from the stored row. */
  readonly comparedOnImport?: true;
}

function defineFields<const T extends Record<string, CustomerFieldDefinition>>(fields: T): T {
  return fields;
}

const Timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2021-10-20T14:51:16Z'] });
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });

export const GENDERS = ['MALE', 'FEMALE', 'OTHER'] as const;

/** Limits of a customer's metadata (Stripe's). */
export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;
const MetadataValue = Type.String({ maxLength: METADATA_LIMITS.valueLength });
const metadataOptions = {
  maxProperties: METADATA_LIMITS.keys,
  propertyNames: { minLength: 1, maxLength: METADATA_LIMITS.keyLength },
};

/** The ids a customer can have: ours are ULIDs; an import may bring its own (letters, digits, _ and -, up to 64). */
export const CUSTOMER_ID_PATTERN = '^[0-9A-Za-z_-]{1,64}$';

export const CUSTOMER_FIELDS = defineFields({
  id: {
    column: 'id',
    kind: 'id',
    read: Type.String({ description: 'Unique ID of the Customer' }),
    required: true,
    tiny: true,
  },
  firstName: {
    column: 'first_name',
    kind: 'name',
    read: Type.String({ description: 'Customer first name or given name' }),
    write: Name('Customer first name or given name'),
    required: true,
    tiny: true,
    comparedOnImport: true,
  },
  lastName: {
    column: 'last_name',
    kind: 'name',
    read: Type.String({ description: 'Customer last name or surname' }),
    write: Name('Customer last name or surname'),
    required: true,
    tiny: true,
    comparedOnImport: true,
  },
  email: {
    column: 'email',
    searchColumn: 'email_normalized',
    kind: 'email',
    read: Type.String({ format: 'email', description: 'The Customers email address' }),
    write: Type.String({ format: 'email', maxLength: 254, description: 'Email address; searched case-insensitively.' }),
    tiny: true,
    comparedOnImport: true,
  },
  phoneNumber: {
    column: 'phone_number',
    kind: 'phone',
    read: Type.String({ description: 'The Customers mobile phone number' }),
    write: Type.String({
      maxLength: 32,
      description: 'Phone number; national numbers are read in DEFAULT_PHONE_REGION and stored as E.164.',
    }),
    tiny: true,
    comparedOnImport: true,
  },
  dob: {
    column: 'dob',
    kind: 'date',
    read: Type.String({ format: 'date', description: 'The Customers date of birth in YYYY-MM-DD format' }),
    write: Type.String({ format: 'date', description: 'Date of birth, YYYY-MM-DD, not in the future.' }),
    comparedOnImport: true,
  },
  gender: {
    column: 'gender',
    kind: 'enum',
    values: GENDERS,
    read: StringEnum(GENDERS, { description: 'The Customers gender' }),
    write: StringEnum(GENDERS, { description: 'MALE, FEMALE or OTHER.' }),
    comparedOnImport: true,
  },
  hasAgreedToMarketing: {
    column: 'has_agreed_to_marketing',
    kind: 'boolean',
    read: Type.Boolean({ description: 'If the Customer has agreed to marketing' }),
    write: Type.Boolean(),
    comparedOnImport: true,
  },
  createdAt: {
    column: 'created_at',
    kind: 'timestamp',
    read: Timestamp('The date and time that the Customer was created'),
    write: Type.String({
      format: 'date-time',
      description: 'RFC 3339 creation time, for imports from another system, not in the future; defaults to now.',
    }),
    createOnly: true,
    comparedOnImport: true,
  },
  updatedAt: {
    column: 'updated_at',
    kind: 'timestamp',
    read: Timestamp('The date and time that the Customer was last updated'),
  },
  metadata: {
    column: 'metadata',
    kind: 'metadata',
    read: Type.Record(Type.String(), Type.String(), {
      description: 'Your own attributes of the Customer: string keys to string values; absent when there are none',
      'x-extension': true,
    }),
    write: Type.Record(Type.String(), MetadataValue, {
      ...metadataOptions,
      description: `Up to ${METADATA_LIMITS.keys} keys of 1 to ${METADATA_LIMITS.keyLength} characters, values up to ${METADATA_LIMITS.valueLength} characters.`,
    }),
    patch: Type.Record(Type.String(), Type.Union([MetadataValue, Type.Null()]), {
      propertyNames: metadataOptions.propertyNames,
      description:
        'Merged into the stored metadata: a key with a string sets it, a key with null removes it; null (instead of an object) removes them all.',
    }),
    comparedOnImport: true,
  },
});

export type CustomerFieldName = keyof typeof CUSTOMER_FIELDS;
export type CustomerField = (typeof CUSTOMER_FIELDS)[CustomerFieldName];
type Fields = typeof CUSTOMER_FIELDS;
type ColumnsOf<F> = (F extends { column: infer C } ? C : never) | (F extends { searchColumn: infer C } ? C : never);
/** Every column the customer fields fill. */
export type CustomerFieldColumn = ColumnsOf<Fields[keyof Fields]>;
/** The columns a PATCH may change: the profile. */
export type CustomerProfileColumn = ColumnsOf<
  {
    [K in keyof Fields]: Fields[K] extends { write: TSchema }
      ? Fields[K] extends { createOnly: true }
        ? never
        : Fields[K]
      : never;
  }[keyof Fields]
>;

export interface CustomerStatisticDefinition {
  readonly column: string;
  /** `count`: an integer, never absent; `time`: RFC 3339 with milliseconds, absent until it first happens. */
  readonly kind: 'count' | 'time';
  /** A count that may go below zero (a balance); other counts are totals. */
  readonly signed?: true;
  /**
   * Derived from the organization's payments, the one source of spend: an import ignores values given for it (bring
   * spend in as payments, `import --type payments`).
   */
  readonly fromPayments?: true;
  readonly description: string;
}

function defineStatistics<const T extends Record<string, CustomerStatisticDefinition>>(statistics: T): T {
  return statistics;
}

/** The customer's statistics, in export order; each is a column of `customers`, kept by the points ledger or payments. */
export const CUSTOMER_STATISTICS = defineStatistics({
  pointsBalance: {
    column: 'points_balance',
    kind: 'count',
    signed: true,
    description: 'The Customers current points balance',
  },
  totalPointsEarned: {
    column: 'total_points_earned',
    kind: 'count',
    description: 'The total points earned over the Customers lifetime',
  },
  totalPointsRedeemed: {
    column: 'total_points_redeemed',
    kind: 'count',
    description: 'Total points redeemed over lifetime of the Customer',
  },
  totalSpend: {
    column: 'total_spend',
    kind: 'count',
    fromPayments: true,
    description: 'The total spend amount of the Customer, in the lowest common denominator e.g. cents',
  },
  lastPointsEarnedAt: {
    column: 'last_points_earned_at',
    kind: 'time',
    description: 'Date and time of last points earned by the Customer',
  },
  lastPointsRedeemedAt: {
    column: 'last_points_redeemed_at',
    kind: 'time',
    description: 'Date and time of last redeemed points by the Customer',
  },
  lastSpentAt: {
    column: 'last_spent_at',
    kind: 'time',
    fromPayments: true,
    description: 'The date of the Customers last spend',
  },
});

export type CustomerStatisticName = keyof typeof CUSTOMER_STATISTICS;
export type CustomerStatisticColumn = (typeof CUSTOMER_STATISTICS)[CustomerStatisticName]['column'];

/** Typed `Object.entries` of a definition table, in its order. */
export function entriesOf<T extends object>(table: T): [keyof T & string, T[keyof T]][] {
  return Object.entries(table) as [keyof T & string, T[keyof T]][];
}

/** The fields that are one CSV column each: all but metadata, which is a `metadata.<key>` column per key. */
export const CUSTOMER_CSV_FIELDS = (Object.keys(CUSTOMER_FIELDS) as CustomerFieldName[]).filter(
  (name) => CUSTOMER_FIELDS[name].kind !== 'metadata',
);

/**
 * The fixed columns of the CSV files `import` reads and `export` writes: the fields, then `statistics.<name>`;
 * after them, a `metadata.<key>` column for each metadata key.
 */
export const CUSTOMER_CSV_COLUMNS: readonly string[] = [
  ...CUSTOMER_CSV_FIELDS,
  ...Object.keys(CUSTOMER_STATISTICS).map((name) => `statistics.${name}`),
];
export const METADATA_CSV_PREFIX = 'metadata.';

import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { GENDERS, METADATA_LIMITS } from './customer-fields.js';

const LARGEST_BOUND = 999_999_999_999_999;
const bound = (description: string) =>
  Type.Optional(Type.Integer({ minimum: -LARGEST_BOUND, maximum: LARGEST_BOUND, description }));
const time = (description: string) => Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description }));

/**
 * A segment's rule: the customer list endpoint's filter parameters (and `q`), as JSON, with the same meaning and
 * validation; `metadata.KEY` properties match the exact value of a metadata key. All given ones must hold.
 */
export const SegmentFilterSchema = Type.Object(
  {
    createdAfter: time('createdAt (to the second, as shown) is later'),
    createdBefore: time('createdAt (to the second, as shown) is earlier'),
    gender: Type.Optional(StringEnum(GENDERS, { description: 'MALE, FEMALE or OTHER' })),
    hasAgreedToMarketing: Type.Optional(
      Type.Boolean({ description: 'Customers who have (or have not) agreed to marketing' }),
    ),
    listId: Type.Optional(
      Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$', description: 'Members of this (other) customer list' }),
    ),
    pointsBalanceMax: bound('statistics.pointsBalance at most this'),
    pointsBalanceMin: bound('statistics.pointsBalance at least this'),
    q: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 200,
        description: 'Partial search: first name, last name, full name, email or phone number contain the text',
      }),
    ),
    totalSpendMax: bound('statistics.totalSpend (cents) at most this'),
    totalSpendMin: bound('statistics.totalSpend (cents) at least this'),
    updatedAfter: time('updatedAt (to the second, as shown) is later'),
    updatedBefore: time('updatedAt (to the second, as shown) is earlier'),
  },
  {
    $id: 'SegmentFilter',
    title: 'SegmentFilter',
    description:
      "Extension: a segment's filter, the customer list endpoint's filter parameters as JSON; `metadata.KEY` properties match the exact value of a metadata key",
    additionalProperties: false,
    patternProperties: {
      [`^metadata\\..{1,${METADATA_LIMITS.keyLength}}$`]: Type.String({ maxLength: METADATA_LIMITS.valueLength }),
    },
    'x-extension': true,
  },
);
/** The filter with its `metadata.KEY` properties, which the schema admits by pattern. */
export type SegmentFilter = Static<typeof SegmentFilterSchema> & { [key: `metadata.${string}`]: string };

export const SEGMENT_STATUSES = ['building', 'ready'] as const;

// Properties in LOKE's (alphabetical) order: responses serialize in schema order.
export const CustomerListSchema = Type.Object(
  {
    createdAt: Type.String({ description: 'When the list was created', examples: ['2021-10-20T14:51:16Z'] }),
    filter: Type.Optional(
      Type.Ref(SegmentFilterSchema, {
        description: 'Extension, segments only: the filter whose matching customers are the members',
      }),
    ),
    id: Type.String({ description: 'Unique ID of the customer list' }),
    memberCount: Type.Integer({ description: 'How many customers are members of the list' }),
    name: Type.String({ description: 'The name of the customer list' }),
    status: Type.Optional(
      StringEnum(SEGMENT_STATUSES, {
        description:
          'Extension, segments only: `building` while the segment is being filled in the background after its creation or a change of its filter, then `ready`',
      }),
    ),
  },
  { $id: 'CustomerList', title: 'CustomerList', description: 'A customer list' },
);
export type CustomerList = Static<typeof CustomerListSchema>;

export const CustomerListMemberSchema = Type.Object(
  {
    addedAt: Type.String({
      description: 'When the customer was added to the list',
      examples: ['2021-10-20T14:51:16Z'],
    }),
    email: Type.Optional(Type.String({ description: 'The Customers email address' })),
    firstName: Type.String({ description: 'Customer first name or given name' }),
    id: Type.String({ description: 'Unique ID of the Customer' }),
    lastName: Type.String({ description: 'Customer last name or surname' }),
    phoneNumber: Type.Optional(Type.String({ description: 'The Customers mobile phone number' })),
  },
  { $id: 'CustomerListMember', title: 'CustomerListMember', description: 'A member of a customer list' },
);
export type CustomerListMember = Static<typeof CustomerListMemberSchema>;

export const CustomerListBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'The name of the customer list' }),
    filter: Type.Optional(
      Type.Ref(SegmentFilterSchema, {
        description:
          'Extension: makes the list a segment, whose members are the customers matching the filter, kept exact at every write. On PUT, changes the filter of a segment (the segment is built again)',
      }),
    ),
  },
  { additionalProperties: false, $id: 'CustomerListBody', title: 'CustomerListBody' },
);
export type CustomerListBody = Static<typeof CustomerListBodySchema>;
